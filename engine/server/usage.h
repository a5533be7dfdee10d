// File: engine/server/usage.h
//
// Usage: the current throttle window of each subscription's plan (and each application's and
// API's policy) as this engine counts it, for `wsgatectl usage`. A pure query over a snapshot and
// the engine's throttle registry (read-only: it never creates a counter); windows are aligned to
// the Unix epoch like the counters themselves (engine/throttle/throttle.h).
//
//   UsageFilter f;
//   f.application_id = "app1";
//   for (const UsageWindow& w : UsageOf(snapshot, registry, f, now_unix_s)) ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config/snapshot.h"
#include "engine/throttle/throttle.h"

namespace wsgate::engine::server {

struct UsageFilter {
  std::string subscription_id, application_id, api_id;  // "" matches all
};

struct UsageWindow {
  std::string level;  // "subscription", "application", "api"
  std::string id, application_id, api_id, policy;
  uint64_t used = 0, limit = 0;
  int64_t window_s = 0, resets_unix_s = 0;
};

// Subscriptions matching every set field; the matching applications' and APIs' own policies
// when no subscription id is asked for. Unlimited (or unknown) policies have no window: left out.
// Ordered by level, then id.
std::vector<UsageWindow> UsageOf(const config::Snapshot& snapshot, const throttle::Registry& registry,
                                 const UsageFilter& filter, int64_t now_unix_s);

}  // namespace wsgate::engine::server
