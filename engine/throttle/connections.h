// File: engine/throttle/connections.h
//
// Concurrent-connection quotas (issue 15): how many connections one subscription, application,
// API or client address holds on this engine, across every shard. A handshake takes one slot
// per limited key before the backend is contacted (TryAcquireAll); the connection gives them
// back exactly once, when its slot is freed (ConnectionHold::Release).
//
// Counts live in a striped hash map (a mutex per stripe, 16 stripes): one short critical
// section per key per handshake and none per frame. A key is erased when its count returns to
// zero, so a storm of client addresses leaves no memory behind.
//
//   ConnectionHold hold;
//   std::vector<ConnectionQuota> quotas = {{"sub:s1", 10, "subscription"}, ...};
//   if (int refused = counts.TryAcquireAll(quotas, &hold); refused >= 0) Answer429(quotas[refused]);
//   ...
//   hold.Release(counts);  // when the connection ends, on every path
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

namespace wsgate::engine::throttle {

// One limited key a connection counts against.
struct ConnectionQuota {
  std::string key;        // "sub:<id>", "app:<id>", "api:<id>", "addr:<address or /64>"
  uint32_t limit = 0;     // > 0
  std::string_view what;  // "subscription", "application", "API", "client address"
};

class ConnectionCounts;

// The slots one connection holds; released once (a second Release does nothing).
class ConnectionHold {
 public:
  static constexpr int kMaxKeys = 4;
  void Release(ConnectionCounts& counts);
  int size() const { return n_; }
  bool empty() const { return n_ == 0; }

 private:
  friend class ConnectionCounts;
  std::unique_ptr<std::string[]> keys_;  // kMaxKeys, allocated while a slot is held (most hold none)
  uint8_t n_ = 0;
};

class ConnectionCounts {
 public:
  // Takes one slot of `key` if fewer than `limit` are held. Thread-safe.
  bool TryAcquire(std::string_view key, uint32_t limit);
  // Gives back one slot of `key` (nothing when none is held). Thread-safe.
  void Release(std::string_view key);
  uint32_t Count(std::string_view key) const;
  size_t keys() const;  // keys with at least one slot held

  // Takes a slot of every quota (at most ConnectionHold::kMaxKeys) into `hold`. Returns -1 when
  // all were taken, else the index of the quota that refused (nothing is then held).
  int TryAcquireAll(const std::vector<ConnectionQuota>& quotas, ConnectionHold* hold);

 private:
  static constexpr size_t kStripes = 16;
  struct alignas(64) Stripe {
    mutable std::mutex mu;
    absl::flat_hash_map<std::string, uint32_t> counts ABSL_GUARDED_BY(mu);
  };
  Stripe& StripeFor(std::string_view key) const;
  mutable Stripe stripes_[kStripes];
};

// The key a client address counts under: an IPv4 address as it is, an IPv6 address by its /64
// (one host usually holds a whole /64), an IPv4-mapped IPv6 address as the IPv4 one. Text that
// is no address is returned unchanged.
std::string ClientAddressKey(std::string_view ip);

}  // namespace wsgate::engine::throttle
