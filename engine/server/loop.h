// File: engine/server/loop.h — private to engine/server/ (and its tests).
//
// The shard loop: one thread's io_uring state machine. Its code is split by layer:
//   shard.cc      the dispatcher: completion dispatch, timers, lifetime (Settle/Free), mailbox,
//                 snapshot swap, drain, and the Shard shell around this class
//   accept.cc     accepting clients, refusals (503), the descriptor-limit backoff
//   transport.cc  arming ops, recv completions, TLS record glue (ciphertext ↔ plaintext)
//   handshake.cc  request → route → authenticate → upstream request → connect → backend 101 → 101
//   relay.cc      frame scanning, data frames and throttling, control frames, engine frames
//   output.cc     queueing, encrypting and sending; backpressure. Never closes a connection.
//   admission.cc  connection quotas (429), idle timeout, maximum lifetime, the spread drain
//   direct.cc     direct descriptors: sockets in the ring's fixed-file table, their shutdown and close
//   close.cc      close frames, a side lost, finishing and shutting down, HTTP error answers
//
// Lifetime rule (Envoy's deferred delete): a connection is freed only by Settle(), which runs
// at the end of one completion's handling (and of one timer, one push or drain step for one
// connection), never in the middle of a call stack. Every handler below may move a connection to
// kClosed; none frees it, so a caller further up the stack always finds its Conn intact and in a
// state its guards understand. Free() checks the slot is not already free.
//
// Ops: Arm() prepares and counts every op of a connection (`inflight`); a connection is freed
// only with none in flight, and its slot's generation changes, so a late completion for an
// old occupant is recognised (ConnTable::Lookup) and dropped. A full submission queue is
// submitted and retried by the ring; an op it still cannot take is counted and fails the
// connection, never lost silently.
//
// Time is read once per completion batch from the injected clock (now_ms_; now_s_, the wall
// clock in seconds, once per monotonic second).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/auth/authenticator.h"
#include "engine/auth/backend_jwt.h"
#include "engine/common/clock.h"
#include "engine/common/log.h"
#include "engine/config/snapshot.h"
#include "engine/io/ring.h"
#include "engine/server/buffer_pool.h"
#include "engine/server/busy_time.h"
#include "engine/server/conn.h"
#include "engine/server/conn_table.h"
#include "engine/server/fixed_slots.h"
#include "engine/server/registry.h"
#include "engine/server/shard.h"
#include "engine/server/stats.h"
#include "engine/server/timer_wheel.h"
#include "engine/throttle/overload.h"
#include "engine/throttle/throttle.h"

namespace wsgate::engine::server {

// Completion kinds, the op byte of an io::Tag.
enum Op : uint8_t {
  kOpAccept = 1,
  kOpWake,
  kOpRecvClient,
  kOpRecvBackend,
  kOpSendClient,
  kOpSendBackend,
  kOpConnect,
  kOpCancel,
  kOpCancelAccept,
  kOpAcceptTls,
  kOpShutdownClient,  // issue 20: shutdown(2) of a direct socket, in the ring
  kOpShutdownBackend,
  kOpCloseDirect,     // a fixed-file entry emptied; the tag's slot is the fixed-file index
};
constexpr Op RecvOp(SideId s) { return s == SideId::kClient ? kOpRecvClient : kOpRecvBackend; }
constexpr Op SendOp(SideId s) { return s == SideId::kClient ? kOpSendClient : kOpSendBackend; }
constexpr Op ShutdownOp(SideId s) { return s == SideId::kClient ? kOpShutdownClient : kOpShutdownBackend; }

// The descriptors a loop serves, owned by its Shard (or a test).
struct LoopFds {
  int listen = -1;      // ws
  int wss_listen = -1;  // -1: none
  int wake = -1;        // eventfd; -1: no mailbox
  // Further listening sockets (a repeated --ws-listen/--wss-listen): the fd and whether it is wss.
  std::vector<std::pair<int, bool>> more_listeners = {};  // "= {}": LoopFds{ws, wss, wake} stays valid
};

class Loop {
 public:
  // `on_wake` runs on the loop thread when the wake eventfd fires (the Shard drains its mailbox).
  Loop(const ShardOptions& options, LoopFds fds, io::Ring& ring, const common::Clock& clock,
       std::function<void()> on_wake = {});
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  absl::Status Init(std::shared_ptr<const config::Snapshot> snapshot);
  void Run();
  // One iteration: submit, wait up to `timeout_ns` for completions, handle them, fire timers.
  void RunOnce(int64_t timeout_ns);
  bool stopped() const { return stop_; }
  uint64_t ApplySnapshot(std::shared_ptr<const config::Snapshot> snapshot);
  void BeginDrain(int timeout_ms);
  ShardStats stats() const;
  size_t live_connections() const { return table_.live(); }

