// File: engine/server/shard.cc
//
// The dispatcher of the shard loop (see loop.h for the layers and the lifetime rule):
// completion dispatch (accept is in accept.cc), per-connection timers, the mailbox, snapshot swaps and drain; and the
// Shard shell that owns the thread, the listeners and the ring.
#include "engine/server/shard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <future>

#include "absl/strings/str_cat.h"
#include "engine/common/check.h"
#include "engine/common/log.h"
#include "engine/http/messages.h"
#include "engine/io/uring.h"
#include "engine/server/listener.h"
#include "engine/server/loop.h"
#include "engine/ws/frame.h"

namespace wsgate::engine::server {
namespace {

constexpr int64_t kTickNs = 100 * 1000000;  // the longest wait for completions
constexpr int64_t kTimerResolutionMs = 100;
constexpr size_t kTimerSlots = 1024;        // one revolution: 102.4 s

}  // namespace

Loop::Loop(const ShardOptions& options, LoopFds fds, io::Ring& ring, const common::Clock& clock,
           std::function<void()> on_wake)
    : options_(options),
      fds_(fds),
      ring_(ring),
      clock_(clock),
      on_wake_(std::move(on_wake)),
      pool_(ring),
      fixed_(ring.fixed_files()),
      wheel_(kTimerResolutionMs, kTimerSlots, clock.NowMs()),
      access_log_(options.access_log) {
  listeners_.push_back({fds_.listen, false});
  listeners_.push_back({fds_.wss_listen, true});
  for (const auto& [fd, tls] : fds_.more_listeners) listeners_.push_back({fd, tls});
}

Loop::~Loop() {
  // Connections cut off at the end of a drain may still have ops in flight; the ring is going
  // away with them, so only the descriptors (and sends' scratch) need releasing; direct ones go
  // with the ring's table.
  table_.ForEach([&](Conn& c) {
    for (Side& s : c.sides) {
      if (s.fd >= 0 && !s.direct) ::close(s.fd);
      pool_.ReturnScratch(s.out.scratch);
      s.out.scratch = nullptr;
    }
    c.quota.Release(throttle_->connections());
    wheel_.Cancel(c.timer);
  });
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  for (const auto& d : deferred_accepts_) ::close(d.first);
}

absl::Status Loop::Init(std::shared_ptr<const config::Snapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  throttle_ = options_.throttle;
  WSGATE_CHECK(throttle_ != nullptr);
  now_ms_ = clock_.NowMs();
  now_s_ = clock_.NowUnixS();
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  AfterBatch();  // arms accept and the mailbox
  return absl::OkStatus();
}

void Loop::Run() {
  while (!stop_) RunOnce(kTickNs);
  // Whatever is left after the drain deadline is cut off.
  table_.ForEach([&](Conn& c) {
    if (c.phase != Phase::kFree && c.phase != Phase::kClosed) Shutdown(c);
  });
}

void Loop::RunOnce(int64_t timeout_ns) {
  ring_.Wait(timeout_ns);
  uint64_t busy_start = options_.measure_busy ? busy_.Now() : 0;
  now_ms_ = clock_.NowMs();
  // The wall clock (token expiry, throttle windows: second resolution) is read again once the
  // monotonic clock enters a new second, not on every batch.
  if (now_ms_ / 1000 != wall_read_second_) {
    wall_read_second_ = now_ms_ / 1000;
    now_s_ = clock_.NowUnixS();
  }
  ring_.Drain([this](const io::Completion& cqe) {
    ++stats_.completions;
    OnCompletion(cqe);
  });
  AfterBatch();
  if (options_.measure_busy) busy_.Add(busy_start);
}

void Loop::AfterBatch() {
  AdmitDeferred();  // the accept budget's waiting sockets (accept.cc)
  CheckOverload();  // admission.cc
  wheel_.Advance(now_ms_, [this](TimerNode& n) { OnTimer(table_.At(n.owner)); });
  ResumeStarved();
  // Another shard may have taken the descriptor the reserve gave up (one fd table per process).
  if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // Loop-level ops that ended (multishot accept after an error or an overflow) or could not be
  // queued are armed again here, outside any connection's handling.
  if (rearm_listeners_ && !draining_) {
    rearm_listeners_ = false;
    const bool backlog_full = deferred_accepts_.size() >= snapshot_->settings.accept_budget;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      Listener& l = listeners_[i];
      if (l.fd < 0 || l.armed) continue;
      if (now_ms_ >= l.resume_ms && !backlog_full) {  // paused for the accept budget: a backlog waits
        l.paused = false;
        l.armed = ring_.PrepMultishotAccept(l.fd, io::Tag{l.tls ? kOpAcceptTls : kOpAccept, 0, static_cast<uint32_t>(i)});
      }
      if (!l.armed) rearm_listeners_ = true;  // backing off, paused, or the queue was full: next batch
    }
  }
  if (fds_.wake >= 0 && !wake_armed_ && !stop_)
    wake_armed_ = ring_.PrepRead(fds_.wake, &wake_value_, sizeof(wake_value_), io::Tag{kOpWake, 0, 0});
  if (draining_ && (table_.live() == 0 || now_ms_ >= drain_deadline_ms_)) stop_ = true;
}

