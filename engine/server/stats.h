// File: engine/server/stats.h
//
// Counters. Each shard owns a ShardStats and updates it without atomics or locks (it is the only
// writer); the control thread collects copies through the shard's mailbox and sums them.
//
// Every scalar counter is declared once, in WSGATE_SHARD_COUNTERS: that list generates the
// struct's fields, Clone/Merge, and the `counters` map of the control API's EngineStats (and
// is what metrics are made from), so a new counter is one line.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace wsgate::engine::server {

// X(name, help). Gauges (a level, not a running total) say so in their help text.
#define WSGATE_SHARD_COUNTERS(X)                                                                     \
  X(active_connections, "gauge: connections relaying")                                              \
  X(open_sockets, "gauge: client connections in any phase")                                         \
  X(total_connections, "completed upgrades")                                                        \
  X(accepted, "client connections accepted")                                                        \
  X(refused_connections, "connections answered 503 (or closed, for wss) at accept: limit, drain")   \
  X(accept_errors, "accept completions with an error (EMFILE, ENFILE, ...)")                        \
  X(buffers_in_use, "gauge: receive buffers held by the engine (not in the kernel's ring)")         \
  X(buffer_bytes_in_use, "gauge: bytes of those buffers")                                           \
  X(buffer_starvations, "receives that stopped because the buffer ring ran dry (ENOBUFS)")          \
  X(stale_completions, "completions for a connection slot's previous occupant, ignored")            \
  X(cq_overflows, "completions the kernel had to hold back because the completion queue was full")  \
  X(cq_backlogged, "completions moved aside so a submit could go through a full completion queue")  \
  X(ops_not_queued, "ops the submission queue could not take even after a submit (the side fails)") \
  X(recv_errors, "receives that failed with an error other than EOF")                               \
  X(send_errors, "sends that failed (the peer reset or closed)")                                    \
  X(backend_connect_failures, "backend connects that failed on every address")                      \
  X(backend_handshake_failures, "backends that refused or broke the WebSocket handshake")           \
  X(tls_failures, "TLS sessions that failed (client or backend)")                                   \
  X(pong_timeouts, "clients closed for not answering the keepalive ping")                           \
  X(ping_flood_closes, "clients closed with 1008 for sending too many pings")                       \
  X(pongs_coalesced, "pings answered by a later pong (one pong pending at most)")                   \
  /* --- operations (issue 13, ops-engine): loop load and the access log --- */                    \
  X(completions, "completions (CQEs) the loop handled")                                             \
  X(loop_busy_ns, "nanoseconds the loop spent handling completions and timers (measured only "      \
                  "while the admin listener is on)")                                                \
  X(queued_bytes, "gauge: bytes queued toward clients and backends, not yet sent")                  \
  X(access_log_dropped, "access-log records dropped because the writer's queue was full")          \
  /* --- access policy (issue 14) --- */                                                            \
  X(access_refusals, "upgrades refused 403 by an Origin or client-address rule") \
  /* --- issue 15: admission and connection lifetime --- */                                         \
  X(connection_quota_refusals, "upgrades answered 429: a concurrent-connection quota was full")     \
  X(idle_timeouts, "connections closed 1001 after no data frame for the idle timeout")             \
  X(lifetime_closes, "connections closed 1001 at their maximum lifetime")                           \
  X(drain_closes, "connections closed by a drain (1012 by default), spread over the drain window")   \
  X(handshake_rate_refusals, "upgrades answered 429: a client address's or an API's handshake rate")  \
  X(accepts_deferred, "accepted sockets left for the next loop iteration (the accept budget)")  \
  X(overload_level, "gauge: shards' overload levels summed (each 0 none, 1 soft: 503, 2 hard: shedding)") \
  X(overload_refusals, "upgrades answered 503 because the shard was overloaded")                       \
  X(overload_sheds, "connections shed (close 1013, or 503 mid-handshake) past the hard overload threshold") \
  /* --- operations: the connection registry (ops-registry) --- */                                 \
  X(registry_sends, "frames queued to a client by SendToConnection")                                \
  X(registry_sends_refused, "SendToConnection refused: the client's outbound queue was over its bound") \
  X(registry_closes, "connections closed by CloseConnection")                                      \
  /* --- issue 20: direct descriptors --- */                                                        \
  X(direct_sockets, "gauge: sockets held in the rings' fixed-file tables (direct descriptors)")     \
  X(direct_table_full, "sockets kept as regular descriptors because the fixed-file table was full") \
  X(direct_install_errors, "sockets the kernel would not install in the fixed-file table")

