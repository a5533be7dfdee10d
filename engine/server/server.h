// File: engine/server/server.h
//
// The engine process's core: N shards listening on one address (SO_REUSEPORT; an address some
// other process listens on is refused unless options.reuse_port, see listener.h), the current
// config (proto and compiled form), and the operations the control plane needs. main.cc only
// parses flags and calls this; tests run the real server in-process the same way.
//
//   Server server(options);
//   WSGATE_RETURN_IF_ERROR(server.Start());
//   server.Apply(snapshot_proto);     // compile on this thread, swap on every shard, then return
//   server.Drain(30000); server.Wait();
//
// Thread-safe: every public method may be called from any thread (the control service's
// threads, a signal thread, tests).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "engine/config/compile.h"
#include "engine/quota/quota_client.h"
#include "engine/server/listener.h"
#include "engine/server/registry.h"
#include "engine/server/usage.h"
#include "engine/server/shard.h"
#include "engine/server/stats.h"
#include "wsgate/v1/engine.pb.h"

namespace wsgate::engine::server {

struct ServerOptions {
  // One or more ADDR:PORT or [v6]:PORT, comma-separated (main joins repeated --ws-listen); port 0
  // picks one. "[::]" is dual-stack (IPv4 too); on a host without IPv6 it becomes 0.0.0.0.
  std::string ws_listen = "[::]:9099";
  std::string wss_listen;                  // the same for wss; "" = no wss listener
  config::TlsDefaults tls;                 // the default certificate for wss
  int shards = 0;                          // 0: one per online CPU
  // false: refuse to start when something already listens on ws_listen/wss_listen (another
  // engine would otherwise share the port through SO_REUSEPORT and take half the connections).
  // true: share it on purpose (--reuse-port, a hitless restart).
  bool reuse_port = false;
  // 0: derived from the descriptor limit (raised to its hard maximum at Start): each proxied
  // connection holds two descriptors, and 64 stay spare for listeners, the ring and logs.
  int max_connections_per_shard = 0;
  // Issue 20: entries of each shard's fixed-file table (direct descriptors), each bounded by the
  // descriptor limit on its own. -1: derived (the limit, or 2 × max_connections_per_shard + 64
  // when that is given and smaller); 0: off, regular descriptors only.
  int fixed_files_per_shard = -1;
  unsigned ring_entries = 4096;            // io_uring submission queue per shard
  unsigned cq_entries = 0;                 // completion queue; 0: 4 × ring_entries
  unsigned buffer_count = 4096;            // per shard, power of two
  unsigned buffer_size = 16384;
  config::Resolver resolver = config::SystemResolver();
  // --- operations (issue 13, ops-engine)
  AccessLog* access_log = nullptr;  // not owned; outlives the Server's shards. Null: none
  bool measure_busy = false;        // per-shard busy time (wsgate_engine_loop_busy_seconds_total)
  // Whether [::] can be bound (listener.h's HostHasIpv6); false turns [::] into 0.0.0.0. Tests
  // replace it to take the no-IPv6 path on a host that has IPv6.
  std::function<bool()> host_has_ipv6 = HostHasIpv6;
  // --- cluster-wide quotas (issue 19, redis): --quota-store and friends (store_url.h). The
  // default (kLocalOnly) counts on this engine only.
  quota::QuotaOptions quota;
  // The quota store; null: MakeStore(quota.store) (tests pass a fake).
  std::function<std::unique_ptr<quota::QuotaStore>()> make_quota_store;
};

struct ApplyResult {
  uint64_t applied_version = 0;
  uint64_t connections_closed = 0;
};

// "ADDR:PORT" → sockaddr. INVALID_ARGUMENT naming `flag` on failure.
absl::Status ParseListenAddress(std::string_view text, std::string_view flag, sockaddr_storage* out, socklen_t* len);

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  absl::Status Start();
  uint16_t port() const { return port_; }
  uint16_t wss_port() const { return wss_port_; }
  // Every bound port, one per address of ws_listen / wss_listen, in order.
  const std::vector<uint16_t>& ws_ports() const { return ws_ports_; }
  const std::vector<uint16_t>& wss_ports() const { return wss_ports_; }
  int shard_count() const { return static_cast<int>(shards_.size()); }
  // The per-shard connection limit in force (--max-connections, or the one derived from the fd limit).
  int max_connections_per_shard() const { return max_connections_; }

  // Validates and compiles `snapshot`, swaps it into every shard and waits until all have. A
  // snapshot from the same agent with a version <= the applied one is acknowledged without
  // change. INVALID_ARGUMENT (field path) leaves the current config in force.
  absl::StatusOr<ApplyResult> Apply(const v1::Snapshot& snapshot);
  // Applies a delta (ApplyDeltaRequest: keys, tokens, revocations, subscriptions, signing keys)
  // to the compiled snapshot without recompiling it (config/incremental.h), swaps the result
  // into every shard like Apply and waits. FAILED_PRECONDITION when base_version/agent_id do
  // not match the applied snapshot (the agent then sends a full one).
  absl::StatusOr<ApplyResult> ApplyDelta(const v1::ApplyDeltaRequest& delta);

