// File: engine/server/shard.cc
//
// The shard loop. Read top to bottom: connection and pipe state, accept, the upgrade request,
// routing + auth, the upstream connect and handshake, the relay (recv → FrameScanner → send
// queue), close handling, timers, snapshot swaps, drain.
//
// Ownership rules that keep it safe without locks:
// - A Conn is freed only when `inflight` (ops the kernel still holds for it) is zero; its slot's
//   generation then increments, so any completion tagged with the old generation is ignored.
// - A recv buffer is recycled to the kernel once every queued send segment that points into it
//   has been sent (`refs_`); a connection that dies releases its segments' references.
// - Each direction (Pipe) has at most one send in flight, so bytes leave in order.
#include "engine/server/shard.h"
#include "engine/server/listener.h"
#include "engine/server/segment_queue.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/auth/authenticator.h"
#include "engine/common/absl_compat.h"
#include "engine/common/check.h"
#include "engine/common/log.h"
#include "engine/config/router.h"
#include "engine/http/request_parser.h"
#include "engine/http/response.h"
#include "engine/http/upgrade.h"
#include "engine/http/url.h"
#include "engine/io/ring.h"
#include "engine/tls/crypto.h"
#include "engine/tls/tls.h"
#include "engine/ws/frame.h"
#include "engine/common/base64.h"
#include "engine/ws/handshake.h"

namespace wsgate::engine::server {
namespace {

using common::Sv;

enum Op : uint8_t {
  kOpAccept = 1,
  kOpWake,
  kOpRecvClient,
  kOpRecvUpstream,
  kOpSendClient,
  kOpSendUpstream,
  kOpConnect,
  kOpCancel,
  kOpCancelAccept,
  kOpAcceptTls,
};

constexpr int kMaxIov = 32;
constexpr size_t kMaxEarlyBytes = 1 << 20;  // client bytes buffered before the relay starts
constexpr int kTickMs = 100;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t NowUnixS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string_view StatusText(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

std::string PeerAddress(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof(buf));
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof(buf));
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Connection state

enum class Phase : uint8_t { kFree, kRequest, kConnecting, kUpstreamHandshake, kRelay, kFinishing, kClosed };

struct Conn;
class PipeSink;

// Bytes queued for one socket. `buf >= 0`: a range of a buffer (a kernel recv buffer, or for TLS
// connections a pool buffer holding decrypted or encrypted bytes); else `owned`.
struct Segment {
  int32_t buf = -1;
  uint32_t offset = 0;
  uint32_t length = 0;
  std::string owned;
};

// What one sendmsg in flight points at. The shard lends one to a pipe for the duration of a send
// (an idle connection holds none: ~1.1 KiB per direction that would otherwise sit in every Conn).
struct SendScratch {
  iovec iov[kMaxIov];
  // Small owned segments (frame headers, pongs) keep their bytes inside the std::string object
  // (SSO), which moves when the queue grows: a send in flight must not point there, so StartSend
  // copies them here, where they stay put until the send completes.
  char small[kMaxIov][16];
  msghdr msg;
};

// One direction of a connection pair: what is scanned from the source and queued for the
// destination. `up` = client → backend, `down` = backend → client.
struct Pipe {
  bool to_client = false;
  SegmentQueue<Segment> queue;
  size_t queued = 0;
  int iov_count = 0;                // segments the send in flight covers
  SendScratch* scratch = nullptr;   // lent by the shard while a send is in flight
  bool sending() const { return scratch != nullptr; }  // at most one send in flight per pipe
  // To a TLS socket, plaintext in `queue` is encrypted into `wire` (pool buffers) and sent from
  // there; `queued` counts both.
  SegmentQueue<Segment> wire;
  bool sending_wire = false;
  std::optional<ws::FrameScanner<PipeSink>> scanner;  // set when the relay starts
  std::vector<std::string> pending;  // engine frames waiting for a frame boundary
  bool source_paused = false;        // backpressure: the source's recv is cancelled
};

struct Conn {
  uint32_t slot = 0;
  uint32_t generation = 0;
  Phase phase = Phase::kFree;
  int client_fd = -1;
  int upstream_fd = -1;
  int inflight = 0;
  bool client_recv_armed = false;
  bool upstream_recv_armed = false;
  bool client_eof = false;
  bool upstream_eof = false;
  int64_t deadline_ms = 0;  // the current phase's deadline (0: none)

  // Handshake.
  std::string request;
  std::unique_ptr<http::RequestParser> parser;
  std::string early_client;    // client bytes after its request head, before the relay
  std::string upstream_bytes;  // the backend's response so far (and frames right after it)
  std::string expected_accept;
  std::string client_protocols;
  std::string client_accept;  // our Sec-WebSocket-Accept for the client
  std::string client_ip;
  std::shared_ptr<const config::Snapshot> snapshot;  // pinned during the handshake
  const config::Endpoint* endpoint = nullptr;
  size_t address_index = 0;
  sockaddr_storage connect_addr{};

  // Identity, for re-checks after a push and for counters.
  std::string api_id;
  auth::Identity identity;
  ApiCounters* counters = nullptr;
  throttle::Limits limits;       // its plan, application and API policies (resolved per snapshot)
  bool throttle_notice = false;  // a message was dropped: tell the client (once, at a boundary)

  // Relay.
  Pipe up, down;
  bool client_close_seen = false;
  bool backend_close_seen = false;
  bool sent_close_to_client = false;
  bool sent_close_to_backend = false;
  bool finish_when_flushed = false;
  int64_t last_client_activity_ms = 0;
  int64_t ping_sent_ms = 0;
  bool ping_outstanding = false;

  // TLS (wss clients; wss:// backends).
  std::unique_ptr<tls::TlsSession> client_tls;
  std::unique_ptr<tls::TlsSession> upstream_tls;
};

// ---------------------------------------------------------------------------------------------
// The loop

class Shard::Loop {
 public:
  Loop(Shard& shard, const ShardOptions& options) : shard_(shard), options_(options) {}
  ~Loop() {
    // Connections cut off at the end of a drain may still have ops in flight; the ring is going
    // away with them, so only the descriptors (and sends' scratch) need releasing.
    for (auto& c : conns_) {
      if (c->client_fd >= 0) ::close(c->client_fd);
      if (c->upstream_fd >= 0) ::close(c->upstream_fd);
      delete c->up.scratch;
      delete c->down.scratch;
    }
  }

  absl::Status Init(std::shared_ptr<const config::Snapshot> snapshot);
  void Run();
  uint64_t ApplySnapshot(std::shared_ptr<const config::Snapshot> snapshot);
  void BeginDrain(int timeout_ms);
  ShardStats stats() const {
    ShardStats s = stats_.Clone();
    s.buffers_in_use = ring_.buffers_out();
    s.buffer_bytes_in_use = uint64_t{ring_.buffers_out()} * ring_.buffer_size();
    return s;
  }

  // PipeSink callbacks.
  void Forward(Conn& c, Pipe& p, int32_t buf, const uint8_t* base, size_t offset, size_t length);
  void ForwardCopy(Conn& c, Pipe& p, const uint8_t* bytes, size_t length);
  bool OnDataFrame(Conn& c, Pipe& p, uint8_t opcode, uint64_t length);
  void OnControl(Conn& c, Pipe& p, uint8_t opcode, std::string_view payload);

 private:
  // Table.
  Conn* Allocate();
  Conn* Lookup(const io::Tag& tag);
  io::Tag TagFor(const Conn& c, uint8_t op) const { return io::Tag{op, c.generation, c.slot}; }

  // Completions.
  void OnCompletion(const io_uring_cqe& cqe);
  void OnAccept(const io_uring_cqe& cqe);
  void OnRecv(Conn& c, bool from_client, const io_uring_cqe& cqe);
  void OnSend(Conn& c, bool to_client, int res);
  void OnConnect(Conn& c, int res);
  void OnPeerGone(Conn& c, bool from_client);
  void OnCiphertext(Conn& c, bool from_client, const uint8_t* data, size_t n);
  void OnPlaintext(Conn& c, bool from_client, int32_t buf, const uint8_t* data, size_t n);

