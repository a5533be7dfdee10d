// File: engine/config/settings.h
//
// EngineSettings → Settings (issue 12): every field's default (0 in the proto) and allowed range,
// checked at compile with INVALID_ARGUMENT naming the field and the range, e.g.
//   settings.ping_interval_ms: 50 is out of range [1000, 3600000]
// The table here is the single source of the ranges; docs/configuration.md lists them.
//
// Which settings reach live connections when a new snapshot arrives: max_message_bytes (the
// relay's frame scanners), ping_interval_ms, pong_timeout_ms, queue_bytes and close_timeout_ms
// (read from the shard's current snapshot); max_connections (checked at accept). The others
// (max_header_bytes, handshake_timeout_ms, upstream_connect_timeout_ms) apply to connections
// accepted after it; drain_timeout_ms is taken as is (see its comment in config.proto).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

struct Settings;

// Fills `out` (which holds the defaults) from `in`; a zero field keeps its default.
absl::Status CompileSettings(const v1::EngineSettings& in, Settings* out);

// Per-API and per-endpoint overrides (0 = the engine-wide setting): INVALID_ARGUMENT naming
// `field` when out of the same range as the engine-wide setting.
absl::Status CheckMaxMessageBytes(const std::string& field, uint64_t value);
absl::Status CheckConnectTimeoutMs(const std::string& field, uint64_t value);

}  // namespace wsgate::engine::config