void Loop::OnCompletion(const io::Completion& cqe) {
  io::Tag tag = io::Tag::Decode(cqe.user_data);
  switch (tag.op) {
    case kOpAccept:
    case kOpAcceptTls:
      return OnAccept(cqe);
    case kOpCancelAccept:
      return;
    case kOpCloseDirect:
      return OnCloseDirect(cqe);
    case kOpWake:
      wake_armed_ = false;  // AfterBatch reads the eventfd again
      if (on_wake_) on_wake_();
      return;
    default:
      break;
  }
  Conn* c = table_.Lookup(tag);
  if (c == nullptr) {
    // A completion for a slot's previous occupant. It cannot carry a buffer we still owe (a
    // slot is freed only with no ops in flight), but give one back if it does.
    ++stats_.stale_completions;
    if (io::HasBuffer(cqe)) {
      ring_.NoteBufferTaken();
      ring_.Recycle(io::BufferId(cqe));
    }
    return;
  }
  WSGATE_DCHECK(c->phase != Phase::kFree);
  switch (tag.op) {
    case kOpRecvClient: OnRecv(*c, SideId::kClient, cqe); break;
    case kOpRecvBackend: OnRecv(*c, SideId::kBackend, cqe); break;
    case kOpSendClient: OnSend(*c, SideId::kClient, cqe.res); break;
    case kOpSendBackend: OnSend(*c, SideId::kBackend, cqe.res); break;
    case kOpConnect: OnConnect(*c, cqe.res); break;
    case kOpCancel:
    case kOpShutdownClient:
    case kOpShutdownBackend: --c->inflight; break;
    default: WSGATE_CHECK_MSG(false, "unknown op in completion");
  }
  Settle(*c);
}

// ---------------------------------------------------------------------------------------------
// Lifetime and timers

void Loop::Settle(Conn& c) {
  WSGATE_DCHECK(c.phase != Phase::kFree);
  if (c.phase == Phase::kRelay && !c.timer_dirty && c.timer.linked()) {
    // The hot path: a relaying connection that neither side has closed has nothing to finish,
    // and its timer is where it was (a later activity only makes it fire early and re-check).
    const Side& client = c.client();
    const Side& backend = c.backend();
    if (!(client.close_seen | client.eof | backend.close_seen | backend.eof)) return;
  }
  if (c.phase != Phase::kClosed) MaybeFinish(c);
  if (c.phase == Phase::kClosed) {
    wheel_.Cancel(c.timer);
    if (c.inflight == 0) Free(c);
    return;
  }
  if (!c.timer_dirty && c.timer.linked()) return;
  c.timer_dirty = false;
  int64_t due = NextDue(c);
  if (due == INT64_MAX) wheel_.Cancel(c.timer);
  else wheel_.Schedule(c.timer, due);
}

void Loop::Free(Conn& c) {
  WSGATE_CHECK_MSG(c.phase == Phase::kClosed && c.inflight == 0, "freeing a connection that is still in use");
  for (Side& s : c.sides) {
    WSGATE_DCHECK(!s.out.sending());  // OnSend gave the scratch back
    for (SegmentQueue<Segment>* q : {&s.out.queue, &s.out.wire}) {
      while (!q->empty()) {
        if (q->front().buf >= 0) pool_.Unref(q->front().buf);
        s.out.PopFront(*q);
      }
    }
    s.out.queued = 0;
    s.tls.reset();
    CloseSocket(s);  // a direct socket's index is given back when the ring's close completes
  }
  if (access_log_ != nullptr) LogAccess(c, /*open=*/false);
  c.snapshot.reset();
  if (c.hs != nullptr) pool_.GiveBack(std::move(c.hs->parser));
  c.hs.reset();
  c.quota.Release(throttle_->connections());  // its connection-quota slots, exactly once
  --stats_.open_sockets;
  ReleaseEngineSlot();
  c.phase = Phase::kFree;
  table_.Release(c);
}

