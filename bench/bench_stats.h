// File: bench/bench_stats.h — wsgate-bench's accounting, kept apart from its io_uring loop so
// that it is unit-tested (tests/unit/bench/bench_stats_test.cc):
//
//   Histogram      log-bucketed latency histogram (HDR-style: 32 sub-buckets per power of two).
//   ErrorTally     errors by cause ("HTTP 401 x 18581, connect refused x 3").
//   *Cause()       the cause names for a failed connect, send, receive and upgrade.
//   GeneratorBehind  whether the open loop's own send lag is large enough to distort its latency.
//
// Send lag (open loop, as wrk2 reports it): for every message, the time the generator queued it
// minus the time the schedule intended; latency counts from the intended time, so a generator
// that falls behind adds its lag to every latency it reports. The lag says how much is its own.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsgate::bench {

class Histogram {
 public:
  void Record(int64_t ns);
  void Merge(const Histogram& o);
  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  // The value at percentile p (0-100], rounded down to its bucket's lower bound; 0 when empty.
  uint64_t Percentile(double p) const;

 private:
  std::vector<uint64_t> counts_ = std::vector<uint64_t>(64 * 32, 0);
  uint64_t total_ = 0, max_ = 0;
};

class ErrorTally {
 public:
  void Add(std::string_view cause, uint64_t n = 1);
  void Merge(const ErrorTally& o);
  uint64_t total() const { return total_; }
  // Most frequent first (ties by name): [("HTTP 401", 18581), ("connect refused", 3)].
  std::vector<std::pair<std::string, uint64_t>> Sorted() const;
  // "HTTP 401 x 18581, connect refused x 3"; "" when there were none.
  std::string Summary() const;
  // {"HTTP 401":18581,"connect refused":3}; {} when there were none.
  std::string Json() const;

 private:
  std::map<std::string, uint64_t> counts_;
  uint64_t total_ = 0;
};

// A failed connect (cqe res = -errno): "connect refused", "connect timed out", "connect: <strerror>".
std::string ConnectCause(int error);
// A failed send or receive: "send: <strerror>", "recv: connection reset"...
std::string IoCause(std::string_view op, int error);
// A refused upgrade from the response head: "HTTP 401" from "HTTP/1.1 401 Unauthorized\r\n...",
// "bad Sec-WebSocket-Accept" for a 101 with the wrong key, "bad upgrade response" otherwise.
std::string UpgradeCause(std::string_view head, bool status_101);

// True when the send lag's p99 is above 100 us and above a tenth of the latency p99: the
// latency figures then carry a visible share of the generator's own delay.
bool GeneratorBehind(uint64_t send_lag_p99_ns, uint64_t latency_p99_ns);

}  // namespace wsgate::bench
