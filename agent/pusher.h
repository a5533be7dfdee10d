// File: agent/pusher.h
//
// Keeps every engine serving the catalog's current config. One thread per engine target:
// it polls the engine's status (every 2 s, or at once when the catalog changes), and whenever the
// engine's applied version or agent differs from the catalog's — after a change, an engine
// restart, or a failed push — it compiles a snapshot and sends it, retrying with
// backoff (0.2 s doubling to 2 s, the poll interval). The gRPC channel's own reconnect backoff is
// bounded to 1 s, so an engine that restarts after any downtime gets its config within ~2-3 s.
// Status() reports each engine's applied version and lag. When only credentials changed since the
// snapshot the engine acknowledged (keys, tokens, revocations, subscriptions, signing keys), it
// sends ApplyDelta instead (snapshot_delta.h), and the full snapshot when the engine refuses the
// delta's base (FAILED_PRECONDITION).
//
// Each engine belongs to one gateway environment (`--engine unix:/run/wsgate/e1.sock@Edge`; no
// "@ENV": the catalog's default environment) and gets that environment's snapshot only: its
// vhosts, deployed revisions, settings and certificates (Catalog::BuildSnapshot(env)).
//
//   Pusher pusher(catalog, {*ParseEngineTarget("unix:/run/wsgate/engine.sock", "Production and Sandbox")});
//   catalog.SetChangeListener([&](uint64_t v) { pusher.Notify(); });
//   pusher.Start();  ...  pusher.Stop();
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/catalog.h"
#include "wsgate/v1/admin.pb.h"

namespace wsgate::agent {

struct EngineTarget {
  std::string target;       // gRPC target, "unix:/run/wsgate/e1.sock"
  std::string environment;  // gateway environment it serves
};

// "TARGET[@ENV]" (the --engine flag): the text after the last '@' names the environment, else
// `default_environment`. INVALID_ARGUMENT for an empty target or environment.
absl::StatusOr<EngineTarget> ParseEngineTarget(const std::string& flag, const std::string& default_environment);

class Pusher {
 public:
  Pusher(Catalog& catalog, std::vector<EngineTarget> targets);
  ~Pusher();

  void Start();
  void Stop();
  // Something changed: check every engine now.
  void Notify();
  std::vector<v1::EngineInfo> Status() const;
  // Asks every engine for its status now and waits (up to timeout_ms) for the answers, so the
  // next Status() reflects e.g. an engine that restarted since the last poll.
  void Refresh(int timeout_ms);
  // Waits until every engine acknowledged at least `version`, or the timeout passes.
  bool WaitForVersion(uint64_t version, int timeout_ms) const;
  // Whether an engine is registered to `environment` (DeployRevision warns when none is).
  bool ServesEnvironment(const std::string& environment) const;

 private:
  struct Engine;
  void Run(Engine& engine);
  // Sends `snapshot` to an engine whose status is `status`: as a delta when only credentials
  // changed since what it acknowledged (snapshot_delta.h), else (or when it refuses the delta's
  // base) in full. False with *error on failure.
  bool Push(Engine& engine, const v1::EngineStatus& status, v1::Snapshot snapshot, std::string* error);

  Catalog& catalog_;
  std::vector<std::unique_ptr<Engine>> engines_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t generation_ = 0;  // bumped by Notify
  bool stopping_ = false;
};

}  // namespace wsgate::agent
