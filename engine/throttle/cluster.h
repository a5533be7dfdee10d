// File: engine/throttle/cluster.h
//
// Cluster-wide event quotas (issue 19 item 3): the part the shards see. Pure logic (atomics and
// one briefly-locked queue); the Redis I/O is engine/quota's QuotaClient thread.
//
// Every stop-on-quota policy level of a connection (plan, application, API) has, besides its
// engine-wide Counter (the events this engine admitted in the window), a ClusterGate: the
// engine's allowance for that window, raised by the quota thread each time it takes a lease of
// events from the cluster-wide counter in Redis. A shard admits an event when
//
//     Counter.Count(window) < min(limit, Allowed(window)),   Allowed = granted + credit
//
// which is the same one compare-and-swap as on a single engine plus one relaxed load: the
// per-event check stays local, only lease refills cross threads. `granted` is what Redis gave
// this engine for the window; `credit` is how far the engine may run ahead of its grants while
// a refill is in flight (the size of the next lease, LeaseSize of the remaining budget; 0 once
// Redis says the window is used up). So an event that arrives when the lease is empty and a
// refill is in flight is admitted on credit, and the credit is repaid from the grant. Per engine,
// admitted ≤ granted + credit ≤ granted + max_lease; Redis never grants more than the limit, so
// across E engines
//
//     admitted ≤ limit + E × max_lease     (near the limit: limit + E × LeaseSize(remaining))
//
// A shard asks for the next lease when the events left of the grant fall to half the last lease
// (RequestRefill: the gate joins the quota thread's queue once; no allocation). In fallback
// (Redis unreachable) the mode says what a gate does instead: count locally to limit / engines
// (fail-local), admit (fail-open) or refuse (fail-closed).
//
//   ClusterQuota quota(params);                       // one per engine (the Server's)
//   ClusterGate* g = quota.Gate("sub:7", 86400, counter);
//   limits.Add(policy, counter, g);                    // Limits::Admit consults the gate
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

namespace wsgate::engine::throttle {

class Counter;
class ClusterQuota;

// How a gate decides (set by the quota thread; read per event).
enum class QuotaMode : uint8_t {
  kCluster = 0,  // leases from the store
  kLocal = 1,    // fallback fail-local: limit / engines per engine, counted here
  kOpen = 2,     // fallback fail-open: every event admitted (and counted)
  kClosed = 3,   // fallback fail-closed: every event of a gated policy refused (4003)
};
const char* QuotaModeName(QuotaMode mode);

struct LeaseParams {
  uint32_t engines = 1;      // engines sharing the store (--quota-engines)
  uint32_t divisor = 4;      // k in remaining / (k × engines)
  uint64_t max_lease = 100;  // events per lease at most (--quota-max-lease)
};

// The next lease's size for `remaining` events left in the window:
// clamp(ceil(remaining / (k × engines)), 1, max_lease), never more than `remaining`; 0 when 0.
uint64_t LeaseSize(uint64_t remaining, const LeaseParams& p);
// The documented bound on events admitted across the cluster in one window.
uint64_t ClusterBound(uint64_t limit, const LeaseParams& p);
// fail-local's per-engine limit: limit / engines, at least 1.
uint64_t FallbackLimit(uint64_t limit, uint32_t engines);

class alignas(64) ClusterGate {
 public:
  ClusterGate(ClusterQuota* owner, std::string key, uint32_t window_s, const Counter* counter)
      : owner_(owner), key_(std::move(key)), window_s_(window_s), counter_(counter) {}

  // --- shard side (any thread)
  // The events this engine may have admitted in `window`: granted + credit once the quota
  // thread has answered for the window, else the first lease's size (taken on credit).
  uint64_t Allowed(uint64_t window, uint64_t limit) const;
  // After an admission (or a refusal) at `used` events: joins the quota thread's queue if the
  // grant runs low and no refill is queued or in flight. Never blocks on I/O; no allocation.
  void MaybeRefill(uint64_t window, uint64_t used, uint64_t limit);

  ClusterQuota& owner() const { return *owner_; }

