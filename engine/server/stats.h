// File: engine/server/stats.h
//
// Counters. Each shard owns a ShardStats and updates it without atomics or locks (it is the only
// writer); the control thread collects copies through the shard's mailbox and sums them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace wsgate::engine::server {

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
  uint64_t active_connections = 0;  // relaying
  uint64_t open_sockets = 0;        // client connections in any phase
  uint64_t total_connections = 0;   // completed upgrades
  uint64_t accepted = 0;
  uint64_t buffers_in_use = 0;      // receive buffers held by the engine (not in the kernel's ring)
  uint64_t buffer_bytes_in_use = 0;
  DirectionCounters client_to_backend, backend_to_client;
  std::map<int, uint64_t> handshake_failures;  // by HTTP status
  std::map<int, uint64_t> closes;              // by close code sent to the client
  // Stable addresses: connections keep a pointer to their API's counters.
  absl::flat_hash_map<std::string, std::unique_ptr<ApiCounters>> apis;

  // A copy for the control thread (unique_ptrs deep-copied).
  ShardStats Clone() const;
  void Merge(const ShardStats& other);
};

}  // namespace wsgate::engine::server
