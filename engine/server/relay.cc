// File: engine/server/relay.cc
//
// The relay layer: each side's bytes go through its FrameScanner, which forwards data frames
// zero-copy toward the other side (RelaySink → Forward), asks OnDataFrame whether a message may
// pass (throttling) and hands control frames to OnControl (pings answered here, closes
// mediated). Engine frames toward a side wait for a frame boundary of the stream relayed there
// (EmitDue).
#include "absl/strings/str_cat.h"
#include "engine/common/log.h"
#include "engine/config/throttle_plan.h"
#include "engine/server/loop.h"
#include "engine/tls/crypto.h"
#include "engine/ws/frame.h"

namespace wsgate::engine::server {
namespace {
// A client that pings more often than this in one second is flooding: it is closed with 1008.
// (A pong costs the engine a queued frame; RFC 6455 asks for no particular rate.)
constexpr uint32_t kMaxClientPingsPerSecond = 100;

// The notice for a client message dropped on a subscribe-only topic: WSO2's non-closing error
// frame form ("Error code: <code> reason: <message>") with its code for "resource forbidden".
constexpr std::string_view kNotPublishableText =
    "Error code: 4002 reason: User NOT authorized to publish to this topic";

// Whether EmitDue(c, dst) has anything to do: a pong, a throttle notice or a pending engine
// frame toward dst. Nothing, for all but a few relayed frames: tested inline, without the call.
bool Owed(const Conn& c, SideId dst) {
  const Side& to = c.sides[static_cast<int>(dst)];
  return to.pong_due || !to.out.pending.empty() || (dst == SideId::kClient && c.notices);
}
}  // namespace

void Loop::ScanInto(Conn& c, SideId from, int32_t buf, const uint8_t* data, size_t n) {
  Side& src = c.side(from);
  SideId dst = Other(from);
  if (src.close_seen) return;  // after a close frame (or a protocol error) nothing more is relayed from it
  RelaySink sink(*this, c, dst, buf, data);
  ws::ScanResult r = src.scanner->Scan(data, n, sink);
  if (!r.ok) {
    WSGATE_LOG(kDebug, "shard %d: conn %d: the %s broke the protocol: %d %s", options_.index, static_cast<int>(c.slot),
               Name(from), static_cast<int>(r.close_code), r.reason);
    if (from == SideId::kBackend) {
      WSGATE_LOG(kInfo, "shard %d: backend protocol error: %s", options_.index, r.reason);
      SendClose(c, SideId::kClient, 1014, "bad frame from the backend");
      SendClose(c, SideId::kBackend, r.close_code, r.reason);
    } else {
      SendClose(c, SideId::kClient, r.close_code, r.reason);
      SendClose(c, SideId::kBackend, 1001, "client protocol error");
    }
    src.close_seen = true;  // stop relaying from the offender
    return;
  }
  if (Owed(c, dst)) EmitDue(c, dst);
  StartSend(c, dst);
  // What the engine owes the side that just spoke: a pong, a throttle notice.
  if (src.pong_due || (from == SideId::kClient && c.notices)) {
    EmitDue(c, from);
    StartSend(c, from);
  }
  CheckBackpressure(c, dst);
}

void Loop::Forward(Conn& c, SideId dst, int32_t buf, const uint8_t* base, size_t offset, size_t length) {
  if (buf >= 0) {
    // Back-to-back frames of one read are contiguous in its buffer: one segment covers them all
    // (a send in flight that covers the shorter segment leaves exactly the extension queued).
    Outbound& out = c.side(dst).out;
    if (!out.queue.empty()) {
      Segment& back = out.queue.back();
      if (back.buf == buf && back.offset + back.length == offset) {
        back.length += static_cast<uint32_t>(length);
        out.queued += length;
        return;
      }
    }
  }
  Segment s;
  if (buf >= 0) {
    s.buf = buf;
    s.offset = static_cast<uint32_t>(offset);
    s.length = static_cast<uint32_t>(length);
    pool_.Ref(buf);
  } else {
    s.owned.assign(reinterpret_cast<const char*>(base + offset), length);
  }
  Enqueue(c, dst, std::move(s));
}

void Loop::ForwardCopy(Conn& c, SideId dst, const uint8_t* bytes, size_t length) {
  EnqueueOwned(c, dst, std::string(reinterpret_cast<const char*>(bytes), length));
}

// Throttling: WSO2 counts every data frame in both directions against the subscription's plan,
// the application's policy and the API's policy. A message is admitted or dropped at its first
// frame (its continuation frames follow it); a dropped one is answered with WSO2's 4003 text.
void Loop::ResolveLimits(Conn& c, const config::Snapshot& snap) {
  c.limits.Clear();
  for (const config::ThrottleScope& scope :
       config::ThrottleScopes(snap, c.identity.application_id, c.api_id, !c.identity.subscription_id.empty()))
    c.limits.Add(*scope.policy, CounterFor(scope.counter_key), GateFor(scope.counter_key, *scope.policy));
}

// Cluster-wide quotas (issue 19): the engine's gate for a key and window length, remembered per
// shard like the counters; null when this engine counts on its own.
throttle::ClusterGate* Loop::GateFor(const std::string& key, const throttle::Policy& policy) {
  throttle::ClusterQuota* cluster = throttle_->cluster();
  if (cluster == nullptr || policy.unlimited || !policy.stop_on_quota_reach) return nullptr;
  const uint32_t window_s = static_cast<uint32_t>(policy.window_s);
  auto [it, inserted] = gates_.try_emplace(std::make_pair(key, window_s), nullptr);
  if (inserted) it->second = cluster->Gate(key, window_s, CounterFor(key));
  return it->second;
}

// The engine-wide counter for a key, remembered per shard: a push re-resolves every live
// connection, and the Registry's mutex is then taken once per key, not once per connection.
throttle::Counter* Loop::CounterFor(const std::string& key) {
  auto [it, inserted] = counters_.try_emplace(key, nullptr);
  if (inserted) it->second = throttle_->Get(key);
  return it->second;
}

bool Loop::OnDataFrame(Conn& c, SideId dst, uint8_t opcode, uint64_t length) {
  // Nothing follows a close frame (RFC 6455 §5.5.1), ours included (expiry, revocation, drain),
  // and nothing reaches a side whose TLS failed.
  const Side& to = c.side(dst);
  if (to.close_sent || to.tls_failed) return false;
  bool to_client = dst == SideId::kClient;
  c.last_data_ms = now_ms_;  // the idle timeout's clock (admission.cc)
  // Counted per API and per connection; the shard's totals are the APIs' sums (ShardStats::Clone).
  DirectionCounters& api = to_client ? c.counters->backend_to_client : c.counters->client_to_backend;
  DirectionCounters& mine = to_client ? c.info.to_client : c.info.to_backend;
  // Direction rights: a subscribe-only topic takes no client messages (the client is told, once
  // per run of drops, and stays connected); a publish-only topic passes no backend messages.
  // Decided per frame (continuations follow their first frame's fate) and before throttling, so
  // a denied frame is not an event.
  if (to_client ? !c.may_subscribe : !c.may_publish) {
    ++api.denied_frames;
    ++mine.denied_frames;
    if (!to_client) c.notices |= Conn::kNotPublishable;
    return false;
  }
  if (!c.limits.empty()) {
    if (opcode == ws::kContinuation) {
      c.limits.Count(now_s_);
    } else if (!c.limits.Admit(now_s_)) {
      if (c.deflate && !c.deflate_drops_ok) {
        // Compressed with context takeover (the policy came with a later push): a dropped message
        // would break the receiver's inflater, so the connection ends instead.
        SendClose(c, SideId::kClient, 1008, "throttled: a compressed message cannot be dropped");
        SendClose(c, SideId::kBackend, 1001, "client throttled");
        return false;
      }
      ++api.throttled_frames;
      ++*c.info.app_throttled;
      ++mine.throttled_frames;
      c.notices |= Conn::kThrottled;  // sent at the next boundary toward the client (EmitDue)
      return false;
    }
  }
  ++api.frames;
  api.bytes += length;
  ++mine.frames;
  mine.bytes += length;
  return true;
}

void Loop::OnControl(Conn& c, SideId from, uint8_t opcode, std::string_view payload) {
  Side& src = c.side(from);
  if (opcode == ws::kPing) {
    if (from == SideId::kClient) {
      if (now_s_ != c.ping_window_s) {
        c.ping_window_s = now_s_;
        c.pings_in_window = 0;
      }
      if (++c.pings_in_window > kMaxClientPingsPerSecond) {
        if (!src.close_seen) {
          ++stats_.ping_flood_closes;
          SendClose(c, SideId::kClient, 1008, "too many pings");
          SendClose(c, SideId::kBackend, 1001, "client sent too many pings");
          src.close_seen = true;  // nothing more is read from it,
          src.scanner->Stop();    // not even the rest of this read
        }
        return;
      }
    }
    // Answered by the engine, at most one pong pending: a newer ping replaces an unanswered one.
    if (src.pong_due) ++stats_.pongs_coalesced;
    src.pong_due = true;
    src.pong_payload.assign(payload.data(), payload.size());
    return;
  }
  if (opcode == ws::kPong) {
    if (from == SideId::kClient) c.ping_outstanding = false;
    return;
  }
  // Close: validate, then pass it on to the other side (unless we already sent our own).
  ws::ClosePayloadInfo info = ws::ParseClosePayload(payload);
  WSGATE_LOG(kDebug, "shard %d: conn %d: close %d '%s' from the %s", options_.index, static_cast<int>(c.slot),
             static_cast<int>(info.code), std::string(info.reason), Name(from));
  if (!info.valid) {
    if (from == SideId::kClient) {
      SendClose(c, SideId::kClient, info.error_code, "invalid close frame");
      SendClose(c, SideId::kBackend, 1001, "client protocol error");
    } else {
      SendClose(c, SideId::kClient, 1014, "invalid close frame from the backend");
      SendClose(c, SideId::kBackend, info.error_code, "invalid close frame");
    }
  }
  src.close_seen = true;
  NoteClose(c, from, info.code);
  SideId to = Other(from);
  if (!c.side(to).close_sent) {
    c.side(to).close_sent = true;
    if (to == SideId::kClient) {
      ++stats_.closes[info.code];
      c.info.close_code_to_client = info.code;
    }
    Inject(c, to, EncodeControl(to, ws::kClose, payload));
  }
  if (c.deadline_ms == 0) SetDeadline(c, now_ms_ + snapshot_->settings.close_timeout_ms);
}

void Loop::EmitDue(Conn& c, SideId dst) {
  Side& to = c.side(dst);
  if (!Owed(c, dst)) return;  // none of the steps below would act
  const auto& feeder = c.side(Other(dst)).scanner;  // the stream relayed toward dst
  if (feeder && !feeder->AtFrameBoundary()) return;
  bool open = !to.close_sent && !to.eof && !to.tls_failed;
  // A side that does not read gets no more engine frames than fit under the queue bound: its
  // pong and notice wait (coalesced) until OnSend drains the queue.
  bool room = Weight(to.out) <= snapshot_->settings.queue_bytes;
  if (to.pong_due && (room || !open)) {
    to.pong_due = false;
    if (open) EnqueueOwned(c, dst, EncodeControl(dst, ws::kPong, to.pong_payload));
  }
  if (dst == SideId::kClient && c.notices && (room || !open) && !(feeder && feeder->InMessage())) {
    const uint8_t notices = c.notices;
    c.notices = 0;  // several drops in a row give one notice
    if (open && c.phase == Phase::kRelay) {
      if (notices & Conn::kThrottled) EnqueueOwned(c, dst, ws::EncodeFrame(ws::kText, throttle::kThrottledText));
      if (notices & Conn::kNotPublishable) EnqueueOwned(c, dst, ws::EncodeFrame(ws::kText, kNotPublishableText));
    }
  }
  for (std::string& f : to.out.pending) EnqueueOwned(c, dst, std::move(f));
  to.out.pending.clear();
}

// Frames toward a backend are masked (RFC 6455 §5.3), frames toward a client are not: decided
// here, by the destination, for every frame the engine makes.
std::string Loop::EncodeControl(SideId dst, uint8_t opcode, std::string_view payload) {
  if (dst == SideId::kClient) return ws::EncodeFrame(opcode, payload);
  uint8_t mask[4];
  tls::RandomBytes(mask, 4);
  return ws::EncodeFrame(opcode, payload, mask);
}

}  // namespace wsgate::engine::server
