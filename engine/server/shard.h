// File: engine/server/shard.h
//
// One shard: a thread with its own io_uring, its own SO_REUSEPORT listener, connection table,
// buffer ring, timers, counters and current config snapshot. A client connection and its
// upstream connection live on one shard for their whole life; nothing on the relay path takes a
// lock. Other threads talk to a shard only through Post(), a mailbox drained at a loop boundary
// (an eventfd read wakes the ring).
//
// The loop itself (connection phases, layers, the lifetime rule) is in loop.h and conn.h.
//
// Lifecycle: created by Server; Start() spawns the thread (the ring is created on it, as
// SINGLE_ISSUER requires); Stop() or a drain ends Run(). Thread-safe: Post(), port().
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/base/thread_annotations.h"
#include "engine/config/snapshot.h"
#include "engine/server/stats.h"
#include "engine/throttle/throttle.h"

namespace wsgate::engine::io {
class Uring;
}

namespace wsgate::engine::server {

class Loop;
class AccessLog;

struct ShardOptions {
  int index = 0;
  sockaddr_storage listen_addr{};
  socklen_t listen_addr_len = 0;
  // wss listener; wss_addr_len 0 means none.
  sockaddr_storage wss_addr{};
  socklen_t wss_addr_len = 0;
  // Further listeners (a repeated --ws-listen/--wss-listen), bound like the two above.
  struct ListenAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
    bool tls = false;
  };
  std::vector<ListenAddress> more_listen;
  int max_connections = 50000;
  // Issue 20: the ring's fixed-file table (direct descriptors), entries; 0: regular descriptors.
  unsigned fixed_files = 0;
  unsigned ring_entries = 4096;
  unsigned cq_entries = 0;  // 0: 4 × ring_entries (tests shrink it to overflow the completion queue)
  unsigned buffer_count = 4096;
  unsigned buffer_size = 16384;
  // The engine's throttle counters, shared by every shard (the Server owns them). Required.
  throttle::Registry* throttle = nullptr;
  // --- operations (issue 13, ops-engine)
  AccessLog* access_log = nullptr;  // the Server's; null: no access log
  bool measure_busy = false;        // time each loop iteration (two clock reads per batch)
  // Live client connections of the whole engine, shared by every shard (the Server owns it), for
  // settings.max_connections. Null: no engine-wide cap (a Loop on its own, in unit tests).
  std::atomic<int64_t>* engine_connections = nullptr;
};

class Shard {
 public:
  explicit Shard(ShardOptions options);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Binds the listener (on the caller's thread, so a bind error is reported at startup), then
  // starts the shard thread and waits until its ring is ready.
  absl::Status Start(std::shared_ptr<const config::Snapshot> initial);
  // The bound ports (useful with port 0); wss_port() is 0 without a wss listener.
  uint16_t port() const { return port_; }
  uint16_t wss_port() const { return wss_port_; }
  // The ports of ShardOptions::more_listen, in order.
  const std::vector<uint16_t>& more_ports() const { return more_ports_; }

  // Runs fn on the shard thread at the next loop boundary. Safe from any thread.
  void Post(std::function<void(Shard&)> fn);

  // --- Called on the shard thread (through Post) ---
  // Swaps the snapshot and re-checks live connections; returns how many it closed.
  uint64_t ApplySnapshot(std::shared_ptr<const config::Snapshot> snapshot);
  // Stop accepting; close every relayed client with settings.drain_close_code (1012), spread
  // over the first half of the window (admission.cc); Run() returns when all are gone or after
  // `timeout_ms`.
  void BeginDrain(int timeout_ms);
  // A copy of this shard's counters.
  ShardStats stats() const;
  // The loop itself, for requests posted from the connection registry (registry.h).
  Loop& loop() { return *loop_; }

  // Waits for the thread to end.
  void Join();

 private:
  void DrainInbox();

  ShardOptions options_;
  int listen_fd_ = -1;
  int wss_listen_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<int> more_fds_;
  std::vector<uint16_t> more_ports_;
  uint16_t port_ = 0;
  uint16_t wss_port_ = 0;
  std::unique_ptr<io::Uring> ring_;  // made on the shard thread; outlives loop_
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::function<void(Shard&)>> inbox_ ABSL_GUARDED_BY(mu_);
};

}  // namespace wsgate::engine::server