  // Phases.
  void OnClientBytes(Conn& c, const uint8_t* data, size_t n);
  void HandleRequest(Conn& c, size_t consumed);
  void StartConnect(Conn& c);
  void OnUpstreamBytes(Conn& c, const uint8_t* data, size_t n);
  void StartRelay(Conn& c, size_t response_head_bytes, std::string_view protocol);
  void ScanInto(Conn& c, Pipe& p, int32_t buf, const uint8_t* data, size_t n);
  void ResolveLimits(Conn& c, const config::Snapshot& snapshot);
  // The engine-wide counter for a key, remembered per shard: a push re-resolves every live
  // connection, and the Registry's mutex is then taken once per key, not once per connection.
  throttle::Counter* CounterFor(const std::string& key) {
    auto [it, inserted] = counters_.try_emplace(key, nullptr);
    if (inserted) it->second = throttle_->Get(key);
    return it->second;
  }
  void SendThrottleNotice(Conn& c);

  // Output.
  void Enqueue(Conn& c, Pipe& p, Segment s);
  void Inject(Conn& c, Pipe& p, std::string frame);
  void FlushPending(Conn& c, Pipe& p);
  void StartSend(Conn& c, Pipe& p);
  void CheckBackpressure(Conn& c, Pipe& p);
  void ArmRecv(Conn& c, bool client);
  void Fail(Conn& c, int status, std::string_view body);
  void Respond(Conn& c, int status, std::string_view body, std::string_view extra_headers = {});

  // Closing.
  void InitiateClose(Conn& c, uint16_t client_code, std::string_view client_reason, uint16_t backend_code,
                     std::string_view backend_reason);
  void MaybeFinish(Conn& c);
  void Shutdown(Conn& c);
  void AbortUpstream(Conn& c);
  void ReleaseQueue(Pipe& p);
  void MaybeFree(Conn& c);
  // Buffers: ids below the ring size are kernel recv buffers; the ids above are a pool the shard
  // owns for TLS plaintext and ciphertext (grown on demand, never shrunk).
  uint8_t* BufferData(int32_t id) {
    return id < static_cast<int32_t>(ring_.buffer_count()) ? ring_.Buffer(static_cast<uint16_t>(id))
                                                           : pool_[static_cast<size_t>(id) - ring_.buffer_count()].get();
  }
  int32_t AllocPool();
  void Ref(int32_t buf) { ++refs_[buf]; }
  void Unref(int32_t buf) {
    if (--refs_[buf] != 0) return;
    if (buf < static_cast<int32_t>(ring_.buffer_count())) ring_.Recycle(static_cast<uint16_t>(buf));
    else free_pool_.push_back(buf);
  }
  SegmentQueue<Segment>& Outbox(Conn& c, Pipe& p) { return TlsOf(c, p.to_client) ? p.wire : p.queue; }
  static tls::TlsSession* TlsOf(Conn& c, bool client_side) {
    return client_side ? c.client_tls.get() : c.upstream_tls.get();
  }
  // Encrypts the pipe's plaintext and moves the session's output (handshake records too) to
  // the wire queue. False when the session failed.
  bool Encrypt(Conn& c, Pipe& p);

  // Request parsers (4 KiB each) are taken when a client's first bytes arrive, not at accept, and
  // come back as soon as the request head is parsed: a burst of connects that have not sent yet
  // costs no parser, and parsers are reused instead of fragmenting the heap.
  std::unique_ptr<http::RequestParser> TakeParser() {
    http::Limits limits;
    limits.max_head_bytes = snapshot_->settings.max_header_bytes;
    if (spare_parsers_.empty()) return std::make_unique<http::RequestParser>(limits);
    std::unique_ptr<http::RequestParser> p = std::move(spare_parsers_.back());
    spare_parsers_.pop_back();
    *p = http::RequestParser(limits);
    return p;
  }
  void GiveBackParser(Conn& c) {
    if (c.parser != nullptr && spare_parsers_.size() < kSpareParsers) spare_parsers_.push_back(std::move(c.parser));
    c.parser.reset();
  }

  // Send scratch: lent to a pipe from StartSend until its OnSend. A burst (thousands of upgrades
  // in one completion batch) may borrow many at once; only kSpareScratch stay around after it.
  SendScratch* BorrowScratch() {
    if (spare_scratch_.empty()) return new SendScratch;
    SendScratch* s = spare_scratch_.back().release();
    spare_scratch_.pop_back();
    return s;
  }
  void ReturnScratch(Pipe& p) {
    std::unique_ptr<SendScratch> s(p.scratch);
    p.scratch = nullptr;
    if (s != nullptr && spare_scratch_.size() < kSpareScratch) spare_scratch_.push_back(std::move(s));
  }

  // Timers.
  void Tick(int64_t now_ms);
  void DrainInbox();

  Shard& shard_;
  ShardOptions options_;
  io::Ring ring_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint16_t> refs_;
  std::vector<std::unique_ptr<uint8_t[]>> pool_;
  std::vector<int32_t> free_pool_;
  throttle::Registry* throttle_ = nullptr;  // the Server's, shared by every shard
  absl::flat_hash_map<std::string, throttle::Counter*> counters_;  // CounterFor's memory
  static constexpr size_t kSpareParsers = 64;
  std::vector<std::unique_ptr<http::RequestParser>> spare_parsers_;
  static constexpr size_t kSpareScratch = 256;
  std::vector<std::unique_ptr<SendScratch>> spare_scratch_;
  int wss_listen_fd_ = -1;
  std::vector<uint32_t> starved_;  // slots whose recv stopped for lack of buffers
  std::shared_ptr<const config::Snapshot> snapshot_;
  auth::Authenticator authenticator_;
  ShardStats stats_;
  uint64_t wake_value_ = 0;
  bool accept_armed_ = false;
  bool draining_ = false;
  bool stop_ = false;
  int64_t drain_deadline_ms_ = 0;
  int64_t next_tick_ms_ = 0;
  size_t live_ = 0;  // slots not free
};

// The FrameScanner's sink for one Scan() call: where the input came from and which pipe gets it.
class PipeSink {
 public:
  PipeSink(Shard::Loop& loop, Conn& c, Pipe& p, int32_t buf, const uint8_t* base)
      : loop_(loop), c_(c), p_(p), buf_(buf), base_(base) {}
  void ForwardInput(size_t offset, size_t length) { loop_.Forward(c_, p_, buf_, base_, offset, length); }
  void ForwardCopy(const uint8_t* bytes, size_t length) { loop_.ForwardCopy(c_, p_, bytes, length); }
  bool DataFrame(uint8_t opcode, bool, uint64_t length) { return loop_.OnDataFrame(c_, p_, opcode, length); }
  void Control(uint8_t opcode, std::string_view payload) { loop_.OnControl(c_, p_, opcode, payload); }

