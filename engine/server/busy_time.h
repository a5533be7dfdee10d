// File: engine/server/busy_time.h
//
// How long a shard's loop spends working rather than waiting in io_uring_enter
// (wsgate_engine_loop_busy_seconds_total). Two readings per completion batch, so they must be
// cheap: the CPU's time-stamp counter on x86 (invariant on every CPU this runs on; a few
// instructions, no syscall), converted to nanoseconds only when counters are collected, by the
// ratio of the ticks to the steady clock since the loop started. Elsewhere, the steady clock.
//
//   uint64_t t = busy.Now();  ...handle the batch...;  busy.Add(t);
//   uint64_t ns = busy.Nanoseconds();   // at collection time
//
// Owned by one Loop; single thread.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace wsgate::engine::server {

class BusyTime {
 public:
  BusyTime() : start_ticks_(Now()), start_(std::chrono::steady_clock::now()) {}

  uint64_t Now() const {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
  }
  void Add(uint64_t since) { ticks_ += Now() - since; }

  uint64_t Nanoseconds() const {
    double elapsed_ns =
        static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count());
    double elapsed_ticks = static_cast<double>(Now() - start_ticks_);
    if (elapsed_ticks <= 0) return 0;
    return static_cast<uint64_t>(static_cast<double>(ticks_) * (elapsed_ns / elapsed_ticks));
  }

 private:
  uint64_t ticks_ = 0;
  uint64_t start_ticks_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace wsgate::engine::server
