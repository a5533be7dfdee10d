// File: engine/quota/health.h
//
// Whether the quota store is reachable, as a pure state machine over a caller-supplied clock:
// the quota thread reports each call's outcome; the machine says when a state changes (logged
// once per change) and when the next try is due while the store is down (100 ms doubling to
// max_backoff_ms, so a dead Redis costs one short connect attempt per backoff, never a stall).
//
//   StoreHealth h(5000);
//   if (h.OnError(now_ms) == StoreHealth::Change::kLost) Log("falling back");
//   if (h.MayTry(now_ms)) ... h.OnSuccess() == kBack
#pragma once

#include <cstdint>

namespace wsgate::engine::quota {

class StoreHealth {
 public:
  static constexpr int64_t kFirstBackoffMs = 100;
  enum class Change { kNone, kLost, kBack };

  explicit StoreHealth(int64_t max_backoff_ms) : max_backoff_ms_(max_backoff_ms < kFirstBackoffMs ? kFirstBackoffMs : max_backoff_ms) {}

  bool down() const { return down_; }
  // Up: always; down: once the backoff has passed.
  bool MayTry(int64_t now_ms) const { return !down_ || now_ms >= next_try_ms_; }
  int64_t next_try_ms() const { return next_try_ms_; }
  int64_t backoff_ms() const { return backoff_ms_; }

  Change OnError(int64_t now_ms) {
    const bool was_down = down_;
    backoff_ms_ = was_down ? (backoff_ms_ * 2 > max_backoff_ms_ ? max_backoff_ms_ : backoff_ms_ * 2) : kFirstBackoffMs;
    down_ = true;
    next_try_ms_ = now_ms + backoff_ms_;
    return was_down ? Change::kNone : Change::kLost;
  }
  Change OnSuccess() {
    const bool was_down = down_;
    down_ = false;
    backoff_ms_ = 0;
    return was_down ? Change::kBack : Change::kNone;
  }

 private:
  const int64_t max_backoff_ms_;
  bool down_ = false;
  int64_t backoff_ms_ = 0;
  int64_t next_try_ms_ = 0;
};

}  // namespace wsgate::engine::quota