 private:
  Shard::Loop& loop_;
  Conn& c_;
  Pipe& p_;
  int32_t buf_;
  const uint8_t* base_;
};

absl::Status Shard::Loop::Init(std::shared_ptr<const config::Snapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  throttle_ = options_.throttle;
  WSGATE_CHECK(throttle_ != nullptr);
  io::RingOptions ro;
  ro.entries = options_.ring_entries;
  ro.buffer_count = options_.buffer_count;
  ro.buffer_size = options_.buffer_size;
  if (absl::Status s = ring_.Init(ro); !s.ok()) return s;
  refs_.assign(options_.buffer_count, 0);
  conns_.reserve(1024);
  WSGATE_LOG(kDebug, "shard %d: io_uring %s", options_.index, ring_.Describe());
  ring_.PrepMultishotAccept(shard_.listen_fd_, io::Tag{kOpAccept, 0, 0});
  accept_armed_ = true;
  wss_listen_fd_ = shard_.wss_listen_fd_;
  if (wss_listen_fd_ >= 0) ring_.PrepMultishotAccept(wss_listen_fd_, io::Tag{kOpAcceptTls, 0, 0});
  ring_.PrepRead(shard_.wake_fd_, &wake_value_, sizeof(wake_value_), io::Tag{kOpWake, 0, 0});
  return absl::OkStatus();
}

void Shard::Loop::Run() {
  while (!stop_) {
    ring_.SubmitAndDrain(kTickMs, [this](const io_uring_cqe& cqe) { OnCompletion(cqe); });
    int64_t now = NowMs();
    if (now >= next_tick_ms_) {
      Tick(now);
      next_tick_ms_ = now + kTickMs;
    }
    // Recv multishots that ended for lack of buffers resume once buffers are back.
    if (!starved_.empty() && ring_.buffers_out() + 64 < ring_.buffer_count()) {
      std::vector<uint32_t> starved;
      starved.swap(starved_);
      for (uint32_t slot : starved) {
        Conn& c = *conns_[slot];
        if (c.phase == Phase::kFree || c.phase == Phase::kClosed) continue;
        if (!c.client_eof && !c.client_recv_armed && !c.down.source_paused) ArmRecv(c, true);
        if (c.upstream_fd >= 0 && !c.upstream_eof && !c.upstream_recv_armed && !c.up.source_paused) ArmRecv(c, false);
      }
    }
    if (draining_ && (live_ == 0 || now >= drain_deadline_ms_)) stop_ = true;
  }
  // Whatever is left after the drain deadline is cut off.
  for (auto& c : conns_)
    if (c->phase != Phase::kFree && c->phase != Phase::kClosed) Shutdown(*c);
}

Conn* Shard::Loop::Allocate() {
  if (static_cast<int>(live_) >= options_.max_connections) return nullptr;
  Conn* c;
  if (!free_slots_.empty()) {
    c = conns_[free_slots_.back()].get();
    free_slots_.pop_back();
  } else {
    conns_.push_back(std::make_unique<Conn>());
    c = conns_.back().get();
    c->slot = static_cast<uint32_t>(conns_.size() - 1);
  }
  uint32_t slot = c->slot, generation = (c->generation + 1) & 0xFFFFFF;
  *c = Conn();
  c->slot = slot;
  c->generation = generation;
  c->up.to_client = false;
  c->down.to_client = true;
  ++live_;
  return c;
}

Conn* Shard::Loop::Lookup(const io::Tag& tag) {
  if (tag.slot >= conns_.size()) return nullptr;
  Conn* c = conns_[tag.slot].get();
  if (c->generation != tag.generation || c->phase == Phase::kFree) return nullptr;
  return c;
}

void Shard::Loop::OnCompletion(const io_uring_cqe& cqe) {
  io::Tag tag = io::Tag::Decode(cqe.user_data);
  switch (tag.op) {
    case kOpAccept:
    case kOpAcceptTls:
      OnAccept(cqe);
      return;
    case kOpCancelAccept:
      return;
    case kOpWake:
      DrainInbox();
      if (!stop_) ring_.PrepRead(shard_.wake_fd_, &wake_value_, sizeof(wake_value_), io::Tag{kOpWake, 0, 0});
      return;
    default:
      break;
  }
  Conn* c = Lookup(tag);
  if (c == nullptr) {
    // A stale completion for a slot already reused (cannot carry a buffer we still owe: a
    // slot is freed only with no ops in flight) — but be safe with buffers anyway.
    if (io::HasBuffer(cqe)) {
      ring_.NoteBufferTaken();
      ring_.Recycle(io::BufferId(cqe));
    }
    return;
  }
  switch (tag.op) {
    case kOpRecvClient: OnRecv(*c, true, cqe); break;
    case kOpRecvUpstream: OnRecv(*c, false, cqe); break;
    case kOpSendClient: OnSend(*c, true, cqe.res); break;
    case kOpSendUpstream: OnSend(*c, false, cqe.res); break;
    case kOpConnect: OnConnect(*c, cqe.res); break;
    case kOpCancel: --c->inflight; break;
    default: WSGATE_CHECK_MSG(false, "unknown op in completion");
  }
  MaybeFree(*c);
}

// ---------------------------------------------------------------------------------------------
// Accept and the client's upgrade request

void Shard::Loop::OnAccept(const io_uring_cqe& cqe) {
  bool tls = io::Tag::Decode(cqe.user_data).op == kOpAcceptTls;
  if (!io::HasMore(cqe)) {
    if (!tls) accept_armed_ = false;
    if (!draining_) {  // re-arm (e.g. after EMFILE the kernel ends the multishot)
      ring_.PrepMultishotAccept(tls ? wss_listen_fd_ : shard_.listen_fd_, io::Tag{tls ? kOpAcceptTls : kOpAccept, 0, 0});
      if (!tls) accept_armed_ = true;
    }
  }
  if (cqe.res < 0) {
    if (cqe.res != -ECANCELED) WSGATE_LOG(kWarning, "shard %d: accept: %s", options_.index, strerror(-cqe.res));
    return;
  }
  int fd = cqe.res;
  ++stats_.accepted;
  if (draining_) {
    ::close(fd);
    return;
  }
  if (tls && !snapshot_->server_tls) {
    WSGATE_LOG(kWarning, "shard %d: wss connection refused: no certificate is configured", options_.index);
    ::close(fd);
    return;
  }
  Conn* c = Allocate();
  if (c == nullptr) {
    WSGATE_LOG(kWarning, "shard %d: connection limit %d reached; refusing", options_.index, options_.max_connections);
    ::close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->client_fd = fd;
  c->phase = Phase::kRequest;
  c->client_ip = PeerAddress(fd);
  c->deadline_ms = NowMs() + snapshot_->settings.handshake_timeout_ms;
  if (tls) c->client_tls = std::make_unique<tls::TlsSession>(snapshot_->server_tls->NewSsl(), /*server=*/true);
  ++stats_.open_sockets;
  ArmRecv(*c, true);
}

int32_t Shard::Loop::AllocPool() {
  if (free_pool_.empty()) {
    pool_.emplace_back(new uint8_t[ring_.buffer_size()]);
    int32_t id = static_cast<int32_t>(ring_.buffer_count() + pool_.size() - 1);
    refs_.resize(static_cast<size_t>(id) + 1, 0);
    return id;
  }
  int32_t id = free_pool_.back();
  free_pool_.pop_back();
  return id;
}

void Shard::Loop::ArmRecv(Conn& c, bool client) {
  bool& armed = client ? c.client_recv_armed : c.upstream_recv_armed;
  if (armed) return;
  ring_.PrepRecvMultishot(client ? c.client_fd : c.upstream_fd, TagFor(c, client ? kOpRecvClient : kOpRecvUpstream));
  armed = true;
  ++c.inflight;
}

void Shard::Loop::OnRecv(Conn& c, bool from_client, const io_uring_cqe& cqe) {
  bool more = io::HasMore(cqe);
  if (!more) {
    (from_client ? c.client_recv_armed : c.upstream_recv_armed) = false;
    --c.inflight;
  }
  if (cqe.res > 0) {
    WSGATE_DCHECK(io::HasBuffer(cqe));
    uint16_t id = io::BufferId(cqe);
    ring_.NoteBufferTaken();
    const uint8_t* data = ring_.Buffer(id);
    size_t n = static_cast<size_t>(cqe.res);
    if (from_client) {
      c.last_client_activity_ms = NowMs();
      c.ping_outstanding = false;
    }
    if (TlsOf(c, from_client) != nullptr) {
      OnCiphertext(c, from_client, data, n);  // copied into the TLS session
      ring_.Recycle(id);
    } else {
      ++refs_[id];  // held while it is processed, so forwarded ranges can reference it
      OnPlaintext(c, from_client, id, data, n);
      Unref(id);
    }
    if (!more && c.phase != Phase::kClosed && !(from_client ? c.client_eof : c.upstream_eof)) {
      Pipe& dst = from_client ? c.up : c.down;
      if (!dst.source_paused) ArmRecv(c, from_client);
    }
    return;
  }
  if (cqe.res == -ENOBUFS) {  // the ring ran dry; resume when buffers come back
    starved_.push_back(c.slot);
    return;
  }
  if (cqe.res == -ECANCELED && c.phase != Phase::kClosed) {
    // A backpressure pause landed. If the queue drained while the cancel was in flight, the
    // resume found the recv still armed and did nothing: re-arm here.
    Pipe& dst = from_client ? c.up : c.down;
    if (!more && !dst.source_paused) ArmRecv(c, from_client);
    return;
  }
  OnPeerGone(c, from_client);  // EOF (0) or an error
}

// Bytes that arrived in the clear (or were just decrypted) from one side.
void Shard::Loop::OnPlaintext(Conn& c, bool from_client, int32_t buf, const uint8_t* data, size_t n) {
  if (c.phase == Phase::kRelay) {
    ScanInto(c, from_client ? c.up : c.down, buf, data, n);
  } else if (from_client) {
    OnClientBytes(c, data, n);  // handshake phases copy what they need
  } else {
    OnUpstreamBytes(c, data, n);
  }
}

// Ciphertext from a TLS side: feed it to the session, relay what decrypts, and send what the
// session wants to say (handshake records, alerts).
void Shard::Loop::OnCiphertext(Conn& c, bool from_client, const uint8_t* data, size_t n) {
  tls::TlsSession& session = *TlsOf(c, from_client);
  session.Feed(data, n);
  while (c.phase != Phase::kClosed && TlsOf(c, from_client) == &session) {
    int32_t id = AllocPool();
    size_t got = 0;
    tls::TlsSession::Result r = session.Read(BufferData(id), ring_.buffer_size(), &got);
    if (r != tls::TlsSession::kData) {
      free_pool_.push_back(id);
      if (r == tls::TlsSession::kClosed) return OnPeerGone(c, from_client);
      if (r == tls::TlsSession::kError) {
        // The session may still have an alert to send; then the side is done.
        Encrypt(c, from_client ? c.down : c.up);
        if (from_client) {
          WSGATE_LOG(kDebug, "shard %d: %s: TLS failed: %s", options_.index, c.client_ip, session.error());
          StartSend(c, c.down);
          c.client_eof = true;
          if (c.phase == Phase::kRelay) return OnPeerGone(c, true);
          return Shutdown(c);
        }
        WSGATE_LOG(kInfo, "shard %d: TLS with the backend failed: %s", options_.index, session.error());
        return Fail(c, 502, absl::StrCat("Bad Gateway: TLS with the backend failed: ", session.error()));
      }
      break;  // kWantMore
    }
    ++refs_[id];
    OnPlaintext(c, from_client, id, BufferData(id), got);
    Unref(id);
  }
  // Handshake replies, and for a backend whose handshake just finished, the queued upgrade request.
  if (c.phase != Phase::kClosed) StartSend(c, from_client ? c.down : c.up);
}

// One side's connection is gone (EOF, reset, close_notify).
void Shard::Loop::OnPeerGone(Conn& c, bool from_client) {
  WSGATE_LOG(kDebug, "shard %d: conn %d: the %s closed its connection (phase %d)", options_.index,
             static_cast<int>(c.slot), from_client ? "client" : "backend", static_cast<int>(c.phase));
  if (from_client) c.client_eof = true;
  else c.upstream_eof = true;
  switch (c.phase) {
    case Phase::kRequest:
    case Phase::kConnecting:
    case Phase::kUpstreamHandshake:
      if (from_client) {
        Shutdown(c);  // the client left before the handshake finished
      } else if (c.phase == Phase::kUpstreamHandshake) {
        Fail(c, 502, "Bad Gateway: the backend closed the connection during the WebSocket handshake");
      }
      return;
    case Phase::kRelay:
      if (from_client) {
        ReleaseQueue(c.down);  // nobody to send to
        if (!c.sent_close_to_backend) InitiateClose(c, 0, {}, 1001, "client went away");
      } else {
        ReleaseQueue(c.up);
        if (!c.sent_close_to_client) InitiateClose(c, 1011, "backend connection lost", 0, {});
      }
      MaybeFinish(c);
      return;
    case Phase::kFinishing:
      if (from_client) Shutdown(c);
      else MaybeFinish(c);
      return;
    default:
      return;
  }
}

void Shard::Loop::OnClientBytes(Conn& c, const uint8_t* data, size_t n) {
  if (c.phase != Phase::kRequest) {
    if (c.phase == Phase::kConnecting || c.phase == Phase::kUpstreamHandshake) {
      // Frames sent before our 101: keep them (bounded) for the relay.
      if (c.early_client.size() + n > kMaxEarlyBytes) return Fail(c, 400, "Bad Request: too much data before the handshake completed");
      c.early_client.append(reinterpret_cast<const char*>(data), n);
    }
    return;  // kFinishing: discard
  }
  c.request.append(reinterpret_cast<const char*>(data), n);
  if (c.parser == nullptr) c.parser = TakeParser();
  http::ParseResult r = c.parser->Feed(c.request);
  if (r.kind == http::ParseResult::kNeedMore) return;
  if (r.kind == http::ParseResult::kError) return Fail(c, r.status, absl::StrCat(StatusText(r.status).data(), ": ", Sv(r.reason)));
  HandleRequest(c, r.consumed);
}

void Shard::Loop::HandleRequest(Conn& c, size_t consumed) {
  const http::Request& req = c.parser->request();
  if (draining_) return Fail(c, 503, "Service Unavailable: the gateway is shutting down");
  http::UpgradeCheck check = http::CheckUpgrade(req);
  if (check.error != http::UpgradeError::kNone) {
    int status = http::DefaultStatus(check.error);
    std::string body = absl::StrCat(StatusText(status).data(), ": ", Sv(http::Describe(check.error)));
    if (status == 426) return Respond(c, 426, body, "Sec-WebSocket-Version: 13\r\n");
    if (status == 405) return Respond(c, 405, body, "Allow: GET\r\n");
    return Fail(c, status, body);
  }
  c.snapshot = snapshot_;
  const config::Snapshot& snap = *c.snapshot;
  config::RouteResult route = config::Route(snap, check.host, req.path);
  if (route.status != config::RouteStatus::kOk) return Fail(c, route.http_status(), route.message());

  auth::Credentials creds;
  if (const http::Header* h = req.Find("authorization")) creds.authorization = h->value;
  http::QueryValue q = http::FindQueryParam(req.query, "access_token");
  creds.has_query_token = q.count > 0;
  creds.access_token = std::move(q.value);
  auth::AuthResult auth = authenticator_.Authenticate(snap, route, creds, NowUnixS());
  if (auth.status != 0) return Fail(c, auth.status, auth.message);
  if (!auth.endpoint->resolve_error.empty())
    return Fail(c, 502, absl::StrCat("Bad Gateway: ", auth.endpoint->resolve_error));

  c.endpoint = auth.endpoint;
  c.identity = std::move(auth.identity);
  c.api_id = route.api->id;
  auto& counters = stats_.apis[route.api->id];
  if (!counters) counters = std::make_unique<ApiCounters>(route.api->name, route.api->version);
  c.counters = counters.get();
  ResolveLimits(c, snap);
  c.client_protocols = std::string(check.protocols);
  c.client_accept = ws::AcceptKey(check.key);

  // The upstream request: fresh key, the client's subprotocols, X-Forwarded-For. The access
  // token never reaches the backend (neither the header nor the query parameter).
  uint8_t nonce[16];
  tls::RandomBytes(nonce, sizeof(nonce));
  std::string key = common::Base64Encode(nonce, sizeof(nonce));
  c.expected_accept = ws::AcceptKey(key);
  std::string target = config::UpstreamTarget(*c.endpoint, route, http::RemoveQueryParam(req.query, "access_token"));
  std::string out = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: ", c.endpoint->host_header,
                                 "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ", key,
                                 "\r\nSec-WebSocket-Version: 13\r\n");
  if (!check.protocols.empty()) absl::StrAppend(&out, "Sec-WebSocket-Protocol: ", Sv(check.protocols), "\r\n");
  if (const http::Header* origin = req.Find("origin")) absl::StrAppend(&out, "Origin: ", Sv(origin->value), "\r\n");
  if (const http::Header* ua = req.Find("user-agent")) absl::StrAppend(&out, "User-Agent: ", Sv(ua->value), "\r\n");
  const http::Header* xff = req.Find("x-forwarded-for");
  absl::StrAppend(&out, "X-Forwarded-For: ", xff ? absl::StrCat(Sv(xff->value), ", ") : "", c.client_ip, "\r\n\r\n");
  c.early_client = c.request.substr(consumed);
  c.request = std::string();
  GiveBackParser(c);
  Segment s;
  s.owned = std::move(out);
  Enqueue(c, c.up, std::move(s));  // sent once the connect completes
  StartConnect(c);
}

// ---------------------------------------------------------------------------------------------
// Upstream connect and handshake

void Shard::Loop::StartConnect(Conn& c) {
  c.phase = Phase::kConnecting;
  uint32_t timeout = c.endpoint->connect_timeout_ms ? c.endpoint->connect_timeout_ms
                                                    : c.snapshot->settings.upstream_connect_timeout_ms;
  if (c.address_index == 0) c.deadline_ms = NowMs() + timeout;
  const sockaddr_storage& addr = c.endpoint->addresses[c.address_index];
  if (c.upstream_fd >= 0) ::close(c.upstream_fd);
  c.upstream_fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c.upstream_fd < 0) return Fail(c, 502, absl::StrCat("Bad Gateway: socket: ", strerror(errno)));
  int one = 1;
  setsockopt(c.upstream_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c.connect_addr = addr;
  socklen_t len = addr.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  ring_.PrepConnect(c.upstream_fd, reinterpret_cast<const sockaddr*>(&c.connect_addr), len, TagFor(c, kOpConnect));
  ++c.inflight;
}

void Shard::Loop::OnConnect(Conn& c, int res) {
  --c.inflight;
  if (c.phase != Phase::kConnecting) return;
  if (res < 0) {
    if (c.address_index + 1 < c.endpoint->addresses.size()) {
      ++c.address_index;  // e.g. localhost: ::1 refused, try 127.0.0.1
      return StartConnect(c);
    }
    return Fail(c, 502, absl::StrCat("Bad Gateway: cannot connect to the backend (", strerror(-res), ")"));
  }
  c.phase = Phase::kUpstreamHandshake;
  if (c.endpoint->tls) {
    // wss:// backend: the TLS handshake runs first; the queued upgrade request is encrypted
    // and sent once it completes (Encrypt() retries it on every StartSend).
    c.upstream_tls = std::make_unique<tls::TlsSession>(c.endpoint->tls_context->NewSsl(c.endpoint->host), false);
    c.upstream_tls->Connect();
  }
  ArmRecv(c, false);
  StartSend(c, c.up);
}

void Shard::Loop::OnUpstreamBytes(Conn& c, const uint8_t* data, size_t n) {
  if (c.phase != Phase::kUpstreamHandshake) return;
  c.upstream_bytes.append(reinterpret_cast<const char*>(data), n);
  http::UpstreamAnswer a = http::ParseUpgradeResponse(c.upstream_bytes, c.expected_accept, c.client_protocols);
  if (a.kind == http::UpstreamAnswer::kNeedMore) return;
  if (a.kind == http::UpstreamAnswer::kRefused) {
    WSGATE_LOG(kInfo, "shard %d: upstream handshake refused: %s", options_.index, a.error);
    return Fail(c, 502, absl::StrCat("Bad Gateway: ", a.error));
  }
  StartRelay(c, a.consumed, a.protocol);
}

void Shard::Loop::StartRelay(Conn& c, size_t response_head_bytes, std::string_view protocol) {
  c.phase = Phase::kRelay;
  c.deadline_ms = 0;
  c.last_client_activity_ms = NowMs();
  ws::ScannerLimits limits;
  limits.max_message_bytes = c.snapshot->settings.max_message_bytes;
  c.up.scanner.emplace(ws::Direction::kFromClient, limits);
  c.down.scanner.emplace(ws::Direction::kFromBackend, limits);
  ++stats_.active_connections;
  ++stats_.total_connections;
  ++c.counters->active;
  ++c.counters->total;

  // Our 101 to the client, only now that the backend said 101.
  Segment s;
  s.owned = absl::StrCat("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: ",
                         c.client_accept, "\r\n");
  if (!protocol.empty()) absl::StrAppend(&s.owned, "Sec-WebSocket-Protocol: ", Sv(protocol), "\r\n");
  s.owned.append("\r\n");
  Enqueue(c, c.down, std::move(s));

  std::string backend_early = c.upstream_bytes.substr(response_head_bytes);
  std::string client_early = std::move(c.early_client);
  // What only the handshake needed goes now: an idle relay holds as little as possible.
  c.upstream_bytes = std::string();
  c.expected_accept = std::string();
  c.client_accept = std::string();
  c.client_protocols = std::string();
  c.snapshot.reset();  // the relay keeps ids, not pointers into a snapshot
  c.endpoint = nullptr;
  if (!backend_early.empty())
    ScanInto(c, c.down, -1, reinterpret_cast<const uint8_t*>(backend_early.data()), backend_early.size());
  if (!client_early.empty() && c.phase == Phase::kRelay)
    ScanInto(c, c.up, -1, reinterpret_cast<const uint8_t*>(client_early.data()), client_early.size());
  if (c.phase == Phase::kRelay) {
    StartSend(c, c.down);
    StartSend(c, c.up);
  }
}

// ---------------------------------------------------------------------------------------------
// Relay

void Shard::Loop::ScanInto(Conn& c, Pipe& p, int32_t buf, const uint8_t* data, size_t n) {
  bool closing_side = p.to_client ? c.backend_close_seen : c.client_close_seen;
  if (closing_side) return;  // after a close frame nothing more is relayed from that side
  PipeSink sink(*this, c, p, buf, data);
  ws::ScanResult r = p.scanner->Scan(data, n, sink);
  if (!r.ok) {
    WSGATE_LOG(kDebug, "shard %d: conn %d: %s broke the protocol: %d %s", options_.index, static_cast<int>(c.slot),
               p.to_client ? "backend" : "client", static_cast<int>(r.close_code), r.reason);
    if (p.to_client) {  // the backend broke the protocol
      WSGATE_LOG(kInfo, "shard %d: backend protocol error: %s", options_.index, r.reason);
      InitiateClose(c, 1014, "bad frame from the backend", r.close_code, r.reason);
    } else {
      InitiateClose(c, r.close_code, r.reason, 1001, "client protocol error");
    }
    c.client_close_seen = c.client_close_seen || !p.to_client;  // stop relaying from the offender
    c.backend_close_seen = c.backend_close_seen || p.to_client;
    MaybeFinish(c);
    return;
  }
  FlushPending(c, p);
  StartSend(c, p);
  if (c.throttle_notice) SendThrottleNotice(c);
  CheckBackpressure(c, p);
}

void Shard::Loop::Forward(Conn& c, Pipe& p, int32_t buf, const uint8_t* base, size_t offset, size_t length) {
  Segment s;
  if (buf >= 0) {
    s.buf = buf;
    s.offset = static_cast<uint32_t>(offset);
    s.length = static_cast<uint32_t>(length);
    Ref(buf);
  } else {
    s.owned.assign(reinterpret_cast<const char*>(base + offset), length);
  }
  Enqueue(c, p, std::move(s));
}

void Shard::Loop::ForwardCopy(Conn& c, Pipe& p, const uint8_t* bytes, size_t length) {
  Segment s;
  s.owned.assign(reinterpret_cast<const char*>(bytes), length);
  Enqueue(c, p, std::move(s));
}

// Throttling: WSO2 counts every data frame in both directions against the subscription's plan,
// the application's policy and the API's policy. A message is admitted or dropped at its first
// frame (its continuation frames follow it); a dropped one is answered with WSO2's 4003 text.
void Shard::Loop::ResolveLimits(Conn& c, const config::Snapshot& snap) {
  c.limits.Clear();
  auto add = [&](const std::string& policy, const char* level, const std::string& id) {
    if (policy.empty()) return;
    auto it = snap.throttle_policies.find(policy);
    if (it == snap.throttle_policies.end() || it->second.unlimited) return;
    c.limits.Add(it->second, CounterFor(absl::StrCat(level, ":", id)));
  };
  if (!c.identity.subscription_id.empty())
    if (const config::Subscription* sub = snap.FindSubscription(c.identity.application_id, c.api_id))
      add(sub->plan, "sub", sub->id);
  if (auto app = snap.applications.find(c.identity.application_id); app != snap.applications.end())
    add(app->second.throttle_policy, "app", app->second.id);
  if (auto api = snap.apis_by_id.find(c.api_id); api != snap.apis_by_id.end())
    add(api->second->throttle_policy, "api", api->second->id);
}

bool Shard::Loop::OnDataFrame(Conn& c, Pipe& p, uint8_t opcode, uint64_t length) {
  DirectionCounters& total = p.to_client ? stats_.backend_to_client : stats_.client_to_backend;
  DirectionCounters& api = p.to_client ? c.counters->backend_to_client : c.counters->client_to_backend;
  if (!c.limits.empty()) {
    int64_t now_s = NowUnixS();
    if (opcode == ws::kContinuation) {
      c.limits.Count(now_s);
    } else if (!c.limits.Admit(now_s)) {
      ++total.throttled_frames;
      ++api.throttled_frames;
      c.throttle_notice = true;  // sent once this scan is over (SendThrottleNotice)
      return false;
    }
  }
  ++total.frames;
  total.bytes += length;
  ++api.frames;
  api.bytes += length;
  return true;
}

// The client learns of a dropped message from a text frame, WSO2's exact words, placed where a
// whole message may go in the backend → client stream; several drops in a row give one notice.
void Shard::Loop::SendThrottleNotice(Conn& c) {
  if (!c.throttle_notice || !c.down.scanner) return;
  if (c.sent_close_to_client || c.client_eof || c.phase != Phase::kRelay) {
    c.throttle_notice = false;
    return;
  }
  if (!c.down.scanner->AtFrameBoundary() || c.down.scanner->InMessage()) return;  // after this message
  c.throttle_notice = false;
  Segment s;
  s.owned = ws::EncodeFrame(ws::kText, throttle::kThrottledText);
  Enqueue(c, c.down, std::move(s));
  StartSend(c, c.down);
}

void Shard::Loop::OnControl(Conn& c, Pipe& p, uint8_t opcode, std::string_view payload) {
  bool from_client = !p.to_client;
  if (opcode == ws::kPing) {
    // Answered here: a pong back to whoever pinged.
    if (from_client) {
      Inject(c, c.down, ws::EncodeFrame(ws::kPong, payload));
    } else {
      uint8_t mask[4];
      tls::RandomBytes(mask, 4);
      Inject(c, c.up, ws::EncodeFrame(ws::kPong, payload, mask));
    }
    return;
  }
  if (opcode == ws::kPong) {
    if (from_client) c.ping_outstanding = false;
    return;
  }
  // Close: validate, then pass it on to the other side (unless we already sent our own).
  ws::ClosePayloadInfo info = ws::ParseClosePayload(payload);
  WSGATE_LOG(kDebug, "shard %d: conn %d: close %d '%s' from the %s", options_.index, static_cast<int>(c.slot),
             static_cast<int>(info.code), std::string(info.reason), from_client ? "client" : "backend");
  if (!info.valid) {
    if (from_client) InitiateClose(c, info.error_code, "invalid close frame", 1001, "client protocol error");
    else InitiateClose(c, 1014, "invalid close frame from the backend", info.error_code, "invalid close frame");
  }
  if (from_client) {
    c.client_close_seen = true;
    if (!c.sent_close_to_backend) {
      uint8_t mask[4];
      tls::RandomBytes(mask, 4);
      c.sent_close_to_backend = true;
      Inject(c, c.up, ws::EncodeFrame(ws::kClose, payload, mask));
    }
  } else {
    c.backend_close_seen = true;
    if (!c.sent_close_to_client) {
      c.sent_close_to_client = true;
      ++stats_.closes[info.code];
      Inject(c, c.down, ws::EncodeFrame(ws::kClose, payload));
    }
  }
  if (c.deadline_ms == 0) c.deadline_ms = NowMs() + snapshot_->settings.close_timeout_ms;
  MaybeFinish(c);
}

void Shard::Loop::Enqueue(Conn& c, Pipe& p, Segment s) {
  p.queued += s.buf >= 0 ? s.length : s.owned.size();
  p.queue.push_back(std::move(s));
}

void Shard::Loop::Inject(Conn& c, Pipe& p, std::string frame) {
  if (p.scanner && !p.scanner->AtFrameBoundary()) {
    p.pending.push_back(std::move(frame));  // after the frame being relayed
    return;
  }
  Segment s;
  s.owned = std::move(frame);
  Enqueue(c, p, std::move(s));
  StartSend(c, p);
}

void Shard::Loop::FlushPending(Conn& c, Pipe& p) {
  if (p.pending.empty() || !p.scanner->AtFrameBoundary()) return;
  for (std::string& f : p.pending) {
    Segment s;
    s.owned = std::move(f);
    Enqueue(c, p, std::move(s));
  }
  p.pending.clear();
}

bool Shard::Loop::Encrypt(Conn& c, Pipe& p) {
  tls::TlsSession& session = *TlsOf(c, p.to_client);
  // Gather queued segments into full-size records: one SSL_write (one record, one AEAD call)
  // per 16 KiB instead of one per message.
  static thread_local uint8_t batch[16384];
  while (!p.queue.empty()) {
    size_t filled = 0, taken = 0;
    for (size_t i = 0; i < p.queue.size(); ++i) {
      Segment& seg = p.queue[i];
      size_t len = seg.buf >= 0 ? seg.length : seg.owned.size();
      if (filled > 0 && filled + len > sizeof(batch)) break;
      if (len > sizeof(batch)) {  // a big segment on its own, written in place
        if (filled > 0) break;
        const uint8_t* data = seg.buf >= 0 ? BufferData(seg.buf) + seg.offset : reinterpret_cast<const uint8_t*>(seg.owned.data());
        if (!session.Write(data, len)) return !session.failed();  // handshake not finished yet
        taken = 1;
        filled = len;
        break;
      }
      std::memcpy(batch + filled, seg.buf >= 0 ? BufferData(seg.buf) + seg.offset : reinterpret_cast<const uint8_t*>(seg.owned.data()), len);
      filled += len;
      ++taken;
    }
    if (taken == 0) break;
    bool in_place = taken == 1 && filled > sizeof(batch);
    if (!in_place && !session.Write(batch, filled)) break;  // handshake not finished yet (or failed)
    for (size_t i = 0; i < taken; ++i) {
      Segment& seg = p.queue.front();
      p.queued -= seg.buf >= 0 ? seg.length : seg.owned.size();
      if (seg.buf >= 0) Unref(seg.buf);
      p.queue.pop_front();
    }
  }
  // Collect the ciphertext into pool buffers.
  while (true) {
    int32_t id = AllocPool();
    size_t got = session.ReadOutput(BufferData(id), ring_.buffer_size());
    if (got == 0) {
      free_pool_.push_back(id);
      break;
    }
    Segment w;
    w.buf = id;
    w.length = static_cast<uint32_t>(got);
    Ref(id);
    p.queued += got;
    p.wire.push_back(std::move(w));
  }
  return !session.failed();
}

void Shard::Loop::StartSend(Conn& c, Pipe& p) {
  if (p.sending() || c.phase == Phase::kClosed) return;
  int fd = p.to_client ? c.client_fd : c.upstream_fd;
  if (!p.to_client && c.phase == Phase::kConnecting) return;  // not connected yet
  if (p.to_client ? c.client_eof : c.upstream_eof) {
    ReleaseQueue(p);
    return MaybeFinish(c);
  }
  if (TlsOf(c, p.to_client) != nullptr && !Encrypt(c, p)) {
    // Our side of the session broke (it should not); treat the socket as gone.
    if (p.to_client) c.client_eof = true;
    else c.upstream_eof = true;
    ReleaseQueue(p);
    return MaybeFinish(c);
  }
  SegmentQueue<Segment>& out = Outbox(c, p);
  if (out.empty()) return;
  p.sending_wire = &out == &p.wire;
  SendScratch& sc = *(p.scratch = BorrowScratch());
  int n = 0;
  for (; static_cast<size_t>(n) < out.size() && n < kMaxIov; ++n) {
    Segment& seg = out[static_cast<size_t>(n)];
    if (seg.buf >= 0) {
      sc.iov[n].iov_base = BufferData(seg.buf) + seg.offset;
      sc.iov[n].iov_len = seg.length;
    } else if (seg.owned.size() <= sizeof(sc.small[n])) {
      std::memcpy(sc.small[n], seg.owned.data(), seg.owned.size());
      sc.iov[n].iov_base = sc.small[n];
      sc.iov[n].iov_len = seg.owned.size();
    } else {
      sc.iov[n].iov_base = seg.owned.data();  // on the heap: stable when the segment moves
      sc.iov[n].iov_len = seg.owned.size();
    }
  }
  p.iov_count = n;
  sc.msg = msghdr{};
  sc.msg.msg_iov = sc.iov;
  sc.msg.msg_iovlen = static_cast<size_t>(n);
  ring_.PrepSendmsg(fd, &sc.msg, TagFor(c, p.to_client ? kOpSendClient : kOpSendUpstream));
  ++c.inflight;
}

void Shard::Loop::OnSend(Conn& c, bool to_client, int res) {
  --c.inflight;
  Pipe& p = to_client ? c.down : c.up;
  ReturnScratch(p);
  if (res < 0) {
    // The destination is gone (EPIPE, ECONNRESET) or we shut it down (ECANCELED).
    if (to_client) c.client_eof = true;
    else c.upstream_eof = true;
    ReleaseQueue(p);
    if (c.phase == Phase::kRelay) {
      if (to_client && !c.sent_close_to_backend) InitiateClose(c, 0, {}, 1001, "client went away");
      if (!to_client && !c.sent_close_to_client) InitiateClose(c, 1011, "backend connection lost", 0, {});
      c.client_close_seen |= to_client;
      c.backend_close_seen |= !to_client;
      MaybeFinish(c);
    } else if (c.phase == Phase::kUpstreamHandshake && !to_client) {
      Fail(c, 502, "Bad Gateway: the backend closed the connection");
    } else if (c.phase != Phase::kClosed) {
      Shutdown(c);
    }
    return;
  }
  size_t sent = static_cast<size_t>(res);
  p.queued -= sent;
  SegmentQueue<Segment>& out = Outbox(c, p);
  while (sent > 0) {
    Segment& s = out.front();
    size_t len = s.buf >= 0 ? s.length : s.owned.size();
    if (sent < len) {
      if (s.buf >= 0) {
        s.offset += static_cast<uint32_t>(sent);
        s.length -= static_cast<uint32_t>(sent);
      } else {
        s.owned.erase(0, sent);
      }
      break;
    }
    sent -= len;
    if (s.buf >= 0) Unref(s.buf);
    out.pop_front();
  }
  if (c.phase == Phase::kClosed) return;
  if (!p.queue.empty() || !p.wire.empty()) {
    StartSend(c, p);
  } else if (c.finish_when_flushed || c.phase == Phase::kFinishing) {
    MaybeFinish(c);
    return;
  }
  // Resume the paused source once this direction has drained enough.
  if (p.source_paused && p.queued < snapshot_->settings.queue_bytes / 2) {
    p.source_paused = false;
    bool source_is_client = !p.to_client;
    if (!(source_is_client ? c.client_eof : c.upstream_eof)) ArmRecv(c, source_is_client);
  }
}

void Shard::Loop::CheckBackpressure(Conn& c, Pipe& p) {
  if (p.source_paused || p.queued <= snapshot_->settings.queue_bytes) return;
  // Too much is waiting for a slow reader: stop reading the other side until it drains.
  p.source_paused = true;
  bool source_is_client = !p.to_client;
  bool armed = source_is_client ? c.client_recv_armed : c.upstream_recv_armed;
  if (armed) {
    ring_.PrepCancel(TagFor(c, source_is_client ? kOpRecvClient : kOpRecvUpstream), TagFor(c, kOpCancel));
    ++c.inflight;
    ring_.SubmitNow();  // every completion posted before the cancel lands adds to the queue
  }
}

void Shard::Loop::Fail(Conn& c, int status, std::string_view body) { Respond(c, status, body); }

void Shard::Loop::Respond(Conn& c, int status, std::string_view body, std::string_view extra_headers) {
  if (c.phase == Phase::kFinishing || c.phase == Phase::kClosed) return;
  ++stats_.handshake_failures[status];
  WSGATE_LOG(kDebug, "shard %d: %s → %d %s", options_.index, c.client_ip, status, std::string(body));
  c.phase = Phase::kFinishing;
  c.finish_when_flushed = true;
  c.deadline_ms = NowMs() + 5000;
  // Drop the upstream side entirely.
  ReleaseQueue(c.up);
  AbortUpstream(c);
  ReleaseQueue(c.down);
  Segment s;
  s.owned = absl::StrCat("HTTP/1.1 ", status, " ", StatusText(status).data(),
                         "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: ", body.size(),
                         "\r\nConnection: close\r\n", Sv(extra_headers), "\r\n", Sv(body));
  Enqueue(c, c.down, std::move(s));
  StartSend(c, c.down);
}

// ---------------------------------------------------------------------------------------------
// Closing

void Shard::Loop::InitiateClose(Conn& c, uint16_t client_code, std::string_view client_reason, uint16_t backend_code,
                                std::string_view backend_reason) {
  if (client_code != 0 && !c.sent_close_to_client && !c.client_eof) {
    c.sent_close_to_client = true;
    ++stats_.closes[client_code];
    Inject(c, c.down, ws::EncodeFrame(ws::kClose, ws::ClosePayload(client_code, client_reason)));
  }
  if (backend_code != 0 && !c.sent_close_to_backend && !c.upstream_eof) {
    c.sent_close_to_backend = true;
    uint8_t mask[4];
    tls::RandomBytes(mask, 4);
    Inject(c, c.up, ws::EncodeFrame(ws::kClose, ws::ClosePayload(backend_code, backend_reason), mask));
  }
  if (c.deadline_ms == 0) c.deadline_ms = NowMs() + snapshot_->settings.close_timeout_ms;
}

void Shard::Loop::MaybeFinish(Conn& c) {
  if (c.phase == Phase::kClosed) return;
  if (c.phase == Phase::kRelay) {
    bool client_done = c.client_close_seen || c.client_eof;
    bool backend_done = c.backend_close_seen || c.upstream_eof;
    if (!(client_done && backend_done)) return;
    c.finish_when_flushed = true;
  }
  if (!c.finish_when_flushed) return;
  bool flushed = ((c.down.queue.empty() && c.down.wire.empty()) || c.client_eof) &&
                 ((c.up.queue.empty() && c.up.wire.empty()) || c.upstream_eof) &&
                 !c.down.sending() && !c.up.sending() && c.down.pending.empty() && c.up.pending.empty();
  if (flushed) Shutdown(c);
}

// Stops everything on the upstream socket: a connect in progress (which shutdown() would not
// stop), its recv, and the socket itself.
void Shard::Loop::AbortUpstream(Conn& c) {
  if (c.upstream_fd < 0) return;
  if (c.phase == Phase::kConnecting) {
    ring_.PrepCancel(TagFor(c, kOpConnect), TagFor(c, kOpCancel));
    ++c.inflight;
  }
  if (c.upstream_recv_armed) {
    ring_.PrepCancel(TagFor(c, kOpRecvUpstream), TagFor(c, kOpCancel));
    ++c.inflight;
  }
  ::shutdown(c.upstream_fd, SHUT_RDWR);
  c.upstream_eof = true;
}

void Shard::Loop::ReleaseQueue(Pipe& p) {
  // A send in flight still points into the first iov_count segments of the queue it was built
  // from: keep those until it completes; drop the rest.
  auto drop = [&](SegmentQueue<Segment>& q, size_t keep) {
    keep = std::min(q.size(), keep);
    while (q.size() > keep) {
      Segment& s = q.back();
      if (s.buf >= 0) Unref(s.buf);
      p.queued -= s.buf >= 0 ? s.length : s.owned.size();
      q.pop_back();
    }
  };
  size_t in_flight = p.sending() ? static_cast<size_t>(p.iov_count) : 0;
  drop(p.queue, p.sending_wire ? 0 : in_flight);
  drop(p.wire, p.sending_wire ? in_flight : 0);
  p.pending.clear();
}

void Shard::Loop::Shutdown(Conn& c) {
  if (c.phase == Phase::kClosed) return;
  WSGATE_LOG(kDebug, "shard %d: conn %d: shutting down in phase %d (eof %d/%d, closes seen %d/%d, sent %d/%d)",
             options_.index, static_cast<int>(c.slot), static_cast<int>(c.phase), c.client_eof, c.upstream_eof,
             c.client_close_seen, c.backend_close_seen, c.sent_close_to_client, c.sent_close_to_backend);
  if (c.phase == Phase::kRelay || c.phase == Phase::kFinishing) {
    if (c.up.scanner) {  // it was relaying
      --stats_.active_connections;
      if (c.counters) --c.counters->active;
    }
  }
  AbortUpstream(c);
  c.phase = Phase::kClosed;
  // shutdown() completes pending recvs (EOF) and sends (error); the cancels make sure.
  if (c.client_fd >= 0) ::shutdown(c.client_fd, SHUT_RDWR);
  if (c.client_recv_armed) {
    ring_.PrepCancel(TagFor(c, kOpRecvClient), TagFor(c, kOpCancel));
    ++c.inflight;
  }
  ReleaseQueue(c.up);
  ReleaseQueue(c.down);
  MaybeFree(c);
}

void Shard::Loop::MaybeFree(Conn& c) {
  if (c.phase != Phase::kClosed || c.inflight > 0) return;
  WSGATE_DCHECK(c.up.scratch == nullptr && c.down.scratch == nullptr);  // OnSend gave them back
  // No op in flight: every buffer reference held by queued segments can go.
  for (Pipe* p : {&c.up, &c.down}) {
    for (SegmentQueue<Segment>* q : {&p->queue, &p->wire}) {
      while (!q->empty()) {
        if (q->front().buf >= 0) Unref(q->front().buf);
        q->pop_front();
      }
    }
    p->queued = 0;
  }
  c.client_tls.reset();
  c.upstream_tls.reset();
  if (c.client_fd >= 0) ::close(c.client_fd);
  if (c.upstream_fd >= 0) ::close(c.upstream_fd);
  c.client_fd = c.upstream_fd = -1;
  c.phase = Phase::kFree;
  c.snapshot.reset();
  GiveBackParser(c);
  --stats_.open_sockets;
  --live_;
  free_slots_.push_back(c.slot);
}

// ---------------------------------------------------------------------------------------------
// Timers, snapshots, drain

void Shard::Loop::Tick(int64_t now) {
  const config::Settings& settings = snapshot_->settings;
  int64_t now_s = NowUnixS();
  for (auto& ptr : conns_) {
    Conn& c = *ptr;
    switch (c.phase) {
      case Phase::kRequest:
        if (now >= c.deadline_ms) Fail(c, 408, "Request Timeout: the upgrade request did not complete in time");
        break;
      case Phase::kConnecting:
      case Phase::kUpstreamHandshake:
        if (now >= c.deadline_ms) Fail(c, 504, "Gateway Timeout: the backend did not complete the WebSocket handshake in time");
        break;
      case Phase::kRelay:
        if (c.deadline_ms != 0 && now >= c.deadline_ms) {
          Shutdown(c);  // a close handshake that never finished
          break;
        }
        if (c.sent_close_to_client || c.sent_close_to_backend) break;
        if (c.identity.expires_unix_s != 0 && !c.identity.anonymous &&
            now_s >= c.identity.expires_unix_s + static_cast<int64_t>(snapshot_->token_validation.clock_skew_s)) {
          InitiateClose(c, 4001, "Invalid Credentials Connection closed!", 1001, "client credentials expired");
          break;
        }
        if (c.ping_outstanding && now - c.ping_sent_ms >= settings.pong_timeout_ms) {
          // A half-open client: free its resources and tell the backend.
          c.client_eof = true;
          ReleaseQueue(c.down);
          InitiateClose(c, 0, {}, 1001, "client timed out");
          c.client_close_seen = true;
          MaybeFinish(c);
        } else if (!c.ping_outstanding && now - c.last_client_activity_ms >= settings.ping_interval_ms) {
          c.ping_outstanding = true;
          c.ping_sent_ms = now;
          Inject(c, c.down, ws::EncodeFrame(ws::kPing, "wsgate"));
        }
        break;
      case Phase::kFinishing:
        if (now >= c.deadline_ms) Shutdown(c);
        break;
      default:
        break;
    }
  }
}

void Shard::Loop::DrainInbox() {
  std::vector<std::function<void(Shard&)>> tasks;
  {
    std::lock_guard<std::mutex> lock(shard_.mu_);
    tasks.swap(shard_.inbox_);
  }
  for (auto& task : tasks) task(shard_);
}

uint64_t Shard::Loop::ApplySnapshot(std::shared_ptr<const config::Snapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  uint64_t closed = 0;
  int64_t now_s = NowUnixS();
  for (auto& ptr : conns_) {
    Conn& c = *ptr;
    if (c.phase != Phase::kRelay || c.sent_close_to_client) continue;
    uint16_t code = auth::Authenticator::Recheck(*snapshot_, c.api_id, c.identity, now_s);
    if (code == 0) {
      ResolveLimits(c, *snapshot_);  // a changed plan or policy applies to live connections too
      continue;
    }
    ++closed;
    if (code == 4001) InitiateClose(c, 4001, "Invalid Credentials Connection closed!", 1001, "client credentials revoked");
    else InitiateClose(c, 1001, "API undeployed", 1001, "API undeployed");
  }
  return closed;
}

void Shard::Loop::BeginDrain(int timeout_ms) {
  if (draining_) return;
  draining_ = true;
  drain_deadline_ms_ = NowMs() + timeout_ms;
  if (accept_armed_) ring_.PrepCancel(io::Tag{kOpAccept, 0, 0}, io::Tag{kOpCancelAccept, 0, 0});
  if (wss_listen_fd_ >= 0) ring_.PrepCancel(io::Tag{kOpAcceptTls, 0, 0}, io::Tag{kOpCancelAccept, 0, 0});
  for (auto& ptr : conns_) {
    Conn& c = *ptr;
    if (c.phase == Phase::kRelay) {
      InitiateClose(c, 1001, "server shutting down", 1001, "gateway shutting down");
    } else if (c.phase == Phase::kRequest || c.phase == Phase::kConnecting || c.phase == Phase::kUpstreamHandshake) {
      Fail(c, 503, "Service Unavailable: the gateway is shutting down");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shard (the thread-safe shell)

Shard::Shard(ShardOptions options) : options_(options) {}

Shard::~Shard() {
  if (thread_.joinable()) {
    Post([](Shard& s) { s.loop_->BeginDrain(0); });
    thread_.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wss_listen_fd_ >= 0) ::close(wss_listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

absl::Status Shard::Start(std::shared_ptr<const config::Snapshot> initial) {
  auto ws = BindListener(options_.listen_addr, options_.listen_addr_len, &port_);
  if (!ws.ok()) return ws.status();
  listen_fd_ = *ws;
  if (options_.wss_addr_len != 0) {
    auto wss = BindListener(options_.wss_addr, options_.wss_addr_len, &wss_port_);
    if (!wss.ok()) return absl::Status(wss.status().code(), absl::StrCat("wss: ", wss.status().message()));
    wss_listen_fd_ = *wss;
  }
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));

  loop_ = std::make_unique<Loop>(*this, options_);
  std::promise<absl::Status> ready;
  std::future<absl::Status> ready_future = ready.get_future();
  thread_ = std::thread([this, initial, &ready] {
    absl::Status s = loop_->Init(initial);
    bool ok = s.ok();
    ready.set_value(std::move(s));
    if (ok) loop_->Run();
  });
  absl::Status s = ready_future.get();
  if (!s.ok()) thread_.join();
  return s;
}

void Shard::Post(std::function<void(Shard&)> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

uint64_t Shard::ApplySnapshot(std::shared_ptr<const config::Snapshot> snapshot) {
  return loop_->ApplySnapshot(std::move(snapshot));
}
void Shard::BeginDrain(int timeout_ms) { loop_->BeginDrain(timeout_ms); }
ShardStats Shard::stats() const { return loop_->stats(); }

void Shard::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace wsgate::engine::server
