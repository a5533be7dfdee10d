// File: engine/config/throttle_plan.cc
#include "engine/config/throttle_plan.h"

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::config {

std::vector<ThrottleScope> ThrottleScopes(const Snapshot& snap, std::string_view application_id,
                                          std::string_view api_id, bool has_subscription) {
  std::vector<ThrottleScope> out;
  auto add = [&](const std::string& policy, const char* level, const std::string& id) {
    if (policy.empty()) return;
    auto it = snap.throttle_policies.find(policy);
    if (it == snap.throttle_policies.end() || (it->second.unlimited && it->second.max_connections == 0)) return;
    out.push_back({&it->second, absl::StrCat(level, ":", id)});
  };
  if (has_subscription)
    if (const Subscription* sub = snap.FindSubscription(application_id, api_id)) add(sub->plan, "sub", sub->id);
  if (const Application* app = snap.applications.Find(application_id)) add(app->throttle_policy, "app", app->id);
  if (auto api = snap.apis_by_id.find(common::Sv(api_id)); api != snap.apis_by_id.end())
    add(api->second->throttle_policy, "api", api->second->id);
  return out;
}

}  // namespace wsgate::engine::config