// When this connection next needs the loop's attention without any I/O: its phase deadline,
// the keepalive ping or pong timeout, its credential's expiry.
int64_t Loop::NextDue(const Conn& c) const {
  int64_t due = c.deadline_ms != 0 ? c.deadline_ms : INT64_MAX;
  if (c.phase != Phase::kRelay || c.sides[0].close_sent || c.sides[1].close_sent) return due;
  const config::Settings& settings = snapshot_->settings;
  if (c.identity.expires_unix_s != 0 && !c.identity.anonymous) {
    int64_t left_s = c.identity.ExpiresWithSkew(snapshot_->token_validation.clock_skew_s) - now_s_;
    due = std::min(due, now_ms_ + std::max<int64_t>(left_s, 0) * 1000);
  }
  due = std::min(due, c.ping_outstanding ? c.ping_sent_ms + settings.pong_timeout_ms
                                         : c.last_client_activity_ms + PingIntervalMs());
  return std::min(due, LifetimeDue(c));
}

void Loop::OnTimer(Conn& c) {
  if (c.phase == Phase::kFree || c.phase == Phase::kClosed) return;
  const config::Settings& settings = snapshot_->settings;
  int64_t now = now_ms_;
  switch (c.phase) {
    case Phase::kRequest:
      if (now < c.deadline_ms) break;
      if (c.client().tls != nullptr && !c.client().tls->handshake_done()) {
        Shutdown(c);  // no TLS session to answer in: a stalled TLS handshake just ends
      } else {
        Respond(c, 408, "Request Timeout: the upgrade request did not complete in time");
      }
      break;
    case Phase::kConnecting:
      if (now < c.deadline_ms) break;
      if (now < c.hs->connect_deadline_ms && c.hs->address_index + 1 < c.hs->endpoint->addresses.size()) {
        // This address's share is spent: cancel it; OnConnect (-ECANCELED) tries the next one.
        SetDeadline(c, c.hs->connect_deadline_ms);
        Cancel(c, kOpConnect);
        break;
      }
      Respond(c, 504, "Gateway Timeout: the backend did not complete the WebSocket handshake in time");
      break;
    case Phase::kUpstreamHandshake:
      if (now < c.deadline_ms) break;
      ++stats_.backend_failures[c.phase == Phase::kConnecting ? "connect_timeout" : "handshake_timeout"];
      Respond(c, 504, "Gateway Timeout: the backend did not complete the WebSocket handshake in time");
      break;
    case Phase::kRelay:
      if (c.deadline_ms != 0 && now >= c.deadline_ms) {
        Shutdown(c);  // a close handshake that never finished
        break;
      }
      if (c.client().close_sent || c.backend().close_sent) break;
      if (c.identity.ExpiredAt(now_s_, snapshot_->token_validation.clock_skew_s)) {
        SendClose(c, SideId::kClient, 4001, "Invalid Credentials Connection closed!");
        SendClose(c, SideId::kBackend, 1001, "client credentials expired");
        break;
      }
      if (EnforceLifetime(c)) break;
      if (c.ping_outstanding && now - c.ping_sent_ms >= settings.pong_timeout_ms) {
        // A half-open client: free its resources and tell the backend.
        ++stats_.pong_timeouts;
        OnSideLost(c, SideId::kClient, "client timed out");
      } else if (!c.ping_outstanding && now - c.last_client_activity_ms >= PingIntervalMs()) {
        c.ping_outstanding = true;
        c.ping_sent_ms = now;
        Inject(c, SideId::kClient, EncodeControl(SideId::kClient, ws::kPing, "wsgate"));
      }
      break;
    case Phase::kFinishing:
      if (now >= c.deadline_ms) Shutdown(c);
      break;
    default:
      break;
  }
  Settle(c);
}

// ---------------------------------------------------------------------------------------------
// Mailbox, snapshots, drain

uint64_t Loop::ApplySnapshot(std::shared_ptr<const config::Snapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  uint64_t closed = 0;
  table_.ForEach([&](Conn& c) {
    if (c.phase != Phase::kRelay || c.client().close_sent) return;
    c.timer_dirty = true;  // the new settings may move its keepalive
    uint16_t code = auth::Authenticator::Recheck(*snapshot_, c.api_id, c.identity, now_s_);
    if (code == 0) {
      ResolveLimits(c, *snapshot_);  // a changed plan or policy applies to live connections too
      ResolveLifetime(c, *snapshot_);
      ws::ScannerLimits limits{snapshot_->MaxMessageBytes(c.api_id)};  // and a changed message limit
      limits.allow_rsv1 = c.deflate;  // what the upgrade negotiated stays
      for (Side& side : c.sides)
        if (side.scanner) side.scanner->set_limits(limits);
    } else {
      ++closed;
      if (code == 4001) {
        SendClose(c, SideId::kClient, 4001, "Invalid Credentials Connection closed!");
        SendClose(c, SideId::kBackend, 1001, "client credentials revoked");
      } else if (c.drain_close_ms == 0) {
        // Undeployed (or no longer served): closed like a drain, with settings.drain_close_code
        // at a random moment of the first half of the drain window, so its clients do not all
        // reconnect at once (admission.cc).
        c.undeployed = true;
        ScheduleDrainClose(c, static_cast<int>(snapshot_->settings.drain_timeout_ms));
      }
    }
    Settle(c);
  });
  return closed;
}

