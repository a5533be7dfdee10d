// File: engine/server/conn.h
//
// The connection model: one client connection and its backend connection, relayed by one shard
// for their whole life. Plain data; the shard loop (loop.h) is the only code that changes it.
//
// A connection's life (Phase):
//   kRequest            reading the client's upgrade request (bounded size and time)
//   kConnecting         route + auth passed; non-blocking connect to the backend (next address
//                       on failure), bounded by the upstream timeout
//   kUpstreamHandshake  our upgrade request sent to the backend, reading its 101
//   kRelay              both ways, frame-aware (ws::FrameScanner), zero-copy from recv buffers
//   kFinishing          an HTTP error or the last close frames are being flushed
//   kClosed             sockets shut down; waiting for in-flight ops to drain
//   kFree               the slot is unused (only ever set by the loop's Free, at the end of a
//                       completion's handling: see "lifetime" in loop.h)
//
// The two ends are one type, Side, used twice; SideId names them. "Backend" is the far side's
// name everywhere (the proto's word), "upstream" only in HTTP terms (the upstream request).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/auth/authenticator.h"
#include "engine/config/snapshot.h"
#include "engine/http/request_parser.h"
#include "engine/io/ring.h"
#include "engine/server/conn_info.h"
#include "engine/server/segment_queue.h"
#include "engine/server/stats.h"
#include "engine/server/timer_wheel.h"
#include "engine/throttle/throttle.h"
#include "engine/tls/tls.h"
#include "engine/ws/frame.h"

namespace wsgate::engine::server {

enum class Phase : uint8_t { kFree, kRequest, kConnecting, kUpstreamHandshake, kRelay, kFinishing, kClosed };

enum class SideId : uint8_t { kClient = 0, kBackend = 1 };
constexpr SideId Other(SideId s) { return s == SideId::kClient ? SideId::kBackend : SideId::kClient; }
constexpr const char* Name(SideId s) { return s == SideId::kClient ? "client" : "backend"; }

constexpr int kMaxIov = 32;

// Bytes queued for one socket. `buf >= 0`: a range of a buffer (a kernel recv buffer, or for TLS
// connections a pool buffer holding decrypted or encrypted bytes); else `owned`.
struct Segment {
  int32_t buf = -1;
  uint32_t offset = 0;
  uint32_t length = 0;
  std::string owned;
  size_t size() const { return buf >= 0 ? length : owned.size(); }
};

// What one sendmsg in flight points at. The shard lends one to a side for the duration of a send
// (an idle connection holds none: ~1.1 KiB per direction that would otherwise sit in every Conn).
struct SendScratch {
  iovec iov[kMaxIov];
  // Small owned segments (frame headers, pongs) keep their bytes inside the std::string object
  // (SSO), which moves when the queue grows: a send in flight must not point there, so StartSend
  // copies them here, where they stay put until the send completes.
  char small[kMaxIov][16];
  msghdr msg;
};

// Bytes on their way to one side, in order.
struct Outbound {
  SegmentQueue<Segment> queue;  // plaintext (frames relayed or made by the engine, HTTP text)
  // To a TLS side, plaintext in `queue` is encrypted into `wire` (pool buffers) and sent from
  // there; `queued` counts both.
  SegmentQueue<Segment> wire;
  size_t queued = 0;
  int iov_count = 0;               // segments the send in flight covers
  bool sending_wire = false;       // ... of `wire` rather than `queue`
  SendScratch* scratch = nullptr;  // lent by the shard while a send is in flight
  // Engine frames (pongs, closes, pings) waiting for a frame boundary of the relayed stream.
  std::vector<std::string> pending;
  // Receive buffers the queues hold: runs of adjacent segments that share a buffer (a buffer
  // split by an engine frame counts twice, which errs on the safe side). Backpressure weighs a
  // queue by these as well as by its bytes, so tiny messages cannot pin every buffer a shard has.
  uint32_t pinned = 0;
  // Set when the relay starts: the handshake's last bytes toward this side are queued, and once
  // they are out the queue's slots are freed (issue 20: an idle relay holds no queue storage; the
  // first relayed message allocates them again, once).
  bool shrink_when_empty = false;

  // Every push and pop of `queue` and `wire` goes through these, which keep `pinned` exact.
  void Push(SegmentQueue<Segment>& q, Segment s) {
    if (s.buf >= 0 && (q.empty() || q.back().buf != s.buf)) ++pinned;
    q.push_back(std::move(s));
  }
  void PopFront(SegmentQueue<Segment>& q) {
    int32_t buf = q.front().buf;
    if (buf >= 0 && (q.size() == 1 || q[1].buf != buf)) --pinned;
    q.pop_front();
  }
  void PopBack(SegmentQueue<Segment>& q) {
    int32_t buf = q.back().buf;
    if (buf >= 0 && (q.size() == 1 || q[q.size() - 2].buf != buf)) --pinned;
    q.pop_back();
  }

