// File: engine/throttle/overload.h
//
// Overload protection's decision (issue 15; Envoy's overload manager is the model), as pure
// logic: a shard's pressure is the highest of its resources' use — live connections against its
// connection capacity (which the descriptor limit sets: two per connection) and receive buffers
// held against its buffer ring — in percent. At or past `soft` the shard refuses new upgrades
// (503, Retry-After) and backs its keepalive pings off; at or past `hard` it sheds its newest
// connections (close 1013), as many as bring connections back under the hard threshold, or one
// in twenty per evaluation when buffers are what is short.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wsgate::engine::throttle {

enum class OverloadLevel : uint8_t { kNone = 0, kSoft = 1, kHard = 2 };

struct OverloadInput {
  size_t connections = 0, connection_capacity = 0;
  size_t buffers_held = 0, buffer_capacity = 0;
};

struct OverloadDecision {
  OverloadLevel level = OverloadLevel::kNone;
  uint32_t percent = 0;          // the highest resource's use
  std::string_view resource;     // "connections" or "buffered bytes"
  size_t shed = 0;               // kHard: connections to close now
};

OverloadDecision EvaluateOverload(const OverloadInput& in, uint32_t soft_percent, uint32_t hard_percent);

}  // namespace wsgate::engine::throttle
