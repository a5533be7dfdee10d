// File: engine/config/settings.cc
#include "engine/config/settings.h"

#include "absl/strings/str_cat.h"
#include "engine/config/snapshot.h"

namespace wsgate::engine::config {
namespace {

struct Range {
  uint64_t min, max;
};

constexpr Range kMaxHeaderBytes{1024, 1 << 20};
constexpr Range kTimeoutMs{100, 600000};
constexpr Range kMessageBytes{128, 1ull << 30};
constexpr Range kQueueBytes{16 * 1024, 1ull << 30};
constexpr Range kKeepaliveMs{1000, 3600000};
constexpr Range kMaxConnections{1, 10000000};

absl::Status Check(const std::string& field, uint64_t value, Range r) {
  if (value >= r.min && value <= r.max) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", value, " is out of range [", r.min, ", ", r.max, "]"));
}

// A set field (non-zero) is range-checked and replaces the default.
template <typename T>
absl::Status Take(const char* name, uint64_t value, Range r, T* out) {
  if (value == 0) return absl::OkStatus();
  if (absl::Status s = Check(absl::StrCat("settings.", name), value, r); !s.ok()) return s;
  *out = static_cast<T>(value);
  return absl::OkStatus();
}

}  // namespace

absl::Status CompileSettings(const v1::EngineSettings& in, Settings* out) {
  for (absl::Status s : {
           Take("max_header_bytes", in.max_header_bytes(), kMaxHeaderBytes, &out->max_header_bytes),
           Take("handshake_timeout_ms", in.handshake_timeout_ms(), kTimeoutMs, &out->handshake_timeout_ms),
           Take("upstream_connect_timeout_ms", in.upstream_connect_timeout_ms(), kTimeoutMs,
                &out->upstream_connect_timeout_ms),
           Take("max_message_bytes", in.max_message_bytes(), kMessageBytes, &out->max_message_bytes),
           Take("queue_bytes", in.queue_bytes(), kQueueBytes, &out->queue_bytes),
           Take("ping_interval_ms", in.ping_interval_ms(), kKeepaliveMs, &out->ping_interval_ms),
           Take("pong_timeout_ms", in.pong_timeout_ms(), kKeepaliveMs, &out->pong_timeout_ms),
           Take("close_timeout_ms", in.close_timeout_ms(), kTimeoutMs, &out->close_timeout_ms),
           Take("max_connections", in.max_connections(), kMaxConnections, &out->max_connections),
       }) {
    if (!s.ok()) return s;
  }
  if (in.drain_timeout_ms()) out->drain_timeout_ms = in.drain_timeout_ms();
  return absl::OkStatus();
}

absl::Status CheckMaxMessageBytes(const std::string& field, uint64_t value) {
  return value == 0 ? absl::OkStatus() : Check(field, value, kMessageBytes);
}

absl::Status CheckConnectTimeoutMs(const std::string& field, uint64_t value) {
  return value == 0 ? absl::OkStatus() : Check(field, value, kTimeoutMs);
}

}  // namespace wsgate::engine::config
