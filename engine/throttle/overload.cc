// File: engine/throttle/overload.cc
#include "engine/throttle/overload.h"

#include <algorithm>

namespace wsgate::engine::throttle {

OverloadDecision EvaluateOverload(const OverloadInput& in, uint32_t soft_percent, uint32_t hard_percent) {
  OverloadDecision d;
  auto percent = [](size_t used, size_t capacity) -> uint32_t {
    return capacity == 0 ? 0 : static_cast<uint32_t>(std::min<size_t>(used * 100 / capacity, 1000));
  };
  uint32_t conns = percent(in.connections, in.connection_capacity);
  uint32_t buffers = percent(in.buffers_held, in.buffer_capacity);
  bool by_buffers = buffers > conns;
  d.percent = by_buffers ? buffers : conns;
  d.resource = by_buffers ? "buffered bytes" : "connections";
  if (d.percent < soft_percent) return d;
  d.level = d.percent >= hard_percent ? OverloadLevel::kHard : OverloadLevel::kSoft;
  if (d.level != OverloadLevel::kHard) return d;
  if (by_buffers) {
    d.shed = std::max<size_t>(1, in.connections / 20);
  } else {
    // Back under the hard threshold: keep fewer than capacity × hard%.
    size_t keep = in.connection_capacity * hard_percent / 100;
    keep = keep > 0 ? keep - 1 : 0;
    d.shed = in.connections > keep ? in.connections - keep : 0;
  }
  d.shed = std::min(d.shed, in.connections);
  return d;
}

}  // namespace wsgate::engine::throttle
