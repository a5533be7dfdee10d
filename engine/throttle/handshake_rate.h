// File: engine/throttle/handshake_rate.h
//
// Handshake rate limits (issue 15): new connections per second per client address and per API,
// as token buckets (a rate per second and a burst) shared by every shard, so a limit is exact on
// one engine. Buckets live in a striped hash map (a mutex per stripe); a stripe that grows past
// kSweepAt forgets the buckets that have refilled, so a storm of addresses leaves little behind.
// Time is passed in (the shard's clock): testable with a fake one.
//
//   HandshakeRates rates;                               // one per engine (throttle::Registry)
//   int64_t wait_ms = rates.TryTake("addr:192.0.2.7", /*rate=*/10, /*burst=*/20, now_ms);
//   if (wait_ms > 0) Answer429(RetryAfter(wait_ms));
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

namespace wsgate::engine::throttle {

class HandshakeRates {
 public:
  static constexpr size_t kSweepAt = 4096;  // buckets per stripe before full ones are forgotten

  // Takes one token from `key`'s bucket (refilled at `rate` per second up to `burst`; a burst
  // of 0 means `rate`). 0: taken; else the milliseconds until a token is there (nothing taken).
  int64_t TryTake(std::string_view key, uint32_t rate, uint32_t burst, int64_t now_ms);
  size_t keys() const;

 private:
  struct Bucket {
    int64_t milli_tokens = 0;  // thousandths of a token
    int64_t last_ms = 0;
  };
  static constexpr size_t kStripes = 16;
  struct alignas(64) Stripe {
    mutable std::mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  };
  mutable Stripe stripes_[kStripes];
};

// The Retry-After seconds for a wait: at least 1, rounded up.
inline int64_t RetryAfterSeconds(int64_t wait_ms) { return wait_ms <= 1000 ? 1 : (wait_ms + 999) / 1000; }

}  // namespace wsgate::engine::throttle
