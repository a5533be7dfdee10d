// File: engine/throttle/cluster.cc
#include "engine/throttle/cluster.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/throttle/throttle.h"

namespace wsgate::engine::throttle {

const char* QuotaModeName(QuotaMode mode) {
  switch (mode) {
    case QuotaMode::kCluster: return "cluster";
    case QuotaMode::kLocal: return "fail-local";
    case QuotaMode::kOpen: return "fail-open";
    case QuotaMode::kClosed: return "fail-closed";
  }
  return "?";
}

uint64_t LeaseSize(uint64_t remaining, const LeaseParams& p) {
  if (remaining == 0) return 0;
  const uint64_t share = uint64_t{std::max<uint32_t>(p.divisor, 1)} * std::max<uint32_t>(p.engines, 1);
  uint64_t size = (remaining + share - 1) / share;
  size = std::clamp<uint64_t>(size, 1, std::max<uint64_t>(p.max_lease, 1));
  return std::min(size, remaining);
}

uint64_t ClusterBound(uint64_t limit, const LeaseParams& p) {
  return limit + uint64_t{std::max<uint32_t>(p.engines, 1)} * std::max<uint64_t>(p.max_lease, 1);
}

uint64_t FallbackLimit(uint64_t limit, uint32_t engines) {
  return std::max<uint64_t>(limit / std::max<uint32_t>(engines, 1), 1);
}

uint64_t ClusterGate::Allowed(uint64_t window, uint64_t limit) const {
  const uint64_t a = allowed_.load(std::memory_order_acquire);
  if ((a & ~kValueMask) == Tag(window)) return a & kValueMask;
  // No answer for this window yet: the first lease is taken on credit.
  return LeaseSize(limit, owner_->params());
}

void ClusterGate::MaybeRefill(uint64_t window, uint64_t used, uint64_t limit) {
  const uint64_t r = refill_at_.load(std::memory_order_relaxed);
  if ((r & ~kValueMask) == Tag(window)) {
    const uint64_t at = r & kValueMask;
    // The store has nothing left for this window at this limit: nobody asks again until the
    // window ends (or a push raises the limit).
    if (at == kExhausted && limit <= limit_.load(std::memory_order_relaxed)) return;
    if (at != kExhausted && used < at) return;
  }
  if (queued_.load(std::memory_order_relaxed) || queued_.exchange(true, std::memory_order_acq_rel)) return;
  limit_.store(limit, std::memory_order_relaxed);
  want_window_.store(window, std::memory_order_relaxed);
  owner_->Enqueue(this);
}

uint64_t ClusterGate::Used(uint64_t window) const { return counter_ == nullptr ? 0 : counter_->Count(window); }

void ClusterGate::ApplyGrant(uint64_t window, uint64_t granted, uint64_t remaining) {
  if (window_ != ~uint64_t{0} && window < window_) {  // a late answer for a window already left
    queued_.store(false, std::memory_order_release);
    return;
  }
  if (window != window_) {
    window_ = window;
    granted_ = 0;
  }
  granted_ += granted;
  const uint64_t credit = LeaseSize(remaining, owner_->params());
  allowed_.store(Pack(window, std::min(granted_ + credit, kValueMask - 1)), std::memory_order_release);
  // Ask for the next lease when half of this one is left (at once if nothing was granted but
  // the store still has some: another engine's leases may come back with the next window).
  uint64_t at = remaining == 0 ? kExhausted : granted_ - std::min(granted_, granted / 2);
  refill_at_.store(Pack(window, at), std::memory_order_relaxed);
  queued_.store(false, std::memory_order_release);
}

ClusterGate* ClusterQuota::Gate(std::string_view key, uint32_t window_s, const Counter* counter) {
  std::string name = absl::StrCat(common::Sv(key), "/", window_s);
  std::lock_guard<std::mutex> lock(gates_mu_);
  auto [it, inserted] = gates_.try_emplace(name);
  if (inserted) it->second = std::make_unique<ClusterGate>(this, std::string(key), window_s, counter);
  return it->second.get();
}

size_t ClusterQuota::gate_count() const {
  std::lock_guard<std::mutex> lock(gates_mu_);
  return gates_.size();
}

void ClusterQuota::Enqueue(ClusterGate* gate) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    gate->next_ = head_;
    head_ = gate;
  }
  queue_cv_.notify_one();
}

bool ClusterQuota::Take(std::vector<ClusterGate*>* out, int64_t wait_ms) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  if (head_ == nullptr && !shutdown_ && wait_ms > 0)
    queue_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return head_ != nullptr || shutdown_; });
  for (ClusterGate* g = head_; g != nullptr; g = g->next_) out->push_back(g);
  head_ = nullptr;
  return !shutdown_;
}

void ClusterQuota::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    shutdown_ = true;
  }
  queue_cv_.notify_all();
}

}  // namespace wsgate::engine::throttle
