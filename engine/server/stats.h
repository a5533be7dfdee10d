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
  X(pongs_coalesced, "pings answered by a later pong (one pong pending at most)")                  \
  /* --- operations: the connection registry (ops-registry) --- */                                 \
  X(registry_sends, "frames queued to a client by SendToConnection")                                \
  X(registry_sends_refused, "SendToConnection refused: the client's outbound queue was over its bound") \
  X(registry_closes, "connections closed by CloseConnection")

struct DirectionCounters {
  uint64_t frames = 0;            // forwarded data frames
  uint64_t bytes = 0;             // their payload bytes
  uint64_t throttled_frames = 0;  // data frames dropped by a throttle policy
  void Add(const DirectionCounters& o) {
    frames += o.frames;
    bytes += o.bytes;
    throttled_frames += o.throttled_frames;
  }
};

struct ApiCounters {
  ApiCounters() = default;
  ApiCounters(std::string n, std::string v) : name(std::move(n)), version(std::move(v)) {}
  std::string name, version;
  uint64_t active = 0;
  uint64_t total = 0;
  DirectionCounters client_to_backend, backend_to_client;
};

struct ShardStats {
#define WSGATE_FIELD(name, help) uint64_t name = 0;
  WSGATE_SHARD_COUNTERS(WSGATE_FIELD)
#undef WSGATE_FIELD
  DirectionCounters client_to_backend, backend_to_client;
  std::map<int, uint64_t> handshake_failures;  // by HTTP status
  std::map<int, uint64_t> closes;              // by close code sent to the client
  // Stable addresses: connections keep a pointer to their API's counters.
  absl::flat_hash_map<std::string, std::unique_ptr<ApiCounters>> apis;

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
