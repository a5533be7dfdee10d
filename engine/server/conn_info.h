// File: engine/server/conn_info.h
//
// What the engine knows about one connection for operators: its id, when it was accepted, what
// it asked for (vhost, API, topic template, subprotocol), how it was answered (HTTP status) and
// how it ended (close codes, who closed first), and what it moved (frames and bytes each way).
// The access log (access_log.h) and the metrics read it; the connection registry (issue 13
// items 4-6) reads the same struct. The credential's facts (application, subscription, key type)
// are in Conn::identity and the client's address in Conn::client_ip; both are filled before
// any of this is needed.
//
// Plain data inside Conn; written only by its shard's loop.
#pragma once

#include <cstdint>
#include <string>

#include "engine/server/stats.h"

namespace wsgate::engine::server {

// Who closed a relayed connection first.
enum class Closer : uint8_t { kNone, kClient, kBackend, kEngine };
constexpr const char* Name(Closer c) {
  switch (c) {
    case Closer::kClient: return "client";
    case Closer::kBackend: return "backend";
    case Closer::kEngine: return "engine";
    default: return "none";
  }
}

struct ConnInfo {
  // Unique within this engine process: (shard index << 40) | the shard's sequence number. The
  // engine id (random per start) makes it unique across engines and restarts: FormatConnId.
  uint64_t id = 0;
  int64_t accepted_ms = 0;         // monotonic (the loop's clock)
  int64_t connect_started_ms = 0;  // the first backend connect
  int64_t opened_unix_s = 0;       // when the relay started (wall clock; the registry shows it)
  std::string vhost;               // the Host header, without the port
  std::string api_name, api_version, topic;  // topic: the template that matched
  std::string subprotocol;         // agreed with the backend
  int http_status = 0;             // 101, the refusal's status, or 0 (no complete request)
  // Close codes in the close frames each side sent (1006: its socket went away without one).
  uint16_t client_close_code = 0;
  uint16_t backend_close_code = 0;
  uint16_t close_code_to_client = 0;  // the code of the close the engine sent to the client
  Closer first_closer = Closer::kNone;
  DirectionCounters to_backend, to_client;  // this connection's frames, bytes, throttled frames
  // While relaying, this connection's entries in its API's counters (ApiCounters), kept so the
  // per-frame path adds to plain memory it already holds.
  uint64_t* topic_active = nullptr;
  uint64_t* app_throttled = nullptr;
};

}  // namespace wsgate::engine::server
