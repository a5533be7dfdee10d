// File: engine/common/clock.h
//
// Time as the engine reads it: a monotonic clock in milliseconds for deadlines and a wall clock
// in Unix seconds for token expiry and throttle windows. Injected, so a shard's state machine
// can be driven by a FakeClock in tests; a shard reads it once per completion batch.
#pragma once

#include <chrono>
#include <cstdint>

namespace wsgate::common {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;      // monotonic
  virtual int64_t NowUnixS() const = 0;   // wall clock
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  int64_t NowUnixS() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // One shared instance (stateless).
  static SystemClock& Get() {
    static SystemClock clock;
    return clock;
  }
};

}  // namespace wsgate::common
