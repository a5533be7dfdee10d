// File: agent/failure_limiter.h
//
// Counts failed authentications per key (a client id, a peer address) in fixed windows and says
// when a key has failed too often: after `max_failures` failures within one `window`, every
// attempt with that key — right or wrong — is refused until the window ends, so a client secret
// cannot be guessed at network speed. A success does not reset the count (a guesser who knows one
// valid client cannot interleave it to stay under the limit).
//
//   FailureLimiter by_address({.max_failures = 50, .window = std::chrono::seconds(60)});
//   if (int64_t s = by_address.RetryAfter(peer, now)) return TooManyRequests(s);
//   if (!authenticated) by_address.RecordFailure(peer, now);
//
// Memory is bounded by `max_keys`: when full, expired windows are dropped first, then the oldest
// window. Time is passed in, so tests drive it. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wsgate::agent {

class FailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    int max_failures = 10;
    std::chrono::seconds window{60};
    size_t max_keys = 4096;
  };
  explicit FailureLimiter(Options options) : options_(options) {}

  // Whole seconds (rounded up, at least 1) until `key` may try again; 0 when it may now.
  int64_t RetryAfter(std::string_view key, Clock::time_point now);
  void RecordFailure(std::string_view key, Clock::time_point now);
  size_t tracked_keys();

 private:
  struct Window {
    Clock::time_point start;
    int failures = 0;
  };
  bool Expired(const Window& w, Clock::time_point now) const { return now - w.start >= options_.window; }
  void MakeRoom(Clock::time_point now);

  const Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

}  // namespace wsgate::agent