  // --- registry.cc: the connection registry's requests, on the shard thread
  // Relaying connections matching `filter` from slot `from_slot` on, in slot order, at most `limit`.
  std::vector<ConnRecord> ListConnections(const ConnFilter& filter, uint32_t from_slot, size_t limit);
  absl::StatusOr<ConnRecord> GetConnection(const ConnRef& ref);
  // One engine data frame to the client. RESOURCE_EXHAUSTED when its outbound queue is over the
  // bound; NOT_FOUND / FAILED_PRECONDITION for a connection gone or closing. Returns the bytes
  // then queued toward the client.
  absl::StatusOr<uint64_t> SendToConnection(const ConnRef& ref, uint8_t opcode, std::string_view payload);
  // Close `code`/`reason` to the client (checked by the caller), 1001 to the backend.
  absl::Status CloseConnection(const ConnRef& ref, uint16_t code, std::string_view reason);

  // RelaySink callbacks (relay.cc).
  void Forward(Conn& c, SideId dst, int32_t buf, const uint8_t* base, size_t offset, size_t length);
  void ForwardCopy(Conn& c, SideId dst, const uint8_t* bytes, size_t length);
  bool OnDataFrame(Conn& c, SideId dst, uint8_t opcode, uint64_t length);
  void OnControl(Conn& c, SideId from, uint8_t opcode, std::string_view payload);

 private:
  // --- shard.cc: dispatch, timers, lifetime
  void OnCompletion(const io::Completion& cqe);
  void AfterBatch();
  void OnTimer(Conn& c);
  int64_t NextDue(const Conn& c) const;
  // The end of one unit of work on `c`: finish it if it is done, free it if nothing is in
  // flight, else keep its timer right. The only place a connection is freed.
  void Settle(Conn& c);
  // Every change of a connection's deadline goes through here, so Settle knows to reschedule.
  void SetDeadline(Conn& c, int64_t deadline_ms) {
    c.deadline_ms = deadline_ms;
    c.timer_dirty = true;
  }
  void Free(Conn& c);
  void DrainInbox();

  Conn* FindRelaying(const ConnRef& ref, absl::Status* error);
  ConnRecord RecordOf(const Conn& c) const;

  // --- accept.cc
  void OnAccept(const io::Completion& cqe);
  void AdmitSocket(int fd, bool tls);  // a slot and the request phase, or a refusal
  void AdmitDeferred();
  void RefuseAtAccept(int fd, bool tls, std::string_view why);
  void AnswerWithReserveFd(int listen_fd, bool tls);
  // The engine-wide connection count (settings.max_connections, all shards): taken at accept,
  // given back in Free. False (nothing taken) when the cap is reached.
  bool TakeEngineSlot();
  void ReleaseEngineSlot();

  // --- direct.cc (issue 20): direct descriptors
  // Gives `side` the socket `fd`: installed in the ring's fixed-file table (and `fd` closed) when
  // the table has a free entry, else kept as a regular descriptor.
  void Adopt(Side& side, int fd);
  // shutdown(SHUT_RDWR) of `s`'s socket: a direct one through the ring (an op in flight).
  void ShutdownSocket(Conn& c, SideId s);
  // Lets go of `side`'s socket (no op of it may be in flight): close(2), or for a direct one the
  // ring's close of its entry, whose completion frees the index (OnCloseDirect).
  void CloseSocket(Side& side);
  void OnCloseDirect(const io::Completion& cqe);

  // --- transport.cc
  // Prepares `op` for `c` from its own state (fd, scratch, address) and counts it in flight.
  // False (counted in stats) when the ring could not take it; the caller fails the side.
  [[nodiscard]] bool Arm(Conn& c, Op op);
  void Cancel(Conn& c, Op target);
  void ArmRecv(Conn& c, SideId s);
  void OnRecv(Conn& c, SideId from, const io::Completion& cqe);
  void OnCiphertext(Conn& c, SideId from, const uint8_t* data, size_t n);
  void OnPlaintext(Conn& c, SideId from, int32_t buf, const uint8_t* data, size_t n);
  void ResumeStarved();

