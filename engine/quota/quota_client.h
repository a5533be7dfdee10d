// File: engine/quota/quota_client.h
//
// The engine's quota thread (issue 19 item 3): the only thread that talks to the quota store.
// Shards never block on it: a gate whose lease runs low joins ClusterQuota's queue
// (throttle/cluster.h); this thread takes the queue, takes one lease per gate from the store
// (one atomic script call each) and publishes the grant in the gate. When a call fails it
// switches the engine to the configured fallback (ClusterQuota::set_mode), logs once, counts the
// error, retries with bounded backoff (health.h) and switches back when the store answers.
// An idle engine pings the store every health_interval_ms, so an outage is seen (and
// /metrics shows it) before the next lease is needed.
//
//   QuotaClient client(options, MakeStore(options.store, timeout), &cluster_quota, clock);
//   client.Start();  ...  client.Stop();
//   client.Step(0);  // tests: one pass on the calling thread, with a FakeClock
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "engine/common/clock.h"
#include "engine/quota/health.h"
#include "engine/quota/store.h"
#include "engine/quota/store_url.h"
#include "engine/throttle/cluster.h"

namespace wsgate::engine::quota {

class QuotaClient {
 public:
  QuotaClient(const QuotaOptions& options, std::unique_ptr<QuotaStore> store, throttle::ClusterQuota* quota,
              const common::Clock& clock);
  ~QuotaClient();
  QuotaClient(const QuotaClient&) = delete;
  QuotaClient& operator=(const QuotaClient&) = delete;

  void Start();
  void Stop();  // ends the thread; idempotent

  // One pass: waits up to `wait_ms` for queued gates, serves them (or, while the store is down,
  // tries it again once the backoff has passed), pings when idle and due.
  void Step(int64_t wait_ms);

  bool down() const { return down_.load(std::memory_order_relaxed); }

 private:
  absl::Status Serve(throttle::ClusterGate* gate, int64_t now_ms);
  void Failed(const absl::Status& status, int64_t now_ms);
  void Succeeded();

  const QuotaOptions options_;
  std::unique_ptr<QuotaStore> store_;
  throttle::ClusterQuota* const quota_;
  const common::Clock& clock_;
  StoreHealth health_;
  std::vector<throttle::ClusterGate*> batch_;  // reused: no allocation per pass
  int64_t last_ok_ms_ = 0;
  std::atomic<bool> down_{false};
  std::thread thread_;
};

// The store for an address (kTcp or kUnix: Redis through hiredis).
std::unique_ptr<QuotaStore> MakeStore(const StoreAddress& address, int64_t timeout_ms);

}  // namespace wsgate::engine::quota
