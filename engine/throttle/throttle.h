// File: engine/throttle/throttle.h
//
// Event-count throttling with WSO2's semantics: an event is a WebSocket data frame in either
// direction; a policy allows `events` per window of `unit_count` x `unit`; when a stop-on-quota
// policy is exhausted, a message is dropped (the shard tells the client with WSO2's 4003 text
// frame) and the connection stays open.
//
// With --quota-store redis://, a stop-on-quota level also has a ClusterGate (cluster.h): the
// same compare-and-swap, against this engine's share of the cluster-wide budget.
//
// Counters are engine-wide: the connections of one subscription (application, API) on every shard
// share one Counter, so a limit is exact on one engine. A Counter packs the window number (24
// bits) and the count (40 bits) into one atomic word: checking and counting is one
// compare-and-swap, no lock on the relay path. Windows are aligned to the Unix epoch (a DAY window
// resets at 00:00 UTC; a MONTH is 30 days). Counters are looked up at the upgrade (Registry::Get,
// under a mutex) and live as long as the engine, so a config push never resets a count.
//
//   Registry registry;                                     // one per engine
//   Limits limits;                                         // one per connection
//   limits.Add(*gold, registry.Get("sub:" + sub_id));      // plan, application, API policies
//   if (!limits.Admit(now_unix_s)) DropMessage();          // a message's first frame
//   limits.Count(now_unix_s);                              // its continuation frames
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/throttle/cluster.h"
#include "engine/throttle/connections.h"
#include "engine/throttle/handshake_rate.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::throttle {

// A compiled v1::ThrottlePolicy.
struct Policy {
  std::string name;
  bool unlimited = false;
  uint64_t events = 0;      // per window
  int64_t window_s = 86400;  // unit_count x unit
  bool stop_on_quota_reach = true;
  // Concurrent connections per key (issue 15); 0 = no connection limit. Independent of the event
  // limit: a connection-only policy is `unlimited` (counts no events) with max_connections > 0.
  uint32_t max_connections = 0;
};

// Checks and compiles a policy; an error names the field ("events: must be > 0 ...").
absl::StatusOr<Policy> CompilePolicy(const v1::ThrottlePolicy& in);

// The text frame payload a client gets for a dropped message (WSO2 4.x, exactly).
inline constexpr std::string_view kThrottledText = "Error code: 4003 reason: Websocket frame throttled out";

class alignas(64) Counter {  // one cache line each: counters of different keys never share one
 public:
  static constexpr int kCountBits = 40;
  static constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;

  // Counts one event in `window` if fewer than `limit` are counted there. False: nothing counted.
  bool TryAdd(uint64_t window, uint64_t limit) {
    const uint64_t tag = Tag(window);
    uint64_t old = word_.load(std::memory_order_relaxed);
    while (true) {
      uint64_t next;
      if ((old & ~kCountMask) != tag) {
        if (limit == 0) return false;
        next = tag | 1;  // the first event of a new window
      } else if ((old & kCountMask) >= limit) {
        return false;
      } else {
        next = old + 1;
      }
      if (word_.compare_exchange_weak(old, next, std::memory_order_relaxed)) return true;
    }
  }
  // Counts one event whatever the limit (it saturates at 2^40 - 1).
  void Add(uint64_t window) { TryAdd(window, kCountMask); }
  // Takes back one event counted in `window` (one that another level then refused).
  void Remove(uint64_t window) {
    const uint64_t tag = Tag(window);
    uint64_t old = word_.load(std::memory_order_relaxed);
    while ((old & ~kCountMask) == tag && (old & kCountMask) > 0 &&
           !word_.compare_exchange_weak(old, old - 1, std::memory_order_relaxed)) {
    }
  }
  // Events counted in `window` (0 once the counter has moved on to a later one).
  uint64_t Count(uint64_t window) const {
    uint64_t w = word_.load(std::memory_order_relaxed);
    return (w & ~kCountMask) == Tag(window) ? w & kCountMask : 0;
  }

 private:
  static uint64_t Tag(uint64_t window) { return (window & ((uint64_t{1} << (64 - kCountBits)) - 1)) << kCountBits; }
  std::atomic<uint64_t> word_{0};
};

// The engine's counters by key ("sub:<subscription id>", "app:<application id>", "api:<api id>").
class Registry {
 public:
  // The counter for `key`, created on first use; stable for the Registry's life. Thread-safe.
  Counter* Get(std::string_view key);
  // The counter for `key` if one was ever made, else nullptr (never creates one). Thread-safe.
  const Counter* Find(std::string_view key) const;
  size_t size() const;
  // The concurrent-connection counts (issue 15), shared by every shard like the event counters.
  ConnectionCounts& connections() { return connections_; }
  // The handshake rate limits' token buckets (issue 15), shared the same way.
  HandshakeRates& handshakes() { return handshakes_; }
  // Cluster-wide quotas (issue 19, cluster.h): the engine's ClusterQuota, or null when every
  // engine counts on its own (--quota-store local). Set before the shards start; not owned.
  void set_cluster(ClusterQuota* cluster) { cluster_ = cluster; }
  ClusterQuota* cluster() const { return cluster_; }

 private:
  ConnectionCounts connections_;
  HandshakeRates handshakes_;
  ClusterQuota* cluster_ = nullptr;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Counter>> counters_ ABSL_GUARDED_BY(mu_);
};

// The policies one connection is held to: its subscription's plan, its application's policy
// and its API's policy, each with its shared counter. Unlimited policies are left out.
class Limits {
 public:
  static constexpr int kMaxLevels = 3;

  // `gate`: the level's cluster gate (cluster.h; null: counted on this engine only). Only
  // stop-on-quota levels consult it.
  void Add(const Policy& policy, Counter* counter, ClusterGate* gate = nullptr);
  void Clear() { n_ = 0; }
  bool empty() const { return n_ == 0; }
  int size() const { return n_; }

  // One event that starts a message: true to forward it (counted at every level). False when a
  // stop-on-quota policy is exhausted: the message is dropped and nothing stays counted.
  bool Admit(int64_t now_unix_s);
  // One event that is forwarded whatever the counts say (a continuation frame of an admitted
  // message), counted at every level.
  void Count(int64_t now_unix_s);

 private:
  struct Entry {
    Counter* counter;
    uint64_t limit;
    uint32_t window_s;
    bool stop;
    ClusterGate* gate;  // cluster-wide quotas (issue 19); null: this engine only
  };
  // A gated level's admission (cluster.h): true when counted.
  static bool AdmitGated(const Entry& e, uint64_t window);
  Entry entries_[kMaxLevels];
  uint8_t n_ = 0;
};

}  // namespace wsgate::engine::throttle