  // --- handshake.cc
  void OnClientBytes(Conn& c, const uint8_t* data, size_t n);
  void HandleRequest(Conn& c, size_t consumed);
  void StartConnect(Conn& c);
  void OnConnect(Conn& c, int res);
  void OnBackendBytes(Conn& c, const uint8_t* data, size_t n);
  void StartRelay(Conn& c, size_t response_head_bytes, std::string_view protocol, std::string_view extensions);

  // --- relay.cc
  void ScanInto(Conn& c, SideId from, int32_t buf, const uint8_t* data, size_t n);
  void ResolveLimits(Conn& c, const config::Snapshot& snapshot);
  throttle::Counter* CounterFor(const std::string& key);
  throttle::ClusterGate* GateFor(const std::string& key, const throttle::Policy& policy);
  // Engine frames that wait for a boundary of the stream toward `dst`: queued pending frames,
  // the pong, the throttle notice.
  void EmitDue(Conn& c, SideId dst);
  std::string EncodeControl(SideId dst, uint8_t opcode, std::string_view payload);

  // --- admission.cc (issue 15)
  // Takes the connection's quota slots; false (answered 429) when one is full.
  bool AdmitConnection(Conn& c, const config::Snapshot& snapshot);
  void ResolveLifetime(Conn& c, const config::Snapshot& snapshot);
  // The earliest of its idle timeout, maximum lifetime and drain close (INT64_MAX: none).
  int64_t LifetimeDue(const Conn& c) const;
  // Closes it (1001, or the drain's code) when one of those is due; true if it did.
  bool EnforceLifetime(Conn& c);
  void ScheduleDrainClose(Conn& c, int timeout_ms);
  // The handshake rate limits: the client address's bucket (api == nullptr), else the API's.
  // False: answered 429 with Retry-After.
  bool AdmitHandshakeRate(Conn& c, const config::Api* api);
  // Overload protection (once per 100 ms from AfterBatch), its 503 for new upgrades (true:
  // refused) and its shedding of the newest connections (1013).
  void CheckOverload();
  bool RefuseIfOverloaded(Conn& c);
  void ShedNewest(size_t n);
  // The keepalive interval: doubled while overloaded (fewer pings to idle clients).
  int64_t PingIntervalMs() const {
    int64_t base = snapshot_->settings.ping_interval_ms;
    return overload_.level == throttle::OverloadLevel::kNone ? base : base * 2;
  }

  // --- output.cc
  enum class SendResult : uint8_t { kStarted, kBusy, kNothing, kWaiting, kSideGone };
  void Enqueue(Conn& c, SideId dst, Segment s);
  void EnqueueOwned(Conn& c, SideId dst, std::string bytes);
  // Queues an engine frame toward `dst` now, or after the frame being relayed there.
  void Inject(Conn& c, SideId dst, std::string frame);
  SendResult StartSend(Conn& c, SideId dst);
  void OnSend(Conn& c, SideId to, int res);
  bool Encrypt(Conn& c, SideId dst);
  // Pauses reading the side that feeds `dst` while dst's outbound is over the bound.
  void CheckBackpressure(Conn& c, SideId dst);
  void ResumeIfPaused(Conn& c, SideId s);
  // What an outbound queue costs: its bytes, or the receive buffers it pins, whichever is more.
  size_t Weight(const Outbound& out) const { return std::max(out.queued, size_t{out.pinned} * pool_.buffer_size()); }
  void ReleaseQueue(Conn& c, SideId dst);

  // --- conn_info.cc (operations, issue 13)
  // A close from `from` (code 1006: its socket went away without one): its code, and whether it
  // closed first.
  void NoteClose(Conn& c, SideId from, uint16_t code);
  // Hands an access-log record for `c` to the writer (counted when the queue drops it).
  void LogAccess(const Conn& c, bool open);
  // Adds what the loop knows only at collection time (queued bytes).
  void AddGauges(ShardStats& s) const;