void Loop::BeginDrain(int timeout_ms) {
  if (draining_) return;
  draining_ = true;
  drain_deadline_ms_ = now_ms_ + timeout_ms;
  for (size_t i = 0; i < listeners_.size(); ++i) {
    // Stop listening: the kernel then sends new connections to the other listeners of the
    // SO_REUSEPORT group (a successor started with --reuse-port) instead of queueing them here
    // to be reset at exit. The descriptor stays open until the Shard closes it.
    const Listener& l = listeners_[i];
    if (l.fd >= 0) ::shutdown(l.fd, SHUT_RDWR);
    if (!l.armed) continue;
    if (!ring_.PrepCancel(io::Tag{l.tls ? kOpAcceptTls : kOpAccept, 0, static_cast<uint32_t>(i)},
                          io::Tag{kOpCancelAccept, 0, 0}))
      WSGATE_LOG(kWarning, "shard %d: could not cancel accepting (submission queue full)", options_.index);
  }
  for (auto [fd, tls] : deferred_accepts_) RefuseAtAccept(fd, tls, "the gateway is shutting down");
  deferred_accepts_.clear();
  table_.ForEach([&](Conn& c) {
    if (c.phase == Phase::kRelay) {
      ScheduleDrainClose(c, timeout_ms);  // 1012, at a random moment of the window (admission.cc)
    } else if (c.phase == Phase::kRequest || c.phase == Phase::kConnecting || c.phase == Phase::kUpstreamHandshake) {
      Respond(c, 503, "Service Unavailable: the gateway is shutting down");
    } else {
      return;
    }
    Settle(c);
  });
}

ShardStats Loop::stats() const {
  ShardStats s = stats_.Clone();
  s.buffers_in_use = ring_.buffers_out();
  s.buffer_bytes_in_use = uint64_t{ring_.buffers_out()} * ring_.buffer_size();
  s.cq_overflows = ring_.cq_overflows();
  s.cq_backlogged = ring_.cq_backlogged();
  AddGauges(s);
  s.loop_busy_ns = busy_.Nanoseconds();
  return s;
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
  for (int fd : more_fds_) ::close(fd);
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
  for (const ShardOptions::ListenAddress& l : options_.more_listen) {
    uint16_t port = 0;
    auto fd = BindListener(l.addr, l.len, &port);
    if (!fd.ok()) return absl::Status(fd.status().code(), absl::StrCat(l.tls ? "wss: " : "", fd.status().message()));
    more_fds_.push_back(*fd);
    more_ports_.push_back(port);
  }
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));

  std::promise<absl::Status> ready;
  std::future<absl::Status> ready_future = ready.get_future();
  thread_ = std::thread([this, initial, &ready] {
    // The ring is created on its thread (IORING_SETUP_SINGLE_ISSUER).
    auto ring = std::make_unique<io::Uring>();
    io::RingOptions ro;
    ro.entries = options_.ring_entries;
    ro.cq_entries = options_.cq_entries;
    ro.buffer_count = options_.buffer_count;
    ro.buffer_size = options_.buffer_size;
    ro.fixed_files = options_.fixed_files;
    absl::Status s = ring->Init(ro);
    if (s.ok()) {
      WSGATE_LOG(kDebug, "shard %d: io_uring %s", options_.index, ring->Describe());
      if (!ring->fixed_files_error().empty())
        WSGATE_LOG(kWarning, "shard %d: direct descriptors are off (%s): sockets use regular descriptors, which the "
                   "descriptor limit bounds for the whole process", options_.index, ring->fixed_files_error());
      ring_ = std::move(ring);
      LoopFds fds{listen_fd_, wss_listen_fd_, wake_fd_};
      for (size_t i = 0; i < more_fds_.size(); ++i) fds.more_listeners.emplace_back(more_fds_[i], options_.more_listen[i].tls);
      loop_ = std::make_unique<Loop>(options_, std::move(fds), *ring_,
                                     common::SystemClock::Get(), [this] { DrainInbox(); });
      s = loop_->Init(initial);
    }
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

void Shard::DrainInbox() {
  std::vector<std::function<void(Shard&)>> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks.swap(inbox_);
  }
  for (auto& task : tasks) task(*this);
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