  bool sending() const { return scratch != nullptr; }  // at most one send in flight: bytes leave in order
};

class RelaySink;  // relay.cc: the FrameScanner's sink

// What only the handshake phases need (Conn::hs, allocated at accept, freed when the relay starts).
struct Handshake {
  std::string request;
  std::unique_ptr<http::RequestParser> parser;
  std::string early_client;    // client bytes after its request head, before the relay
  std::string upstream_bytes;  // the backend's response so far (and frames right after it)
  std::string expected_accept;
  std::string client_protocols;
  std::string client_extensions;  // the permessage-deflate offers passed upstream (http/extensions.h)
  std::string client_accept;  // our Sec-WebSocket-Accept for the client
  const config::Endpoint* endpoint = nullptr;
  uint32_t address_index = 0;      // the endpoint address being tried
  int64_t connect_deadline_ms = 0;  // connect + upstream handshake, all addresses together
  sockaddr_storage connect_addr{};
};

// One end of the pair.
struct Side {
  int fd = -1;          // a descriptor, or with `direct` an index in the shard ring's fixed-file table
  bool direct = false;  // issue 20: the socket lives in the ring's table, not the process's (direct.cc)
  bool shut_down = false;  // a direct socket's shutdown op was prepared (once per socket)
  io::File file() const { return io::File(fd, direct); }
  bool recv_armed = false;
  bool eof = false;         // the socket is gone (EOF, error, or shut down by us)
  bool close_seen = false;  // a close frame came from it, or it broke the protocol: nothing more is relayed from it
  bool close_sent = false;  // a close frame toward it is queued
  bool paused = false;      // backpressure: its recv is stopped while the other side's outbound is over the bound
  std::unique_ptr<tls::TlsSession> tls;  // wss client; wss:// backend
  bool tls_failed = false;               // its session broke: only the alert is still sent to it
  Outbound out;                          // toward this side
  std::optional<ws::FrameScanner<RelaySink>> scanner;  // frames from this side (set when the relay starts)
  // The latest ping from this side not yet answered: a pong is made from it when the stream
  // toward this side is at a frame boundary, so at most one pong is ever pending (RFC 6455
  // §5.5.3 lets an endpoint answer only the most recent ping).
  bool pong_due = false;
  std::string pong_payload;
};

// What operations tools see of a relaying connection (the connection registry's ListConnections;
// meant to be shared with the access log and metrics): set once when the relay starts. The api id,
// client address and identity (application, subscription, key type) are Conn's own fields.

struct Conn {
  uint32_t slot = 0;
  uint32_t generation = 0;
  Phase phase = Phase::kFree;
  int inflight = 0;       // ops the kernel holds for this connection
  int64_t deadline_ms = 0;  // the current phase's deadline (0: none); set through Loop::SetDeadline
  TimerNode timer;          // at the earliest of this connection's deadlines (timer_wheel.h)
  bool timer_dirty = true;  // a deadline moved: Settle schedules the timer again

  Side sides[2];
  Side& side(SideId s) { return sides[static_cast<int>(s)]; }
  Side& client() { return sides[0]; }
  Side& backend() { return sides[1]; }

  // The handshake's state, from accept until the relay starts (then freed: an idle relay holds
  // as little as possible — issue 20 moved it out of Conn, ~380 bytes per idle connection).
  std::unique_ptr<Handshake> hs;
  std::string client_ip;
  std::shared_ptr<const config::Snapshot> snapshot;  // pinned during the handshake

  // Identity, for re-checks after a push and for counters.
  std::string api_id;
  auth::Identity identity;
  ApiCounters* counters = nullptr;
  throttle::Limits limits;       // its plan, application and API policies (resolved per snapshot)
  // Notices owed to the client (sent once, at a frame boundary, however many drops caused them):
  // kThrottled — a message was dropped by a throttle policy; kNotPublishable — a client message
  // was dropped because its topic is subscribe-only.
  enum Notice : uint8_t { kThrottled = 1, kNotPublishable = 2 };
  uint8_t notices = 0;
  // The topic's direction rights (Topic.publish / Topic.subscribe).
  bool may_publish = true;
  bool may_subscribe = true;
  // permessage-deflate was negotiated; without context takeover (a message may be dropped).
  bool deflate = false;
  bool deflate_drops_ok = false;
  throttle::ConnectionHold quota;  // its concurrent-connection slots, released by Loop::Free (admission.cc)

  // Lifetime limits (issue 15, admission.cc): resolved from its API and the settings when the
  // relay starts (0 = none); the drain's close time (0 = not scheduled).
  uint32_t idle_timeout_ms = 0;
  uint32_t max_lifetime_ms = 0;
  int64_t relay_started_ms = 0;
  int64_t last_data_ms = 0;  // the latest data frame either way
  int64_t drain_close_ms = 0;
  bool undeployed = false;  // drain_close_ms is its API's undeploy, not the engine's drain

  // Relay.
  bool finish_when_flushed = false;  // close once every queued byte has left
  int64_t last_client_activity_ms = 0;
  int64_t ping_sent_ms = 0;
  bool ping_outstanding = false;
  // Pings from the client in the current one-second window (the flood limit).
  int64_t ping_window_s = 0;
  uint32_t pings_in_window = 0;

  ConnInfo info;  // for operators: the access log, metrics, the connection registry
};

}  // namespace wsgate::engine::server