  // --- close.cc
  // Queues a close frame toward `dst` (once per side; not to a side that is gone).
  void SendClose(Conn& c, SideId dst, uint16_t code, std::string_view reason);
  // `s`'s socket is gone (EOF, reset, send error, close_notify, pong timeout).
  void OnSideLost(Conn& c, SideId s, std::string_view reason = {});
  // `s`'s TLS session failed: its alert is sent, nothing more is read from or relayed to it.
  void OnTlsFailed(Conn& c, SideId s);
  void MaybeFinish(Conn& c);
  void Shutdown(Conn& c);
  void AbortBackend(Conn& c);
  // An HTTP answer to the client, then close (handshake phases only).
  void Respond(Conn& c, int status, std::string_view body, std::string_view extra_headers = {});

  ShardOptions options_;
  LoopFds fds_;
  io::Ring& ring_;
  const common::Clock& clock_;
  std::function<void()> on_wake_;
  BufferPool pool_;
  ConnTable table_;
  FixedSlots fixed_;  // the ring's fixed-file indexes (direct.cc); capacity 0: regular descriptors only
  TimerWheel wheel_;
  throttle::Registry* throttle_ = nullptr;  // the Server's, shared by every shard
  absl::flat_hash_map<std::string, throttle::Counter*> counters_;  // CounterFor's memory
  absl::flat_hash_map<std::pair<std::string, uint32_t>, throttle::ClusterGate*> gates_;  // GateFor's (issue 19)
  std::vector<io::Tag> starved_;  // recvs that stopped for lack of buffers (tags: a slot may be reused)
  std::shared_ptr<const config::Snapshot> snapshot_;
  auth::Authenticator authenticator_;
  auth::BackendJwtCache backend_jwts_;  // issue 14 item 7: signed backend JWTs (handshake.cc)
  ShardStats stats_;
  uint64_t wake_value_ = 0;
  bool wake_armed_ = false;
  // The listening sockets: [0] ws, [1] wss (fd -1 when absent), then LoopFds::more_listeners.
  // An accept's tag carries the index in its slot.
  struct Listener {
    int fd = -1;
    bool tls = false;
    bool armed = false;
    int64_t resume_ms = 0;  // backing off after EMFILE/ENFILE until then
    bool paused = false;    // cancelled for the accept budget's full backlog (issue 15)
  };
  std::vector<Listener> listeners_;
  // Some listener may need arming (at start, after a multishot accept ended, while backing
  // off): AfterBatch looks at the listeners only then, not on every batch.
  bool rearm_listeners_ = true;
  int reserve_fd_ = -1;                    // given up at EMFILE to answer one client 503
  // The accept budget (issue 15): sockets taken this iteration, those left for the next, and
  // whether accepting was paused (cancelled) for a full backlog of them.
  size_t accepts_this_batch_ = 0;
  std::vector<std::pair<int, bool>> deferred_accepts_;  // fd, tls
  throttle::OverloadDecision overload_;  // the latest evaluation (admission.cc)
  int64_t next_overload_check_ms_ = 0;
  common::LogLimiter accept_log_, refuse_log_, ring_log_, direct_log_;
  bool draining_ = false;
  bool stop_ = false;
  int64_t drain_deadline_ms_ = 0;
  int64_t now_ms_ = 0;
  int64_t now_s_ = 0;
  int64_t wall_read_second_ = -1;  // the monotonic second now_s_ was read in
  AccessLog* access_log_ = nullptr;  // options_.access_log
  BusyTime busy_;                    // when options_.measure_busy
  uint64_t conn_seq_ = 0;            // ConnInfo::id's sequence part
};

// The FrameScanner's sink for one Scan() call: the input's buffer and the side it goes to.
class RelaySink {
 public:
  RelaySink(Loop& loop, Conn& c, SideId dst, int32_t buf, const uint8_t* base)
      : loop_(loop), c_(c), dst_(dst), buf_(buf), base_(base) {}
  void ForwardInput(size_t offset, size_t length) { loop_.Forward(c_, dst_, buf_, base_, offset, length); }
  void ForwardCopy(const uint8_t* bytes, size_t length) { loop_.ForwardCopy(c_, dst_, bytes, length); }
  bool DataFrame(uint8_t opcode, bool, uint64_t length) { return loop_.OnDataFrame(c_, dst_, opcode, length); }
  void Control(uint8_t opcode, std::string_view payload) { loop_.OnControl(c_, Other(dst_), opcode, payload); }

 private:
  Loop& loop_;
  Conn& c_;
  SideId dst_;
  int32_t buf_;
  const uint8_t* base_;
};

}  // namespace wsgate::engine::server
