// File: engine/throttle/connections.cc
#include "engine/throttle/connections.h"

#include <arpa/inet.h>

#include <cstring>
#include <functional>

#include "engine/common/absl_compat.h"

namespace wsgate::engine::throttle {

using common::Sv;

ConnectionCounts::Stripe& ConnectionCounts::StripeFor(std::string_view key) const {
  return stripes_[std::hash<std::string_view>{}(key) % kStripes];
}

bool ConnectionCounts::TryAcquire(std::string_view key, uint32_t limit) {
  Stripe& s = StripeFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.counts.find(Sv(key));
  if (it == s.counts.end()) {
    if (limit == 0) return false;
    s.counts.emplace(std::string(key), 1);
    return true;
  }
  if (it->second >= limit) return false;
  ++it->second;
  return true;
}

void ConnectionCounts::Release(std::string_view key) {
  Stripe& s = StripeFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.counts.find(Sv(key));
  if (it == s.counts.end()) return;
  if (--it->second == 0) s.counts.erase(it);
}

uint32_t ConnectionCounts::Count(std::string_view key) const {
  Stripe& s = StripeFor(key);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.counts.find(Sv(key));
  return it == s.counts.end() ? 0 : it->second;
}

size_t ConnectionCounts::keys() const {
  size_t n = 0;
  for (const Stripe& s : stripes_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.counts.size();
  }
  return n;
}

int ConnectionCounts::TryAcquireAll(const std::vector<ConnectionQuota>& quotas, ConnectionHold* hold) {
  hold->Release(*this);
  for (size_t i = 0; i < quotas.size() && i < ConnectionHold::kMaxKeys; ++i) {
    if (!TryAcquire(quotas[i].key, quotas[i].limit)) {
      hold->Release(*this);
      return static_cast<int>(i);
    }
    if (hold->keys_ == nullptr) hold->keys_.reset(new std::string[ConnectionHold::kMaxKeys]);
    hold->keys_[hold->n_++] = quotas[i].key;
  }
  return -1;
}

void ConnectionHold::Release(ConnectionCounts& counts) {
  for (int i = 0; i < n_; ++i) {
    counts.Release(keys_[i]);
  }
  keys_.reset();
  n_ = 0;
}

std::string ClientAddressKey(std::string_view ip) {
  std::string text(ip);
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) != 1) return text;  // IPv4 (or not an address)
  char out[INET6_ADDRSTRLEN] = "";
  if (IN6_IS_ADDR_V4MAPPED(&a6)) {
    in_addr a4{};
    std::memcpy(&a4, &a6.s6_addr[12], 4);
    inet_ntop(AF_INET, &a4, out, sizeof(out));
    return out;
  }
  std::memset(&a6.s6_addr[8], 0, 8);
  inet_ntop(AF_INET6, &a6, out, sizeof(out));
  return std::string(out) + "/64";
}

}  // namespace wsgate::engine::throttle
