// File: engine/server/output.cc
//
// The output layer: what is queued toward a side, encrypted for a TLS side, and sent with one
// sendmsg in flight per side (so bytes leave in order), plus backpressure. It never shuts a
// connection down; a side it cannot write to is reported to the close layer (OnSideLost,
// OnTlsFailed), which decides.
#include <cerrno>
#include <cstring>

#include "engine/common/check.h"
#include "engine/server/loop.h"

namespace wsgate::engine::server {
namespace {
// True when a string keeps its bytes inside its own object (the small-string buffer), whatever
// the standard library's threshold.
bool InsideObject(const std::string& s) {
  auto* object = reinterpret_cast<const char*>(&s);
  return s.data() >= object && s.data() < object + sizeof(std::string);
}
}  // namespace

void Loop::Enqueue(Conn& c, SideId dst, Segment s) {
  Outbound& out = c.side(dst).out;
  out.queued += s.size();
  out.Push(out.queue, std::move(s));
}

void Loop::EnqueueOwned(Conn& c, SideId dst, std::string bytes) {
  Segment s;
  s.owned = std::move(bytes);
  Enqueue(c, dst, std::move(s));
}

void Loop::Inject(Conn& c, SideId dst, std::string frame) {
  const auto& feeder = c.side(Other(dst)).scanner;
  Outbound& out = c.side(dst).out;
  if ((feeder && !feeder->AtFrameBoundary()) || !out.pending.empty()) {
    out.pending.push_back(std::move(frame));  // after the frame being relayed, and in order (EmitDue)
    return;
  }
  EnqueueOwned(c, dst, std::move(frame));
  StartSend(c, dst);
}

bool Loop::Encrypt(Conn& c, SideId dst) {
  Side& to = c.side(dst);
  tls::TlsSession& session = *to.tls;
  Outbound& out = to.out;
  // Gather queued segments into full-size records: one SSL_write (one record, one AEAD call)
  // per 16 KiB instead of one per message.
  static thread_local uint8_t batch[16384];
  while (!out.queue.empty() && !to.tls_failed) {
    size_t filled = 0, taken = 0;
    bool in_place = false;
    for (size_t i = 0; i < out.queue.size(); ++i) {
      Segment& seg = out.queue[i];
      size_t len = seg.size();
      const uint8_t* data = seg.buf >= 0 ? pool_.Data(seg.buf) + seg.offset : reinterpret_cast<const uint8_t*>(seg.owned.data());
      if (filled > 0 && filled + len > sizeof(batch)) break;
      if (len > sizeof(batch)) {  // a big segment on its own, written in place
        if (!session.Write(data, len)) {
          if (session.failed()) OnTlsFailed(c, dst);
          return !session.failed();  // else: handshake not finished yet
        }
        in_place = true;
        taken = 1;
        break;
      }
      std::memcpy(batch + filled, data, len);
      filled += len;
      ++taken;
    }
    if (taken == 0) break;
    if (!in_place && !session.Write(batch, filled)) {
      if (session.failed()) {
        OnTlsFailed(c, dst);
        return false;
      }
      break;  // handshake not finished yet
    }
    for (size_t i = 0; i < taken; ++i) {
      Segment& seg = out.queue.front();
      out.queued -= seg.size();
      if (seg.buf >= 0) pool_.Unref(seg.buf);
      out.PopFront(out.queue);
    }
  }
  // Collect the ciphertext (records, handshake messages, alerts) into pool buffers.
  while (true) {
    int32_t id = pool_.TakePool();
    size_t got = session.ReadOutput(pool_.Data(id), pool_.buffer_size());
    if (got == 0) {
      pool_.PutBack(id);
      break;
    }
    Segment w;
    w.buf = id;
    w.length = static_cast<uint32_t>(got);
    pool_.Ref(id);
    out.queued += got;
    out.Push(out.wire, std::move(w));
  }
  return !to.tls_failed;
}

Loop::SendResult Loop::StartSend(Conn& c, SideId dst) {
  Side& to = c.side(dst);
  Outbound& out = to.out;
  if (out.sending()) return SendResult::kBusy;
  if (c.phase == Phase::kClosed) return SendResult::kNothing;
  if (dst == SideId::kBackend && c.phase == Phase::kConnecting) return SendResult::kWaiting;  // not connected yet
  if (to.eof) {
    ReleaseQueue(c, dst);
    return SendResult::kSideGone;
  }
  if (to.tls != nullptr) Encrypt(c, dst);  // a failed session still sends its alert from `wire`
  if (to.eof || c.phase == Phase::kClosed) return SendResult::kSideGone;
  if (out.sending()) return SendResult::kBusy;  // a failure inside Encrypt already sent the alert
  SegmentQueue<Segment>& q = to.tls != nullptr ? out.wire : out.queue;
  if (q.empty()) return SendResult::kNothing;
  out.sending_wire = to.tls != nullptr;
  SendScratch& sc = *(out.scratch = pool_.BorrowScratch());
  int n = 0;
  for (; static_cast<size_t>(n) < q.size() && n < kMaxIov; ++n) {
    Segment& seg = q[static_cast<size_t>(n)];
    if (seg.buf >= 0) {
      sc.iov[n].iov_base = pool_.Data(seg.buf) + seg.offset;
      sc.iov[n].iov_len = seg.length;
    } else if (InsideObject(seg.owned)) {  // small-string storage moves with the segment
      std::memcpy(sc.small[n], seg.owned.data(), seg.owned.size());
      sc.iov[n].iov_base = sc.small[n];
      sc.iov[n].iov_len = seg.owned.size();
    } else {
      sc.iov[n].iov_base = seg.owned.data();  // on the heap: stable when the segment moves
      sc.iov[n].iov_len = seg.owned.size();
    }
  }
  out.iov_count = n;
  sc.msg = msghdr{};
  sc.msg.msg_iov = sc.iov;
  sc.msg.msg_iovlen = static_cast<size_t>(n);
  if (!Arm(c, SendOp(dst))) {
    pool_.ReturnScratch(out.scratch);
    out.scratch = nullptr;
    OnSideLost(c, dst);
    return SendResult::kSideGone;
  }
  return SendResult::kStarted;
}

void Loop::OnSend(Conn& c, SideId to, int res) {
  Side& side = c.side(to);
  Outbound& out = side.out;
  if (!out.sending()) {  // no send of ours is in flight: not a completion the kernel can post
    ++stats_.stale_completions;
    return;
  }
  --c.inflight;
  pool_.ReturnScratch(out.scratch);
  out.scratch = nullptr;
  if (res < 0) {
    // The destination is gone (EPIPE, ECONNRESET) or we shut it down (ECANCELED).
    if (res != -ECANCELED && c.phase != Phase::kClosed) ++stats_.send_errors;
    ReleaseQueue(c, to);
    if (c.phase != Phase::kClosed) OnSideLost(c, to);
    return;
  }
  size_t sent = static_cast<size_t>(res);
  out.queued -= sent;
  SegmentQueue<Segment>& q = out.sending_wire ? out.wire : out.queue;
  while (sent > 0) {
    WSGATE_CHECK_MSG(!q.empty(), "a send completed more bytes than were queued");
    Segment& s = q.front();
    size_t len = s.size();
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
    if (s.buf >= 0) pool_.Unref(s.buf);
    out.PopFront(q);
  }
  if (out.shrink_when_empty && q.empty()) {
    out.shrink_when_empty = false;
    q.shrink();
  }
  if (c.phase == Phase::kClosed) return;
  if (side.pong_due || (to == SideId::kClient && c.notices)) EmitDue(c, to);  // they waited for room
  if (!out.queue.empty() || !out.wire.empty()) StartSend(c, to);
  // Resume the paused source once this direction has drained enough.
  if (Weight(out) < snapshot_->settings.queue_bytes / 2) ResumeIfPaused(c, Other(to));
}

void Loop::ResumeIfPaused(Conn& c, SideId s) {
  Side& side = c.side(s);
  if (!side.paused) return;
  side.paused = false;
  ArmRecv(c, s);  // if the cancelled recv has not ended yet, its ECANCELED completion re-arms
}

void Loop::CheckBackpressure(Conn& c, SideId dst) {
  SideId from = Other(dst);
  Side& src = c.side(from);
  if (src.paused || Weight(c.side(dst).out) <= snapshot_->settings.queue_bytes) return;
  // Too much is waiting for a slow reader: stop reading the other side until it drains.
  src.paused = true;
  if (src.recv_armed) {
    Cancel(c, RecvOp(from));
    ring_.SubmitNow();  // every completion posted before the cancel lands adds to the queue
  }
}

void Loop::ReleaseQueue(Conn& c, SideId dst) {
  Outbound& out = c.side(dst).out;
  // A send in flight still points into the first iov_count segments of the queue it was built
  // from: keep those until it completes; drop the rest.
  auto drop = [&](SegmentQueue<Segment>& q, size_t keep) {
    keep = std::min(q.size(), keep);
    while (q.size() > keep) {
      Segment& s = q.back();
      if (s.buf >= 0) pool_.Unref(s.buf);
      out.queued -= s.size();
      out.PopBack(q);
    }
  };
  size_t in_flight = out.sending() ? static_cast<size_t>(out.iov_count) : 0;
  drop(out.queue, out.sending_wire ? 0 : in_flight);
  drop(out.wire, out.sending_wire ? in_flight : 0);
  out.pending.clear();
}

}  // namespace wsgate::engine::server