  uint64_t applied_version() const;
  std::string agent_id() const;
  bool draining() const;
  // Counters summed over shards (collected through each shard's mailbox).
  ShardStats CollectStats();

  // --- operations (issue 13, ops-engine)
  // Each shard's counters, in shard order (a shard that has ended is missing).
  std::vector<ShardStats> CollectShardStats();
  // Whether the engine should get traffic: a config applied (pushed or --config), every
  // listener bound (Start succeeded) and not draining. `why` (may be null) says what is missing.
  bool Ready(std::string* why) const;
  // The applied snapshot as pushed, with the deltas applied since merged in (empty before the
  // first one). Not const: it folds the pending deltas into the kept proto.
  v1::Snapshot AppliedProto();
  // How long the last successful Apply or ApplyDelta took, from the call to the last shard
  // having swapped it in (compile or delta, then every shard).
  int64_t last_apply_duration_us() const;
  // Whether that was a delta applied without recompiling.
  bool last_apply_incremental() const;

  // The connection registry (registry.h; implemented in registry.cc). Each asks the shards on
  // their own loops and waits up to 2 s for an answer (UNAVAILABLE when a shard has ended).
  absl::StatusOr<ConnPage> ListConnections(const ConnFilter& filter, std::string_view page_token, uint32_t page_size);
  absl::StatusOr<ConnRecord> GetConnection(const ConnRef& ref);
  // A text (UTF-8, checked) or binary frame of at most settings.max_message_bytes.
  absl::StatusOr<uint64_t> SendToConnection(const ConnRef& ref, bool binary, std::string payload);
  absl::Status CloseConnection(const ConnRef& ref, uint32_t code, std::string reason);

  // The current throttle windows (usage.h) from the applied snapshot and the shared counters.
  std::vector<UsageWindow> Usage(const UsageFilter& filter, int64_t now_unix_s);

  // --- cluster-wide quotas (issue 19, redis): null with --quota-store local.
  const throttle::ClusterQuota* cluster_quota() const { return cluster_quota_.get(); }

  // Stop accepting; close every relayed client with EngineSettings.drain_close_code (1012),
  // spread over the first half of the window with jitter; answer handshakes in progress 503.
  // Shards end when their connections are gone or after `timeout_ms` (< 0: the applied
  // EngineSettings.drain_timeout_ms). draining() is true from the call on (/readyz reads it).
  void Drain(int timeout_ms);
  // Blocks until every shard thread has ended.
  void Wait();

 private:
  absl::StatusOr<ApplyResult> ApplyLocked(const v1::Snapshot& snapshot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Posts current_ to every shard and waits for all of them.
  ApplyResult SwapLocked(std::chrono::steady_clock::time_point started) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Merges pending_deltas_ into current_proto_ (O(snapshot + deltas)).
  void FoldDeltasLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  static constexpr size_t kMaxPendingDeltas = 1024;

  ServerOptions options_;
  uint16_t port_ = 0;
  uint16_t wss_port_ = 0;
  std::vector<uint16_t> ws_ports_, wss_ports_;
  int max_connections_ = 0;
  int fixed_files_ = 0;  // per shard, resolved at Start
  // Cluster-wide quotas (issue 19): declared before the counters so the gates outlive the
  // shards; the quota thread is stopped in ~Server after the shards have ended.
  std::unique_ptr<throttle::ClusterQuota> cluster_quota_;
  std::unique_ptr<quota::QuotaClient> quota_client_;
  throttle::Registry throttle_;  // shared by the shards; outlives them (declared first)
  std::atomic<int64_t> engine_connections_{0};  // settings.max_connections, across shards
  std::vector<std::unique_ptr<Shard>> shards_;
  mutable std::mutex apply_mu_;  // serializes pushes; never taken on a shard thread
  // The last full snapshot pushed, and the deltas applied since (in order): AppliedProto() merges
  // them on demand.
  v1::Snapshot current_proto_ ABSL_GUARDED_BY(apply_mu_);
  std::vector<v1::ApplyDeltaRequest> pending_deltas_ ABSL_GUARDED_BY(apply_mu_);
  bool last_apply_incremental_ ABSL_GUARDED_BY(apply_mu_) = false;
  std::shared_ptr<const config::Snapshot> current_ ABSL_GUARDED_BY(apply_mu_);
  bool draining_ ABSL_GUARDED_BY(apply_mu_) = false;
  bool started_ ABSL_GUARDED_BY(apply_mu_) = false;
  int64_t last_apply_duration_us_ ABSL_GUARDED_BY(apply_mu_) = 0;
};

}  // namespace wsgate::engine::server
