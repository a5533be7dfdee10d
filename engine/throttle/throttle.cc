// File: engine/throttle/throttle.cc
#include "engine/throttle/throttle.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace wsgate::engine::throttle {

absl::StatusOr<Policy> CompilePolicy(const v1::ThrottlePolicy& in) {
  Policy p;
  p.name = in.name();
  p.unlimited = in.unlimited();
  p.stop_on_quota_reach = in.stop_on_quota_reach();
  p.max_connections = in.max_connections();
  // A policy that limits only connections counts no events.
  if (!p.unlimited && in.events() == 0 && p.max_connections > 0) p.unlimited = true;
  if (p.unlimited) return p;
  if (in.events() == 0) return absl::InvalidArgumentError("events: must be > 0 (or set unlimited, or max_connections for a connection-only policy)");
  if (in.events() > Counter::kCountMask)
    return absl::InvalidArgumentError(absl::StrCat("events: at most ", Counter::kCountMask, " per window"));
  p.events = in.events();
  int64_t unit_s = 0;
  switch (in.unit()) {
    case v1::SECOND: unit_s = 1; break;
    case v1::MINUTE: unit_s = 60; break;
    case v1::HOUR: unit_s = 3600; break;
    case v1::DAY: unit_s = 86400; break;
    case v1::MONTH: unit_s = 30 * 86400; break;
    default: return absl::InvalidArgumentError("unit: must be SECOND, MINUTE, HOUR, DAY or MONTH");
  }
  int64_t count = in.unit_count() == 0 ? 1 : in.unit_count();
  p.window_s = unit_s * count;
  if (p.window_s > int64_t{366} * 86400 * 10)
    return absl::InvalidArgumentError("unit_count: the window must be at most 10 years");
  return p;
}

Counter* Registry::Get(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = counters_.try_emplace(std::string(key));
  if (inserted) it->second = std::make_unique<Counter>();
  return it->second.get();
}

const Counter* Registry::Find(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(std::string(key));
  return it == counters_.end() ? nullptr : it->second.get();
}

size_t Registry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_.size();
}

void Limits::Add(const Policy& policy, Counter* counter, ClusterGate* gate) {
  if (policy.unlimited || counter == nullptr || n_ == kMaxLevels) return;
  entries_[n_++] = Entry{counter, policy.events, static_cast<uint32_t>(policy.window_s), policy.stop_on_quota_reach,
                         policy.stop_on_quota_reach ? gate : nullptr};
}

// One relaxed load of the mode and of the gate's allowance, then the usual compare-and-swap on
// the local counter; the refill check only reads the gate unless a lease runs low.
bool Limits::AdmitGated(const Entry& e, uint64_t window) {
  ClusterQuota& quota = e.gate->owner();
  switch (quota.mode()) {
    case QuotaMode::kCluster: {
      const uint64_t allowed = std::min(e.limit, e.gate->Allowed(window, e.limit));
      const bool ok = e.counter->TryAdd(window, allowed);
      e.gate->MaybeRefill(window, e.counter->Count(window), e.limit);
      return ok;
    }
    case QuotaMode::kLocal:
      return e.counter->TryAdd(window, FallbackLimit(e.limit, quota.params().engines));
    case QuotaMode::kOpen:
      e.counter->Add(window);
      return true;
    case QuotaMode::kClosed:
      quota.stats().fallback_refusals.fetch_add(1, std::memory_order_relaxed);
      return false;
  }
  return false;
}

bool Limits::Admit(int64_t now_unix_s) {
  for (int i = 0; i < n_; ++i) {
    const Entry& e = entries_[i];
    uint64_t window = static_cast<uint64_t>(now_unix_s) / e.window_s;
    if (!e.stop) {
      e.counter->Add(window);
      continue;
    }
    if (e.gate != nullptr ? AdmitGated(e, window) : e.counter->TryAdd(window, e.limit)) continue;
    // Refused here: take back what the levels before this one counted.
    for (int j = 0; j < i; ++j) entries_[j].counter->Remove(static_cast<uint64_t>(now_unix_s) / entries_[j].window_s);
    return false;
  }
  return true;
}

void Limits::Count(int64_t now_unix_s) {
  for (int i = 0; i < n_; ++i) entries_[i].counter->Add(static_cast<uint64_t>(now_unix_s) / entries_[i].window_s);
}

}  // namespace wsgate::engine::throttle
