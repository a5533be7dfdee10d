// File: engine/quota/quota_client.cc
#include "engine/quota/quota_client.h"

#include <pthread.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "engine/common/log.h"

namespace wsgate::engine::quota {

std::string StoreKey(const std::string& throttle_key, uint32_t window_s, uint64_t window) {
  // The braces are a Redis Cluster hash tag: every window of one key lives on one node.
  return absl::StrCat("wsgate:quota:{", throttle_key, "}:", window_s, ":", window * window_s);
}

QuotaClient::QuotaClient(const QuotaOptions& options, std::unique_ptr<QuotaStore> store,
                         throttle::ClusterQuota* quota, const common::Clock& clock)
    : options_(options), store_(std::move(store)), quota_(quota), clock_(clock), health_(options.max_backoff_ms) {
  batch_.reserve(64);
  last_ok_ms_ = clock_.NowMs();
}

QuotaClient::~QuotaClient() { Stop(); }

void QuotaClient::Start() {
  thread_ = std::thread([this] {
    // A write to a Redis that went away must fail with EPIPE, not kill the process (main.cc
    // ignores SIGPIPE; an embedding test binary may not).
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    WSGATE_LOG(kInfo, "cluster-wide quotas on %s (%u engine(s), leases of at most %u events, fallback %s)",
               store_->Describe(), options_.lease.engines, static_cast<unsigned>(options_.lease.max_lease),
               throttle::QuotaModeName(FallbackMode(options_.fallback)));
    while (true) {
      const int64_t now = clock_.NowMs();
      int64_t wait = health_.down() ? health_.next_try_ms() - now : last_ok_ms_ + options_.health_interval_ms - now;
      if (wait < 1) wait = 1;
      if (wait > options_.health_interval_ms) wait = options_.health_interval_ms;
      batch_.clear();
      if (!quota_->Take(&batch_, wait)) break;
      Step(-1);
    }
  });
}

void QuotaClient::Stop() {
  quota_->Shutdown();
  if (thread_.joinable()) thread_.join();
}

void QuotaClient::Step(int64_t wait_ms) {
  if (wait_ms >= 0) {  // tests drive it directly; the thread has taken the queue already
    batch_.clear();
    quota_->Take(&batch_, wait_ms);
  }
  const int64_t now = clock_.NowMs();
  size_t served = 0;
  if (health_.down()) {
    if (!health_.MayTry(now)) {
      for (throttle::ClusterGate* g : batch_) g->Dequeued();  // fallback counts locally meanwhile
      return;
    }
    if (absl::Status s = store_->Ping(); !s.ok()) {
      Failed(s, now);
      for (throttle::ClusterGate* g : batch_) g->Dequeued();
      return;
    }
    Succeeded();
  }
  for (; served < batch_.size(); ++served) {
    if (absl::Status s = Serve(batch_[served], now); !s.ok()) {
      Failed(s, now);
      break;
    }
  }
  if (served < batch_.size()) {
    for (size_t i = served; i < batch_.size(); ++i) batch_[i]->Dequeued();
    return;
  }
  if (served > 0) {
    Succeeded();
    return;
  }
  if (now - last_ok_ms_ >= options_.health_interval_ms) {
    if (absl::Status s = store_->Ping(); !s.ok()) Failed(s, now);
    else Succeeded();
  }
}

absl::Status QuotaClient::Serve(throttle::ClusterGate* gate, int64_t now_ms) {
  const uint64_t window = gate->requested_window();
  const uint64_t used = gate->Used(window), granted = gate->Granted(window);
  TakeRequest req;
  req.key = StoreKey(gate->key(), gate->window_s(), window);
  req.limit = gate->limit();
  req.debt = used > granted ? used - granted : 0;
  req.params = options_.lease;
  // Until the window ends by this engine's clock, plus a minute for engines whose clocks differ.
  const int64_t end_s = static_cast<int64_t>((window + 1) * gate->window_s());
  req.ttl_s = end_s - clock_.NowUnixS() + 60;
  if (req.ttl_s < 1) req.ttl_s = 1;
  auto r = store_->Take(req);
  if (!r.ok()) return r.status();
  quota_->stats().leases.fetch_add(1, std::memory_order_relaxed);
  quota_->stats().leased_events.fetch_add(r->granted, std::memory_order_relaxed);
  gate->ApplyGrant(window, r->granted, r->remaining);
  (void)now_ms;
  return absl::OkStatus();
}

void QuotaClient::Failed(const absl::Status& status, int64_t now_ms) {
  quota_->stats().store_errors.fetch_add(1, std::memory_order_relaxed);
  if (health_.OnError(now_ms) == StoreHealth::Change::kLost) {
    const throttle::QuotaMode mode = FallbackMode(options_.fallback);
    quota_->set_mode(mode);
    quota_->stats().fallbacks.fetch_add(1, std::memory_order_relaxed);
    down_.store(true, std::memory_order_relaxed);
    WSGATE_LOG(kWarning, "quota store %s unreachable (%s): falling back to %s%s; retrying every %d ms at most",
               store_->Describe(), std::string(status.message()), throttle::QuotaModeName(mode),
               mode == throttle::QuotaMode::kLocal
                   ? absl::StrCat(" (each limit / ", options_.lease.engines, " on this engine)")
                   : std::string(),
               static_cast<int>(options_.max_backoff_ms));
  }
}

void QuotaClient::Succeeded() {
  last_ok_ms_ = clock_.NowMs();
  if (health_.OnSuccess() == StoreHealth::Change::kBack) {
    quota_->set_mode(throttle::QuotaMode::kCluster);
    down_.store(false, std::memory_order_relaxed);
    WSGATE_LOG(kInfo, "quota store %s is back: cluster-wide quotas again", store_->Describe());
  }
}

}  // namespace wsgate::engine::quota
