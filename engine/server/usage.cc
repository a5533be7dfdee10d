// File: engine/server/usage.cc
#include "engine/server/usage.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/server/server.h"

namespace wsgate::engine::server {

std::vector<UsageWindow> UsageOf(const config::Snapshot& snap, const throttle::Registry& registry,
                                 const UsageFilter& f, int64_t now_unix_s) {
  std::vector<UsageWindow> out;
  auto add = [&](const char* level, const char* key_prefix, const std::string& id, const std::string& policy,
                 const std::string& app, const std::string& api) {
    auto it = snap.throttle_policies.find(policy);
    if (policy.empty() || it == snap.throttle_policies.end() || it->second.unlimited) return;
    const throttle::Policy& p = it->second;
    UsageWindow w;
    w.level = level;
    w.id = id;
    w.application_id = app;
    w.api_id = api;
    w.policy = p.name;
    w.limit = p.events;
    w.window_s = p.window_s;
    uint64_t window = static_cast<uint64_t>(now_unix_s) / static_cast<uint64_t>(p.window_s);
    w.resets_unix_s = static_cast<int64_t>(window + 1) * p.window_s;
    if (const throttle::Counter* c = registry.Find(absl::StrCat(key_prefix, ":", id))) w.used = c->Count(window);
    out.push_back(std::move(w));
  };
  snap.subscriptions.ForEach([&](const std::string&, const config::Subscription& sub) {
    if ((!f.subscription_id.empty() && sub.id != f.subscription_id) ||
        (!f.application_id.empty() && sub.application_id != f.application_id) ||
        (!f.api_id.empty() && sub.api_id != f.api_id))
      return;
    add("subscription", "sub", sub.id, sub.plan, sub.application_id, sub.api_id);
  });
  if (f.subscription_id.empty()) {
    snap.applications.ForEach([&](const std::string& id, const config::Application& app) {
      if (f.application_id.empty() || id == f.application_id) add("application", "app", id, app.throttle_policy, id, "");
    });
    for (const auto& [id, api] : snap.apis_by_id) {
      if (f.api_id.empty() || id == f.api_id) add("api", "api", id, api->throttle_policy, "", id);
    }
  }
  std::sort(out.begin(), out.end(), [](const UsageWindow& a, const UsageWindow& b) {
    return a.level != b.level ? a.level > b.level : a.id < b.id;  // subscription, api, application
  });
  return out;
}

std::vector<UsageWindow> Server::Usage(const UsageFilter& filter, int64_t now_unix_s) {
  std::shared_ptr<const config::Snapshot> snap;
  {
    std::lock_guard<std::mutex> lock(apply_mu_);
    snap = current_;
  }
  return UsageOf(*snap, throttle_, filter, now_unix_s);  // the counters are atomics: read from any thread
}

}  // namespace wsgate::engine::server
