// File: engine/server/admission.cc
//
// Admission and connection lifetime (issue 15), the loop's side:
//   - concurrent-connection quotas: a handshake takes a slot per limited subscription,
//     application, API (a policy's max_connections) and client address
//     (settings.max_connections_per_address) before the backend is contacted; over a quota the
//     client gets 429 with a body naming the limit and Retry-After. Loop::Free gives the slots
//     back, so every path (failed connect, close, shed, drain) releases them exactly once;
//   - handshake rate limits: token buckets per client address and per API (429, Retry-After);
//   - overload protection: past the soft threshold 503 for new upgrades and slower keepalive
//     pings, past the hard one the newest connections shed with 1013 (throttle/overload.h);
//   - idle timeout and maximum lifetime (per API, else the settings): close 1001;
//   - a drain (and an API's undeploy, for its connections) that closes relays with
//     settings.drain_close_code (1012) spread over the first half of the drain window, with
//     jitter, so clients do not all reconnect at once.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/log.h"
#include "engine/config/throttle_plan.h"
#include "engine/server/loop.h"
#include "engine/tls/crypto.h"

namespace wsgate::engine::server {
namespace {
using common::Sv;

constexpr int kQuotaRetryAfterS = 5;  // a held connection rarely ends within a second
constexpr int64_t kMinDrainSpreadMs = 200;
constexpr int64_t kOverloadCheckMs = 100;

std::string_view LevelName(std::string_view counter_key) {
  if (counter_key.rfind("sub:", 0) == 0) return "subscription";
  if (counter_key.rfind("app:", 0) == 0) return "application";
  return "API";
}
}  // namespace

bool Loop::AdmitConnection(Conn& c, const config::Snapshot& snap) {
  std::vector<throttle::ConnectionQuota> quotas;
  for (const config::ThrottleScope& scope :
       config::ThrottleScopes(snap, c.identity.application_id, c.api_id, !c.identity.subscription_id.empty()))
    if (scope.policy->max_connections > 0)
      quotas.push_back({scope.counter_key, scope.policy->max_connections, LevelName(scope.counter_key)});
  if (snap.settings.max_connections_per_address > 0 && !c.client_ip.empty())
    quotas.push_back({absl::StrCat("addr:", throttle::ClientAddressKey(c.client_ip)),
                      snap.settings.max_connections_per_address, "client address"});
  if (quotas.empty()) return true;
  int refused = throttle_->connections().TryAcquireAll(quotas, &c.quota);
  if (refused < 0) return true;
  ++stats_.connection_quota_refusals;
  const throttle::ConnectionQuota& q = quotas[static_cast<size_t>(refused)];
  Respond(c, 429,
          absl::StrCat("Too Many Requests: connection limit of ", q.limit, " per ", Sv(q.what), " reached"),
          absl::StrCat("Retry-After: ", kQuotaRetryAfterS, "\r\n"));
  return false;
}

bool Loop::AdmitHandshakeRate(Conn& c, const config::Api* api) {
  const config::Settings& s = snapshot_->settings;
  uint32_t rate = s.handshake_rate_per_address, burst = s.handshake_burst_per_address;
  std::string key;
  std::string_view what = "client address";
  if (api != nullptr) {
    rate = api->handshake_rate ? api->handshake_rate : s.handshake_rate_per_api;
    burst = api->handshake_rate ? api->handshake_burst : s.handshake_burst_per_api;
    if (rate == 0) return true;
    key = absl::StrCat("api:", api->id);
    what = "API";
  } else {
    if (rate == 0 || c.client_ip.empty()) return true;
    key = absl::StrCat("addr:", throttle::ClientAddressKey(c.client_ip));
  }
  int64_t wait_ms = throttle_->handshakes().TryTake(key, rate, burst, now_ms_);
  if (wait_ms == 0) return true;
  ++stats_.handshake_rate_refusals;
  Respond(c, 429,
          absl::StrCat("Too Many Requests: more than ", rate, " new connections per second per ", Sv(what),
                       " (burst ", burst == 0 ? rate : burst, ")"),
          absl::StrCat("Retry-After: ", throttle::RetryAfterSeconds(wait_ms), "\r\n"));
  return false;
}

void Loop::ResolveLifetime(Conn& c, const config::Snapshot& snap) {
  const config::Settings& s = snap.settings;
  c.idle_timeout_ms = s.idle_timeout_ms;
  c.max_lifetime_ms = s.max_lifetime_ms;
  if (auto it = snap.apis_by_id.find(Sv(c.api_id)); it != snap.apis_by_id.end()) {
    if (it->second->idle_timeout_ms) c.idle_timeout_ms = it->second->idle_timeout_ms;
    if (it->second->max_lifetime_ms) c.max_lifetime_ms = it->second->max_lifetime_ms;
  }
}

int64_t Loop::LifetimeDue(const Conn& c) const {
  int64_t due = INT64_MAX;
  if (c.idle_timeout_ms) due = std::min(due, c.last_data_ms + c.idle_timeout_ms);
  if (c.max_lifetime_ms) due = std::min(due, c.relay_started_ms + c.max_lifetime_ms);
  if (c.drain_close_ms) due = std::min(due, c.drain_close_ms);
  return due;
}

bool Loop::EnforceLifetime(Conn& c) {
  if (c.drain_close_ms && now_ms_ >= c.drain_close_ms) {
    ++stats_.drain_closes;
    SendClose(c, SideId::kClient, snapshot_->settings.drain_close_code,
              c.undeployed ? "API undeployed" : "server restarting; reconnect later");
    SendClose(c, SideId::kBackend, 1001, c.undeployed ? "API undeployed" : "gateway shutting down");
    return true;
  }
  if (c.max_lifetime_ms && now_ms_ - c.relay_started_ms >= c.max_lifetime_ms) {
    ++stats_.lifetime_closes;
    SendClose(c, SideId::kClient, 1001, "maximum connection lifetime reached");
    SendClose(c, SideId::kBackend, 1001, "client reached the maximum connection lifetime");
    return true;
  }
  if (c.idle_timeout_ms && now_ms_ - c.last_data_ms >= c.idle_timeout_ms) {
    ++stats_.idle_timeouts;
    SendClose(c, SideId::kClient, 1001, "idle timeout");
    SendClose(c, SideId::kBackend, 1001, "client idle timeout");
    return true;
  }
  return false;
}

void Loop::ScheduleDrainClose(Conn& c, int timeout_ms) {
  // The first half of the window spreads the closes; the second leaves time for the close
  // handshakes. Uniform jitter: each connection its own random moment. A window too short to
  // spread over (under two timer ticks) closes at once.
  int64_t spread = timeout_ms / 2;
  uint32_t r = 0;
  if (spread >= kMinDrainSpreadMs) tls::RandomBytes(reinterpret_cast<uint8_t*>(&r), sizeof(r));
  c.drain_close_ms = now_ms_ + (spread >= kMinDrainSpreadMs ? static_cast<int64_t>(r % static_cast<uint64_t>(spread)) : 0);
  c.timer_dirty = true;
  if (c.drain_close_ms <= now_ms_) EnforceLifetime(c);
}

// Once per kOverloadCheckMs: the shard's pressure (throttle/overload.h); past the hard
// threshold the newest connections are shed.
void Loop::CheckOverload() {
  if (now_ms_ < next_overload_check_ms_) return;
  next_overload_check_ms_ = now_ms_ + kOverloadCheckMs;
  const config::Settings& s = snapshot_->settings;
  throttle::OverloadInput in;
  in.connections = table_.live();
  in.connection_capacity = static_cast<size_t>(options_.max_connections);
  in.buffers_held = ring_.buffers_out();
  in.buffer_capacity = options_.buffer_count;
  throttle::OverloadLevel before = overload_.level;
  overload_ = throttle::EvaluateOverload(in, s.overload_soft_percent, s.overload_hard_percent);
  stats_.overload_level = static_cast<uint64_t>(overload_.level);
  if (overload_.level != before)
    WSGATE_LOG(kWarning, "shard %d: overload %s (%s at %d%% of capacity)", options_.index,
               overload_.level == throttle::OverloadLevel::kNone   ? "over"
               : overload_.level == throttle::OverloadLevel::kSoft ? "soft: refusing new upgrades with 503"
                                                                   : "hard: shedding the newest connections with 1013",
               std::string(overload_.resource), static_cast<int>(overload_.percent));
  if (overload_.level == throttle::OverloadLevel::kHard && overload_.shed > 0) ShedNewest(overload_.shed);
}

bool Loop::RefuseIfOverloaded(Conn& c) {
  if (overload_.level == throttle::OverloadLevel::kNone) return false;
  ++stats_.overload_refusals;
  Respond(c, 503,
          absl::StrCat("Service Unavailable: the gateway is overloaded (", Sv(overload_.resource), " at ",
                       overload_.percent, "% of capacity); retry later"),
          absl::StrCat("Retry-After: ", snapshot_->settings.overload_retry_after_s, "\r\n"));
  return true;
}

// The newest first: connections still in their handshake (answered 503), then relays by the
// time their relay started, latest first (close 1013).
void Loop::ShedNewest(size_t n) {
  std::vector<std::pair<int64_t, uint32_t>> candidates;  // (age key, slot): larger is newer
  table_.ForEach([&](Conn& c) {
    if (c.phase == Phase::kRelay && !c.client().close_sent) candidates.push_back({c.relay_started_ms, c.slot});
    else if (c.phase == Phase::kRequest || c.phase == Phase::kConnecting || c.phase == Phase::kUpstreamHandshake)
      candidates.push_back({INT64_MAX, c.slot});
  });
  n = std::min(n, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<long>(n), candidates.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; i < n; ++i) {
    Conn& c = table_.At(candidates[i].second);
    ++stats_.overload_sheds;
    if (c.phase == Phase::kRelay) {
      SendClose(c, SideId::kClient, 1013, "Try Again Later: the gateway is overloaded");
      SendClose(c, SideId::kBackend, 1001, "gateway overloaded");
    } else {
      Respond(c, 503, "Service Unavailable: the gateway is overloaded; retry later",
              absl::StrCat("Retry-After: ", snapshot_->settings.overload_retry_after_s, "\r\n"));
    }
    Settle(c);
  }
}

}  // namespace wsgate::engine::server
