// File: engine/config/admission_settings.h
//
// Issue 15's EngineSettings (admission and connection lifetime): defaults, checks and the close
// code a drain sends. Pure logic, used by compile.cc.
#pragma once

#include "absl/status/status.h"
#include "engine/config/snapshot.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

// The shortest idle timeout or lifetime accepted (a shorter one would only churn connections).
inline constexpr uint32_t kMinConnectionTimerMs = 100;

// Copies and checks issue 15's settings (connection quota per address, idle timeout, lifetime,
// drain close code, handshake rates, accept budget) into `out` (0 keeps the default); an error
// names the field.
absl::Status CompileAdmissionSettings(const v1::EngineSettings& in, Settings* out);

// Checks one of the per-API timers (Api.idle_timeout_ms, Api.max_lifetime_ms): 0 or at least
// kMinConnectionTimerMs. `path` names the field in the error.
absl::Status CheckConnectionTimer(const char* path, uint32_t ms);

// Whether `code` may be sent as a drain's close code: 1001, 1012, 1013, 1014 or 4000-4999.
bool ValidDrainCloseCode(uint32_t code);

}  // namespace wsgate::engine::config
