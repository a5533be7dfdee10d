// File: agent/failure_limiter.cc
#include "agent/failure_limiter.h"

#include <algorithm>

namespace wsgate::agent {

int64_t FailureLimiter::RetryAfter(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(std::string(key));
  if (it == windows_.end() || Expired(it->second, now) || it->second.failures < options_.max_failures) return 0;
  auto left = std::chrono::ceil<std::chrono::seconds>(it->second.start + options_.window - now);
  return std::max<int64_t>(1, left.count());
}

void FailureLimiter::RecordFailure(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(std::string(key));
  if (it == windows_.end()) {
    if (windows_.size() >= options_.max_keys) MakeRoom(now);
    it = windows_.emplace(std::string(key), Window{now, 0}).first;
  } else if (Expired(it->second, now)) {
    it->second = Window{now, 0};
  }
  ++it->second.failures;
}

size_t FailureLimiter::tracked_keys() {
  std::lock_guard lock(mu_);
  return windows_.size();
}

void FailureLimiter::MakeRoom(Clock::time_point now) {
  for (auto it = windows_.begin(); it != windows_.end();) it = Expired(it->second, now) ? windows_.erase(it) : std::next(it);
  if (windows_.size() < options_.max_keys) return;
  auto oldest = std::min_element(windows_.begin(), windows_.end(),
                                 [](const auto& a, const auto& b) { return a.second.start < b.second.start; });
  windows_.erase(oldest);
}

}  // namespace wsgate::agent
