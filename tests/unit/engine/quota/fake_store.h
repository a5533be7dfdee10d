// File: tests/unit/engine/quota/fake_store.h
//
// An in-memory QuotaStore with the lease script's rule (redis_store.cc) for the quota unit
// tests, shared by several engines' clients; `down` makes every call fail as an unreachable
// Redis does.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/quota/store.h"

namespace wsgate::engine::quota {

struct FakeStoreState {
  std::mutex mu;  // clients on threads share it
  std::map<std::string, uint64_t> counters;  // key -> events granted
  bool down = false;
  int takes = 0, pings = 0;
};

class FakeStore final : public QuotaStore {
 public:
  explicit FakeStore(std::shared_ptr<FakeStoreState> state) : state_(std::move(state)) {}
  absl::StatusOr<TakeResult> Take(const TakeRequest& req) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->takes;
    if (state_->down) return absl::UnavailableError("connect: Connection refused");
    uint64_t& used = state_->counters[req.key];
    if (used >= req.limit) return TakeResult{0, 0};
    const uint64_t remaining = req.limit - used;
    uint64_t grant = throttle::LeaseSize(remaining, req.params) + req.debt;
    if (grant > remaining) grant = remaining;
    used += grant;
    return TakeResult{grant, req.limit - used};
  }
  absl::Status Ping() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->pings;
    return state_->down ? absl::UnavailableError("connect: Connection refused") : absl::OkStatus();
  }
  std::string Describe() const override { return "fake://"; }

 private:
  std::shared_ptr<FakeStoreState> state_;
};

}  // namespace wsgate::engine::quota