  // --- quota thread side
  const std::string& key() const { return key_; }
  uint32_t window_s() const { return window_s_; }
  uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  uint64_t requested_window() const { return want_window_.load(std::memory_order_relaxed); }
  // Events this engine counted in `window` (the local Counter).
  uint64_t Used(uint64_t window) const;
  // Events granted so far in `window` (0 for another window).
  uint64_t Granted(uint64_t window) const { return window == window_ ? granted_ : 0; }
  // Records a lease of `granted` events for `window`, after which the store has `remaining`
  // left; republishes Allowed and the refill point. Then the gate may be queued again.
  void ApplyGrant(uint64_t window, uint64_t granted, uint64_t remaining);
  // A request the quota thread could not serve (fallback): the gate may be queued again.
  void Dequeued() { queued_.store(false, std::memory_order_release); }

 private:
  friend class ClusterQuota;
  static constexpr int kValueBits = 40;
  static constexpr uint64_t kValueMask = (uint64_t{1} << kValueBits) - 1;
  static constexpr uint64_t kExhausted = kValueMask;  // refill point: the store has nothing left
  static uint64_t Tag(uint64_t window) { return (window & ((uint64_t{1} << (64 - kValueBits)) - 1)) << kValueBits; }
  static uint64_t Pack(uint64_t window, uint64_t value) { return Tag(window) | (value & kValueMask); }

  ClusterQuota* const owner_;
  const std::string key_;  // the throttle key ("sub:7")
  const uint32_t window_s_;
  const Counter* const counter_;
  std::atomic<uint64_t> allowed_{0};    // {window tag | granted + credit}, written by the quota thread
  std::atomic<uint64_t> refill_at_{0};  // {window tag | used count at which to ask again}
  std::atomic<uint64_t> limit_{0};      // the policy's events (latest resolve)
  std::atomic<uint64_t> want_window_{0};
  std::atomic<bool> queued_{false};     // in the queue or being served
  ClusterGate* next_ = nullptr;         // queue link, guarded by the owner's queue mutex
  // The quota thread's own (never read by shards).
  uint64_t window_ = ~uint64_t{0};
  uint64_t granted_ = 0;
};

// The engine's cluster quota state: mode, lease parameters, the gates by key and the queue of
// gates waiting for a refill. Its counters are the /metrics families of docs/operations.md.
class ClusterQuota {
 public:
  explicit ClusterQuota(LeaseParams params) : params_(params) {}

  const LeaseParams& params() const { return params_; }
  QuotaMode mode() const { return static_cast<QuotaMode>(mode_.load(std::memory_order_relaxed)); }
  void set_mode(QuotaMode m) { mode_.store(static_cast<uint8_t>(m), std::memory_order_relaxed); }

  // The gate for (key, window length), created on first use; stable for the quota's life.
  // `counter` is the key's Counter. Thread-safe (a mutex; taken at the upgrade, not per event).
  ClusterGate* Gate(std::string_view key, uint32_t window_s, const Counter* counter);
  size_t gate_count() const;

  // Queue (shard side): appends the gate and wakes the quota thread. Brief lock, no allocation.
  void Enqueue(ClusterGate* gate);
  // Queue (quota thread): moves every queued gate into *out, waiting up to `wait_ms` for one.
  // False once Shutdown() was called.
  bool Take(std::vector<ClusterGate*>* out, int64_t wait_ms);
  void Shutdown();

  // Counters for /metrics (written by the quota thread, read by the admin thread).
  struct Stats {
    std::atomic<uint64_t> store_errors{0};      // failed store calls
    std::atomic<uint64_t> leases{0};            // leases taken
    std::atomic<uint64_t> leased_events{0};     // events granted in them
    std::atomic<uint64_t> fallbacks{0};         // times the engine entered fallback
    std::atomic<uint64_t> fallback_refusals{0}; // events refused by fail-closed (shards)
  };
  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }

 private:
  const LeaseParams params_;
  std::atomic<uint8_t> mode_{static_cast<uint8_t>(QuotaMode::kCluster)};
  Stats stats_;
  mutable std::mutex gates_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<ClusterGate>> gates_ ABSL_GUARDED_BY(gates_mu_);
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  ClusterGate* head_ ABSL_GUARDED_BY(queue_mu_) = nullptr;
  bool shutdown_ ABSL_GUARDED_BY(queue_mu_) = false;
};

}  // namespace wsgate::engine::throttle
