// File: engine/throttle/handshake_rate.cc
#include "engine/throttle/handshake_rate.h"

#include <algorithm>
#include <functional>

#include "engine/common/absl_compat.h"

namespace wsgate::engine::throttle {

int64_t HandshakeRates::TryTake(std::string_view key, uint32_t rate, uint32_t burst, int64_t now_ms) {
  if (rate == 0) return 0;  // no limit
  const int64_t cap = int64_t{burst == 0 ? rate : burst} * 1000;
  Stripe& s = stripes_[std::hash<std::string_view>{}(key) % kStripes];
  std::lock_guard<std::mutex> lock(s.mu);
  auto refill = [&](Bucket& b) {
    // `rate` tokens per second are `rate` thousandths of a token per millisecond.
    b.milli_tokens = std::min(cap, b.milli_tokens + std::max<int64_t>(now_ms - b.last_ms, 0) * rate);
    b.last_ms = std::max(b.last_ms, now_ms);
  };
  auto it = s.buckets.find(common::Sv(key));
  if (it == s.buckets.end()) {
    if (s.buckets.size() >= kSweepAt) {
      // Forget the buckets that are full again: a new one starts full anyway.
      for (auto b = s.buckets.begin(); b != s.buckets.end();) {
        refill(b->second);
        if (b->second.milli_tokens >= cap) s.buckets.erase(b++);
        else ++b;
      }
    }
    it = s.buckets.emplace(std::string(key), Bucket{cap, now_ms}).first;
  }
  Bucket& b = it->second;
  refill(b);
  if (b.milli_tokens >= 1000) {
    b.milli_tokens -= 1000;
    return 0;
  }
  return (1000 - b.milli_tokens + rate - 1) / rate;
}

size_t HandshakeRates::keys() const {
  size_t n = 0;
  for (const Stripe& s : stripes_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace wsgate::engine::throttle
