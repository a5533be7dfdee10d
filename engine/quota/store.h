// File: engine/quota/store.h
//
// The cluster-wide counter store behind --quota-store (issue 19 item 3), as an interface so the
// quota thread's logic is tested with a fake store and a fake clock. One call takes a lease:
// atomically, in the store, it reads the window's counter, sizes the lease from what is left
// (LeaseSize: clamp(remaining / (k × engines), 1, max_lease)), adds the engine's unpaid credit
// (`debt`), caps the grant at what is left, adds it to the counter and sets the key to expire
// with its window. The store never grants more than `limit` in a window.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/throttle/cluster.h"

namespace wsgate::engine::quota {

struct TakeRequest {
  std::string key;   // "wsgate:quota:{sub:7}:86400:1764547200" (StoreKey)
  uint64_t limit = 0;
  uint64_t debt = 0;  // events this engine admitted on credit beyond its grants
  throttle::LeaseParams params;
  int64_t ttl_s = 1;  // until the window ends, plus slack for clocks that disagree
};

struct TakeResult {
  uint64_t granted = 0;
  uint64_t remaining = 0;  // left in the window after this grant
};

class QuotaStore {
 public:
  virtual ~QuotaStore() = default;
  // UNAVAILABLE (connect failure, timeout, connection lost) or INTERNAL (an unexpected reply).
  virtual absl::StatusOr<TakeResult> Take(const TakeRequest& request) = 0;
  // A cheap round trip to see the store is back.
  virtual absl::Status Ping() = 0;
  // "redis://127.0.0.1:6379/0", for logs.
  virtual std::string Describe() const = 0;
};

// The store key of a window: the policy level and key, the window length and its start.
std::string StoreKey(const std::string& throttle_key, uint32_t window_s, uint64_t window);

}  // namespace wsgate::engine::quota
