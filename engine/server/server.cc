// File: engine/server/server.cc
#include "engine/server/server.h"
#include "engine/config/delta.h"
#include "engine/config/incremental.h"

#include <sys/resource.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/ascii.h"
#include "engine/common/absl_compat.h"
#include "engine/common/log.h"
#include "engine/common/status_macros.h"
#include "engine/server/listener.h"

namespace wsgate::engine::server {

using common::Sv;

absl::Status ParseListenAddress(std::string_view text, std::string_view flag, sockaddr_storage* out, socklen_t* len) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--", Sv(flag), ": '", Sv(text), "' ", Sv(why)));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("needs ADDR:PORT");
  std::string host(text.substr(0, colon));
  uint32_t port;
  if (!absl::SimpleAtoi(Sv(text.substr(colon + 1)), &port) || port > 65535) return bad("has a bad port");
  *out = sockaddr_storage{};
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
  } else {
    return bad("is not an IP address and port");
  }
  return absl::OkStatus();
}

Server::Server(ServerOptions options) : options_(std::move(options)), current_(config::EmptySnapshot()) {
  if (options_.quota.store.kind != quota::StoreAddress::kLocalOnly) {
    cluster_quota_ = std::make_unique<throttle::ClusterQuota>(options_.quota.lease);
    throttle_.set_cluster(cluster_quota_.get());
    quota_client_ = std::make_unique<quota::QuotaClient>(
        options_.quota,
        options_.make_quota_store ? options_.make_quota_store()
                                  : quota::MakeStore(options_.quota.store, options_.quota.connect_timeout_ms),
        cluster_quota_.get(), common::SystemClock::Get());
  }
}

Server::~Server() {
  Drain(0);
  Wait();
  if (quota_client_) quota_client_->Stop();  // it reads the counters: before throttle_ goes
}

