// File: engine/config/admission_settings.cc
#include "engine/config/admission_settings.h"

#include "absl/strings/str_cat.h"

namespace wsgate::engine::config {

bool ValidDrainCloseCode(uint32_t code) {
  return code == 1001 || (code >= 1012 && code <= 1014) || (code >= 4000 && code <= 4999);
}

absl::Status CheckConnectionTimer(const char* path, uint32_t ms) {
  if (ms != 0 && ms < kMinConnectionTimerMs)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": must be 0 (none) or at least ", kMinConnectionTimerMs, " ms"));
  return absl::OkStatus();
}

absl::Status CompileAdmissionSettings(const v1::EngineSettings& in, Settings* out) {
  out->max_connections_per_address = in.max_connections_per_address();
  if (absl::Status s = CheckConnectionTimer("settings.idle_timeout_ms", in.idle_timeout_ms()); !s.ok()) return s;
  if (absl::Status s = CheckConnectionTimer("settings.max_lifetime_ms", in.max_lifetime_ms()); !s.ok()) return s;
  out->idle_timeout_ms = in.idle_timeout_ms();
  out->max_lifetime_ms = in.max_lifetime_ms();
  if (in.drain_close_code() != 0) {
    if (!ValidDrainCloseCode(in.drain_close_code()))
      return absl::InvalidArgumentError(absl::StrCat("settings.drain_close_code: ", in.drain_close_code(),
                                                     " is not allowed; use 1001, 1012, 1013, 1014 or 4000-4999"));
    out->drain_close_code = static_cast<uint16_t>(in.drain_close_code());
  }
  out->handshake_rate_per_address = in.handshake_rate_per_address();
  out->handshake_burst_per_address = in.handshake_burst_per_address();
  out->handshake_rate_per_api = in.handshake_rate_per_api();
  out->handshake_burst_per_api = in.handshake_burst_per_api();
  if (in.accept_budget() > 65536) return absl::InvalidArgumentError("settings.accept_budget: at most 65536");
  if (in.accept_budget() != 0) out->accept_budget = in.accept_budget();
  const v1::OverloadSettings& o = in.overload();
  if (o.soft_percent()) out->overload_soft_percent = o.soft_percent();
  if (o.hard_percent()) out->overload_hard_percent = o.hard_percent();
  if (o.retry_after_s()) out->overload_retry_after_s = o.retry_after_s();
  if (out->overload_hard_percent > 100 || out->overload_soft_percent >= out->overload_hard_percent)
    return absl::InvalidArgumentError(absl::StrCat("settings.overload: soft_percent (", out->overload_soft_percent,
                                                   ") must be below hard_percent (", out->overload_hard_percent,
                                                   "), which is at most 100"));
  if (out->overload_retry_after_s > 3600)
    return absl::InvalidArgumentError("settings.overload.retry_after_s: at most 3600");
  return absl::OkStatus();
}

}  // namespace wsgate::engine::config
