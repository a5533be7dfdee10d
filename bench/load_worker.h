// File: bench/load_worker.h — wsgate-bench's load worker: one thread, one io_uring, its share
// of the connections (connect, upgrade, send stamped messages, read echoes, measure).
//
//   auto target = ParseUrl("ws://127.0.0.1:9099/echo/1/x");
//   auto w = NewLoadWorker(options, *target, /*conns=*/50, /*thread_index=*/0);
//   w->Run(start_ns, measure_from_ns, end_ns);   // returns at end_ns
//   w->totals().latency.Percentile(99);
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_stats.h"

namespace wsgate::bench {

struct Options {
  std::string url, mode = "closed";
  std::vector<std::string> headers;
  int64_t conns = 10, size = 64, inflight = 1, threads = 1;
  int64_t rate = 0;
  double duration = 10, warmup = 2;
  bool binary = true, insecure = false, json_only = false, fanout = false;
  bool tls_resume = false;  // wss: offer the previous session's ticket on each new connection
  std::string ca_file, source_addresses = "127.0.0.1";
};

struct Target {
  bool tls = false;
  std::string host, host_header, path;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
};

struct Totals {
  Histogram latency;
  Histogram send_lag;  // open loop: queued minus intended send time, per message
  ErrorTally errors;   // by cause, warm-up included
  uint64_t messages = 0, sent = 0, upgrades = 0, bytes = 0;
  uint64_t resumed = 0;  // measured upgrades whose TLS handshake resumed a session
  uint64_t opened = 0;  // upgrades that succeeded, warm-up included (0: every attempt failed)
};

// Monotonic nanoseconds (the clock every stamp and deadline uses).
int64_t NowNs();

// ws://HOST[:PORT]/PATH or wss://...; the host is resolved once.
absl::StatusOr<Target> ParseUrl(const std::string& url);

class LoadWorker {
 public:
  virtual ~LoadWorker() = default;
  // Runs the workload until end_ns; samples from measure_from_ns on count.
  virtual void Run(int64_t start_ns, int64_t measure_from_ns, int64_t end_ns) = 0;
  virtual const Totals& totals() const = 0;
  virtual int open_connections() const = 0;
};

std::unique_ptr<LoadWorker> NewLoadWorker(const Options& o, const Target& t, int conns, int thread_index);

}  // namespace wsgate::bench