struct DirectionCounters {
  uint64_t frames = 0;            // forwarded data frames
  uint64_t bytes = 0;             // their payload bytes
  uint64_t throttled_frames = 0;  // data frames dropped by a throttle policy
  uint64_t denied_frames = 0;     // data frames dropped: the topic does not allow this direction
  void Add(const DirectionCounters& o) {
    frames += o.frames;
    bytes += o.bytes;
    throttled_frames += o.throttled_frames;
    denied_frames += o.denied_frames;
  }
};

// A latency histogram with fixed buckets (Prometheus' default seconds buckets, from 1 ms), fed
// in milliseconds from the loop's cached clock. Plain memory, one writer (its shard).
struct LatencyHistogram {
  static constexpr int kBuckets = 12;
  static constexpr double kUpperBoundsS[kBuckets] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1,    2.5,   10};
  uint64_t counts[kBuckets + 1] = {};  // per bucket, not cumulative; the last is +Inf only
  uint64_t sum_ms = 0;
  uint64_t count = 0;
  void ObserveMs(int64_t ms);
  void Add(const LatencyHistogram& o);
};

struct ApiCounters {
  ApiCounters() = default;
  ApiCounters(std::string n, std::string v) : name(std::move(n)), version(std::move(v)) {}
  std::string name, version;
  uint64_t active = 0;
  uint64_t total = 0;
  DirectionCounters client_to_backend, backend_to_client;
  // --- operations (issue 13, ops-engine). Keyed by bounded names (topic templates of this API,
  // application ids); std::map so connections can keep a pointer to their entry.
  std::string environment;                          // the gateway environment(s) of its vhosts
  std::map<std::string, uint64_t> active_by_topic;  // gauge, by topic template
  std::map<std::string, uint64_t> throttled_by_app; // data frames dropped, by application id
  // --- issue 13 (helper top): this API's errors (`wsgatectl top`, GetStats' ApiStats)
  uint64_t refused_upgrades = 0;  // upgrades routed to this API, then refused (Loop::Respond)
  uint64_t error_closes = 0;      // relayed connections that ended with 1011 sent to the client
};

struct ShardStats {
#define WSGATE_FIELD(name, help) uint64_t name = 0;
  WSGATE_SHARD_COUNTERS(WSGATE_FIELD)
#undef WSGATE_FIELD
  // The shard's totals each way. Derived, never written by the loop: every relayed frame is
  // counted once per API (ApiCounters) and once per connection (ConnInfo), and Clone() sums the
  // APIs' counters into these (an API's entry is never removed, so the sums only grow).
  DirectionCounters client_to_backend, backend_to_client;
  std::map<int, uint64_t> handshake_failures;  // by HTTP status
  std::map<int, uint64_t> closes;              // by close code sent to the client
  // Stable addresses: connections keep a pointer to their API's counters.
  absl::flat_hash_map<std::string, std::unique_ptr<ApiCounters>> apis;
  // --- operations (issue 13, ops-engine)
  LatencyHistogram handshake_latency;  // accept → our 101
  LatencyHistogram connect_latency;    // backend connect started → connected
  std::map<std::string, uint64_t> backend_failures;  // by reason (connect_error, connect_timeout, ...)
  // Relayed connections at their end, by the close code sent to the client and the side that
  // closed first ("client", "backend", "engine").
  std::map<std::pair<int, std::string>, uint64_t> closes_by_side;

  // A copy for the control thread (unique_ptrs deep-copied).
  ShardStats Clone() const;
  void Merge(const ShardStats& other);
  // Calls fn(name, help, value) for every scalar counter, in declaration order.
  template <typename Fn>
  void ForEachCounter(Fn&& fn) const {
#define WSGATE_VISIT(name, help) fn(#name, help, name);
    WSGATE_SHARD_COUNTERS(WSGATE_VISIT)
#undef WSGATE_VISIT
  }
};

}  // namespace wsgate::engine::server
