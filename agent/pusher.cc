// File: agent/pusher.cc
#include "agent/pusher.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "agent/engine_health.h"
#include "agent/snapshot_delta.h"
#include "engine/common/log.h"
#include "wsgate/v1/engine.grpc.pb.h"

namespace wsgate::agent {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int kPollMs = 2000;                // status poll of an up-to-date engine
constexpr int kRetryMs = 200;                // first retry after a failure, doubling...
constexpr int kMaxRetryMs = kPollMs;         // ...but never slower than the poll
constexpr int kReconnectBackoffMs = 200;     // the channel's reconnect backoff, likewise bounded
constexpr int kMaxReconnectBackoffMs = 1000;

std::chrono::system_clock::time_point Deadline(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

}  // namespace

absl::StatusOr<EngineTarget> ParseEngineTarget(const std::string& flag, const std::string& default_environment) {
  EngineTarget out{flag, default_environment};
  size_t at = flag.rfind('@');
  if (at != std::string::npos) {
    out.target = flag.substr(0, at);
    out.environment = flag.substr(at + 1);
    if (out.environment.empty())
      return absl::InvalidArgumentError("--engine " + flag + ": no environment after '@' (TARGET@ENV)");
  }
  if (out.target.empty()) return absl::InvalidArgumentError("--engine " + flag + ": no target (unix:PATH[@ENV])");
  return out;
}

struct Pusher::Engine {
  Engine(const std::string& t, const std::string& env) : target(t), environment(env), health(t, env) {}
  std::string target;
  std::string environment;
  std::unique_ptr<v1::EngineControl::Stub> stub;
  std::thread thread;
  v1::EngineInfo info;           // guarded by Pusher::mu_
  uint64_t checked_generation = 0;  // the Notify generation its last completed check started after
  EngineHealth health;              // this thread's only: the WARN/INFO line once per transition
  // This thread's only: the snapshot the engine last acknowledged from this agent, the base of
  // the next delta (CredentialDelta). Null until a full push succeeded.
  std::unique_ptr<v1::Snapshot> acked;
  std::string acked_engine_id;  // the engine process that acknowledged it (a restart forgets it)
};

Pusher::Pusher(Catalog& catalog, std::vector<EngineTarget> targets) : catalog_(catalog) {
  for (auto& [t, environment] : targets) {
    auto e = std::make_unique<Engine>(t, environment);
    e->info.set_target(t);
    e->info.set_environment(environment);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(256 << 20);
    // gRPC's default reconnect backoff grows to 120 s: after an engine was down for 20-60 s the
    // channel waited ~10 s more before trying the restarted engine, which served 503 meanwhile.
    // The engine is a local socket, so a reconnect attempt is cheap: retry at least every second.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kReconnectBackoffMs);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kReconnectBackoffMs);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
    e->stub = v1::EngineControl::NewStub(grpc::CreateCustomChannel(t, grpc::InsecureChannelCredentials(), args));
    engines_.push_back(std::move(e));
  }
}

Pusher::~Pusher() { Stop(); }

void Pusher::Start() {
  for (auto& e : engines_) e->thread = std::thread([this, raw = e.get()] { Run(*raw); });
}

void Pusher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& e : engines_)
    if (e->thread.joinable()) e->thread.join();
}

void Pusher::Notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

std::vector<v1::EngineInfo> Pusher::Status() const {
  std::lock_guard lock(mu_);
  uint64_t desired = catalog_.config_version();
  std::vector<v1::EngineInfo> out;
  for (const auto& e : engines_) {
    v1::EngineInfo info = e->info;
    info.set_desired_version(desired);
    info.set_lag(desired > info.applied_version() ? desired - info.applied_version() : 0);
    out.push_back(std::move(info));
  }
  return out;
}

void Pusher::Refresh(int timeout_ms) {
  uint64_t wanted;
  {
    std::lock_guard lock(mu_);
    wanted = ++generation_;
  }
  cv_.notify_all();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    for (const auto& e : engines_)
      if (e->checked_generation < wanted) return false;
    return true;
  });
}

bool Pusher::WaitForVersion(uint64_t version, int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    for (const auto& e : engines_)
      if (e->info.applied_version() < version) return false;
    return true;
  });
}

bool Pusher::ServesEnvironment(const std::string& environment) const {
  for (const auto& e : engines_)
    if (e->environment == environment) return true;
  return false;
}

