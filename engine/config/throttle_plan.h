// File: engine/config/throttle_plan.h
//
// Which throttle policies govern one connection, as a pure query over a snapshot: WSO2 counts
// every data frame against the subscription's business plan, the application's policy and the
// API's policy. Each comes with the key of the engine-wide counter it is counted in
// ("sub:ID", "app:ID", "api:ID"); unknown policies and unlimited ones without a
// connection limit (max_connections) are left out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/config/snapshot.h"
#include "engine/throttle/throttle.h"

namespace wsgate::engine::config {

struct ThrottleScope {
  const throttle::Policy* policy = nullptr;  // points into the snapshot
  std::string counter_key;
};

// `has_subscription`: the credential came with a subscription (anonymous topics have none).
std::vector<ThrottleScope> ThrottleScopes(const Snapshot& snapshot, std::string_view application_id,
                                          std::string_view api_id, bool has_subscription);

}  // namespace wsgate::engine::config