namespace {

struct ListenAddress {
  std::string text;
  ShardOptions::ListenAddress addr;
};

void SetPort(sockaddr_storage& a, uint16_t port) {
  if (a.ss_family == AF_INET) reinterpret_cast<sockaddr_in&>(a).sin_port = htons(port);
  else reinterpret_cast<sockaddr_in6&>(a).sin6_port = htons(port);
}

// "ADDR:PORT[,ADDR:PORT...]" → addresses ("" entries skipped); [::] falls back to 0.0.0.0 on a
// host without IPv6.
absl::Status ParseListenList(std::string_view list, bool tls, const std::function<bool()>& has_ipv6,
                             std::vector<ListenAddress>* out) {
  std::string_view flag = tls ? "wss-listen" : "ws-listen";
  for (absl::string_view part : absl::StrSplit(Sv(list), ',', absl::SkipWhitespace())) {
    ListenAddress l{std::string(absl::StripAsciiWhitespace(part)), {}};
    l.addr.tls = tls;
    WSGATE_RETURN_IF_ERROR(ParseListenAddress(l.text, flag, &l.addr.addr, &l.addr.len));
    if (IsIpv6Any(l.addr.addr) && !has_ipv6()) {
      uint16_t port = ntohs(reinterpret_cast<const sockaddr_in6&>(l.addr.addr).sin6_port);
      std::string v4 = absl::StrCat("0.0.0.0:", port);
      WSGATE_LOG(kWarning, "--%s %s: this host has no IPv6; listening on %s instead (IPv4 only)", std::string(flag),
                 l.text, v4);
      WSGATE_RETURN_IF_ERROR(ParseListenAddress(v4, flag, &l.addr.addr, &l.addr.len));
    }
    out->push_back(std::move(l));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Server::Start() {
  if (quota_client_) quota_client_->Start();
  std::vector<ListenAddress> ws, wss;
  WSGATE_RETURN_IF_ERROR(ParseListenList(options_.ws_listen, false, options_.host_has_ipv6, &ws));
  WSGATE_RETURN_IF_ERROR(ParseListenList(options_.wss_listen, true, options_.host_has_ipv6, &wss));
  if (ws.empty()) return absl::InvalidArgumentError("--ws-listen: needs at least one ADDR:PORT");
  if (!options_.reuse_port) {
    for (const auto* list : {&ws, &wss})
      for (const ListenAddress& l : *list)
        WSGATE_RETURN_IF_ERROR(CheckAddressFree(l.addr.addr, l.addr.len,
                                                absl::StrCat(l.addr.tls ? "--wss-listen " : "--ws-listen ", l.text)));
  }
  {
    // With a default certificate, wss works before the first push: compile an empty snapshot
    // that carries it (this also checks the certificate files at startup).
    std::lock_guard<std::mutex> lock(apply_mu_);
    if (!options_.tls.cert_file.empty() && !current_->server_tls) {
      auto compiled = config::CompileDefaults(options_.tls);
      if (!compiled.ok())
        return absl::InvalidArgumentError(absl::StrCat("--tls-cert/--tls-key: ", compiled.status().message()));
      current_ = *compiled;
    }
  }
  int count = options_.shards > 0 ? options_.shards : static_cast<int>(std::thread::hardware_concurrency());
  if (count < 1) count = 1;
  max_connections_ = options_.max_connections_per_shard;
  {
    // Each proxied connection holds two descriptors; a limit the fd table cannot honour turns
    // into EMFILE at accept, so the default stays below it. With direct descriptors (issue 20)
    // each shard's fixed-file table holds sockets too, bounded by the limit on its own: a shard
    // fits its table plus its share of the process's descriptor table.
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    if (nofile.rlim_cur < nofile.rlim_max) {
      nofile.rlim_cur = nofile.rlim_max;
      setrlimit(RLIMIT_NOFILE, &nofile);
      getrlimit(RLIMIT_NOFILE, &nofile);
    }
    const int64_t limit = static_cast<int64_t>(std::min<rlim_t>(nofile.rlim_cur, 1 << 20));
    fixed_files_ = options_.fixed_files_per_shard;
    if (fixed_files_ < 0) {
      int64_t want = limit;
      if (max_connections_ > 0) want = std::min<int64_t>(want, int64_t{max_connections_} * 2 + 64);
      fixed_files_ = static_cast<int>(want);
    } else if (fixed_files_ > limit) {
      return absl::InvalidArgumentError(absl::StrCat("--fixed-files ", fixed_files_, ": above the descriptor limit ",
                                                     limit, " (each fixed-file table is bounded by it)"));
    }
    int64_t fit = ((limit - 64) / count + fixed_files_) / 2;
    if (fit < 1) fit = 1;
    if (max_connections_ == 0) {
      max_connections_ = static_cast<int>(std::min<int64_t>(fit, 1000000));
      WSGATE_LOG(kInfo, "max connections per shard: %d (descriptor limit %d, %d shards, fixed-file table %d each)",
                 max_connections_, static_cast<int>(nofile.rlim_cur), count, fixed_files_);
    } else if (max_connections_ > fit) {
      WSGATE_LOG(kWarning,
                 "--max-connections %d per shard needs %d descriptors but the limit is %d: past ~%d connections "
                 "per shard clients get 503 at accept; raise the limit (ulimit -n / LimitNOFILE=)",
                 max_connections_, static_cast<int>(int64_t{max_connections_} * 2 * count + 64 - int64_t{fixed_files_} * count),
                 static_cast<int>(nofile.rlim_cur), static_cast<int>(fit));
    }
  }
  std::shared_ptr<const config::Snapshot> initial;
  {
    std::lock_guard<std::mutex> lock(apply_mu_);
    initial = current_;
  }
  for (int i = 0; i < count; ++i) {
    ShardOptions so;
    so.index = i;
    so.listen_addr = ws[0].addr.addr;
    so.listen_addr_len = ws[0].addr.len;
    if (!wss.empty()) {
      so.wss_addr = wss[0].addr.addr;
      so.wss_addr_len = wss[0].addr.len;
    }
    for (size_t k = 1; k < ws.size(); ++k) so.more_listen.push_back(ws[k].addr);
    for (size_t k = 1; k < wss.size(); ++k) so.more_listen.push_back(wss[k].addr);
    so.max_connections = max_connections_;
    so.fixed_files = static_cast<unsigned>(fixed_files_);
    so.ring_entries = options_.ring_entries;
    so.cq_entries = options_.cq_entries;
    so.buffer_count = options_.buffer_count;
    so.buffer_size = options_.buffer_size;
    so.throttle = &throttle_;
    so.access_log = options_.access_log;
    so.measure_busy = options_.measure_busy;
    so.engine_connections = &engine_connections_;
    if (i > 0) {  // port 0: every shard binds the ports the first one got
      SetPort(so.listen_addr, port_);
      if (!wss.empty()) SetPort(so.wss_addr, wss_port_);
      for (size_t k = 0; k < so.more_listen.size(); ++k) SetPort(so.more_listen[k].addr, shards_[0]->more_ports()[k]);
    }
    auto shard = std::make_unique<Shard>(so);
    if (absl::Status s = shard->Start(initial); !s.ok())
      return absl::Status(s.code(), absl::StrCat("--ws-listen ", options_.ws_listen, ": shard ", i, ": ", s.message()));
    if (i == 0) {
      port_ = shard->port();
      wss_port_ = shard->wss_port();
      ws_ports_ = {port_};
      if (!wss.empty()) wss_ports_ = {wss_port_};
      for (size_t k = 0; k < so.more_listen.size(); ++k)
        (so.more_listen[k].tls ? wss_ports_ : ws_ports_).push_back(shard->more_ports()[k]);
    }
    shards_.push_back(std::move(shard));
  }
  std::lock_guard<std::mutex> lock(apply_mu_);
  started_ = true;
  return absl::OkStatus();
}

absl::StatusOr<ApplyResult> Server::Apply(const v1::Snapshot& snapshot) {
  std::lock_guard<std::mutex> lock(apply_mu_);
  return ApplyLocked(snapshot);
}

absl::StatusOr<ApplyResult> Server::ApplyLocked(const v1::Snapshot& snapshot) {
  // A draining shard may already have ended its loop and would never run the swap.
  if (draining_) return absl::UnavailableError("the engine is draining (shutting down): the config was not applied");
  if (snapshot.agent_id() == current_->agent_id && snapshot.version() <= current_->version && current_->version != 0)
    return ApplyResult{current_->version, 0};  // a retry or a stale push: acknowledge, change nothing
  auto started = std::chrono::steady_clock::now();
  auto compiled = config::Compile(snapshot, options_.resolver, options_.tls);
  if (!compiled.ok()) return compiled.status();
  current_ = *compiled;
  current_proto_ = snapshot;
  pending_deltas_.clear();
  last_apply_incremental_ = false;
  return SwapLocked(started);
}

ApplyResult Server::SwapLocked(std::chrono::steady_clock::time_point started) {
  // Swap on every shard and wait: when Apply returns, no shard serves the old config.
  std::vector<std::future<uint64_t>> done;
  for (auto& shard : shards_) {
    auto promise = std::make_shared<std::promise<uint64_t>>();
    done.push_back(promise->get_future());
    shard->Post([promise, snap = current_](Shard& s) { promise->set_value(s.ApplySnapshot(snap)); });
  }
  ApplyResult result{current_->version, 0};
  for (auto& f : done) result.connections_closed += f.get();
  last_apply_duration_us_ =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  WSGATE_LOG(kInfo, "applied config version %d from agent '%s' (%d APIs; %d connections closed%s; %d us)",
             static_cast<int64_t>(current_->version), current_->agent_id, static_cast<int>(current_->apis.size()),
             static_cast<int64_t>(result.connections_closed), last_apply_incremental_ ? "; a delta" : "",
             last_apply_duration_us_);
  return result;
}

absl::StatusOr<ApplyResult> Server::ApplyDelta(const v1::ApplyDeltaRequest& d) {
  std::lock_guard<std::mutex> lock(apply_mu_);
  if (draining_) return absl::UnavailableError("the engine is draining (shutting down): the delta was not applied");
  auto started = std::chrono::steady_clock::now();
  // The compiled snapshot plus the delta (incremental.h), sharing all it does not touch.
  auto next = config::ApplyCompiledDelta(*current_, d);
  if (!next.ok()) return next.status();
  if (*next == nullptr) {
    // The rare delta the indexes cannot apply exactly: merge into the proto and recompile.
    FoldDeltasLocked();
    absl::StatusOr<v1::Snapshot> merged = config::MergeDelta(current_proto_, d);
    if (!merged.ok()) return merged.status();
    return ApplyLocked(*merged);
  }
  current_ = *std::move(next);
  // The proto copy (for /config_dump and recompiles) catches up only when asked: merging 1M
  // keys costs far more than the delta itself. Bounded, so the log cannot grow without limit.
  pending_deltas_.push_back(d);
  last_apply_incremental_ = true;
  ApplyResult result = SwapLocked(started);
  if (pending_deltas_.size() >= kMaxPendingDeltas) FoldDeltasLocked();
  return result;
}

void Server::FoldDeltasLocked() {
  for (const auto& d : pending_deltas_) config::MergeDeltaInto(d, &current_proto_);
  pending_deltas_.clear();
}

uint64_t Server::applied_version() const {
  std::lock_guard<std::mutex> lock(apply_mu_);
  return current_->version;
}

std::string Server::agent_id() const {
  std::lock_guard<std::mutex> lock(apply_mu_);
  return current_->agent_id;
}

bool Server::draining() const {
  std::lock_guard<std::mutex> lock(apply_mu_);
  return draining_;
}

ShardStats Server::CollectStats() {
  ShardStats total;
  for (const ShardStats& s : CollectShardStats()) total.Merge(s);
  return total;
}

std::vector<ShardStats> Server::CollectShardStats() {
  std::vector<std::future<ShardStats>> parts;
  for (auto& shard : shards_) {
    auto promise = std::make_shared<std::promise<ShardStats>>();
    parts.push_back(promise->get_future());
    shard->Post([promise](Shard& s) { promise->set_value(s.stats()); });
  }
  std::vector<ShardStats> out;
  for (auto& p : parts) {
    // A shard that has already ended (after a drain) never answers.
    if (p.wait_for(std::chrono::seconds(2)) == std::future_status::ready) out.push_back(p.get());
  }
  return out;
}

bool Server::Ready(std::string* why) const {
  std::lock_guard<std::mutex> lock(apply_mu_);
  const char* reason = nullptr;
  if (draining_) reason = "draining: the engine is shutting down";
  else if (!started_) reason = "not listening yet: the client listeners are not bound";
  else if (!current_->configured) reason = "no config yet: waiting for the agent's first snapshot (or --config)";
  if (why != nullptr) *why = reason != nullptr ? reason : "ready";
  return reason == nullptr;
}

v1::Snapshot Server::AppliedProto() {
  std::lock_guard<std::mutex> lock(apply_mu_);
  FoldDeltasLocked();
  return current_proto_;
}

bool Server::last_apply_incremental() const {
  std::lock_guard<std::mutex> lock(apply_mu_);
  return last_apply_incremental_;
}

int64_t Server::last_apply_duration_us() const {
  std::lock_guard<std::mutex> lock(apply_mu_);
  return last_apply_duration_us_;
}

void Server::Drain(int timeout_ms) {
  {
    std::lock_guard<std::mutex> lock(apply_mu_);
    if (draining_) return;
    draining_ = true;
    if (timeout_ms < 0) timeout_ms = static_cast<int>(current_->settings.drain_timeout_ms);
  }
  for (auto& shard : shards_) shard->Post([timeout_ms](Shard& s) { s.BeginDrain(timeout_ms); });
}

void Server::Wait() {
  for (auto& shard : shards_) shard->Join();
}

}  // namespace wsgate::engine::server