void Pusher::Run(Engine& engine) {
  int backoff_ms = kRetryMs;
  uint64_t seen_generation = 0;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      seen_generation = generation_;
    }
    bool ok = false;
    grpc::ClientContext status_ctx;
    status_ctx.set_deadline(Deadline(2000));
    v1::EngineStatus status;
    grpc::Status st = engine.stub->GetStatus(&status_ctx, {}, &status);
    std::string error;
    uint64_t desired = catalog_.config_version();
    if (st.ok()) {
      bool current = status.agent_id() == catalog_.agent_id() && status.applied_version() >= desired;
      {
        std::lock_guard lock(mu_);
        if (engine.info.engine_id() != status.engine_id() && !engine.info.engine_id().empty())
          WSGATE_LOG(kInfo, "engine %s restarted (id %s); bringing it up to date", engine.target, status.engine_id());
        engine.info.set_reachable(true);
        engine.info.set_engine_id(status.engine_id());
        engine.info.set_version(status.version());  // issue 17 (cli): version, uptime, listeners
        engine.info.set_started_unix_ms(status.started_unix_ms());
        *engine.info.mutable_listeners() = status.listeners();
        if (status.agent_id() == catalog_.agent_id()) engine.info.set_applied_version(status.applied_version());
        else engine.info.set_applied_version(0);
      }
      // Traffic figures for `wsgatectl status` (best effort: a failure here is not an outage).
      grpc::ClientContext stats_ctx;
      stats_ctx.set_deadline(Deadline(2000));
      v1::EngineStats stats;
      if (engine.stub->GetStats(&stats_ctx, v1::GetStatsRequest(), &stats).ok()) {
        std::lock_guard lock(mu_);
        engine.info.set_active_connections(stats.active_connections());
        engine.info.set_frames_client_to_backend(stats.client_to_backend().frames());
        engine.info.set_frames_backend_to_client(stats.backend_to_client().frames());
        engine.info.set_throttled_frames(stats.client_to_backend().throttled_frames() +
                                         stats.backend_to_client().throttled_frames());
      }
      if (current) {
        ok = true;
      } else {
        auto snapshot = catalog_.BuildSnapshot(engine.environment);
        if (!snapshot.ok()) {
          error = std::string(snapshot.status().message());
        } else {
          ok = Push(engine, status, *std::move(snapshot), &error);
        }
      }
    } else {
      error = st.error_message().empty() ? "unreachable" : st.error_message();
      std::lock_guard lock(mu_);
      engine.info.set_reachable(false);
    }
    EngineHealth::Check check;
    {
      std::lock_guard lock(mu_);
      engine.info.set_last_error(error);
      engine.checked_generation = seen_generation;
      check = {engine.info.reachable(), engine.info.applied_version(), desired, error};
    }
    if (auto line = engine.health.Observe(check, NowMs()); line && line->level >= common::GetLogLevel())
      common::LogLine(line->level, line->message);
    cv_.notify_all();  // WaitForVersion, Refresh
    int wait_ms = ok ? kPollMs : backoff_ms;
    backoff_ms = ok ? kRetryMs : std::min(backoff_ms * 2, kMaxRetryMs);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping_ || generation_ != seen_generation; });
  }
}

bool Pusher::Push(Engine& engine, const v1::EngineStatus& status, v1::Snapshot snapshot, std::string* error) {
  v1::ApplyResponse resp;
  grpc::Status push;
  bool as_delta = false;
  // Only credentials changed since what the engine applied: a delta, which the engine applies
  // without recompiling (issue 20). It answers FAILED_PRECONDITION when its applied version is
  // not the delta's base after all (another agent, a restart in between): then the full one.
  if (engine.acked != nullptr && status.engine_id() == engine.acked_engine_id &&
      status.agent_id() == engine.acked->agent_id() && status.applied_version() == engine.acked->version()) {
    if (std::optional<v1::ApplyDeltaRequest> delta = CredentialDelta(*engine.acked, snapshot)) {
      grpc::ClientContext ctx;
      ctx.set_deadline(Deadline(10000));
      push = engine.stub->ApplyDelta(&ctx, *delta, &resp);
      as_delta = push.error_code() != grpc::StatusCode::FAILED_PRECONDITION;
      if (!as_delta)
        WSGATE_LOG(kInfo, "engine %s refused a delta on version %d (%s); sending the full snapshot", engine.target,
                   static_cast<int64_t>(delta->base_version()), push.error_message());
    }
  }
  if (!as_delta) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(10000));
    v1::ApplySnapshotRequest req;
    *req.mutable_snapshot() = std::move(snapshot);
    push = engine.stub->ApplySnapshot(&ctx, req, &resp);
    snapshot = std::move(*req.mutable_snapshot());
  }
  if (!push.ok()) {
    *error = push.error_message();
    // Each retry's refusal is DEBUG: the WARN is EngineHealth's "lags behind", once.
    WSGATE_LOG(kDebug, "engine %s refused config version %d%s: %s", engine.target, static_cast<int64_t>(snapshot.version()),
               as_delta ? " (a delta)" : "", *error);
    engine.acked.reset();  // the next try is a full snapshot
    return false;
  }
  // What the engine now holds is what it acknowledged: the next delta's base. (An older
  // acknowledged version, a stale push, is no base: the next status poll sends the full one.)
  if (resp.applied_version() == snapshot.version()) {
    engine.acked = std::make_unique<v1::Snapshot>(std::move(snapshot));
    engine.acked_engine_id = status.engine_id();
  } else {
    engine.acked.reset();
  }
  std::lock_guard lock(mu_);
  engine.info.set_applied_version(resp.applied_version());
  engine.info.set_last_ack_unix_ms(NowMs());
  WSGATE_LOG(kInfo, "engine %s applied config version %d%s (%d connections closed)", engine.target,
             static_cast<int64_t>(resp.applied_version()), as_delta ? " as a delta" : "",
             static_cast<int64_t>(resp.connections_closed()));
  return true;
}

}  // namespace wsgate::agent
