// File: engine/server/transport.cc
//
// The transport layer of the shard loop: arming a connection's ops, receive completions, and
// the TLS record glue between the ciphertext a socket delivers and the plaintext the phases read.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/common/check.h"
#include "engine/common/log.h"
#include "engine/server/loop.h"

namespace wsgate::engine::server {

bool Loop::Arm(Conn& c, Op op) {
  io::Tag tag{op, c.generation, c.slot};
  bool queued = false;
  switch (op) {
    case kOpRecvClient:
    case kOpRecvBackend:
      queued = ring_.PrepRecvMultishot(c.side(op == kOpRecvClient ? SideId::kClient : SideId::kBackend).file(), tag);
      break;
    case kOpSendClient:
    case kOpSendBackend: {
      Side& s = c.side(op == kOpSendClient ? SideId::kClient : SideId::kBackend);
      WSGATE_DCHECK(s.out.scratch != nullptr);
      queued = ring_.PrepSendmsg(s.file(), &s.out.scratch->msg, tag);
      break;
    }
    case kOpConnect: {
      socklen_t len = c.hs->connect_addr.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
      queued = ring_.PrepConnect(c.backend().file(), reinterpret_cast<const sockaddr*>(&c.hs->connect_addr), len, tag);
      break;
    }
    case kOpShutdownClient:
    case kOpShutdownBackend:
      queued = ring_.PrepShutdown(c.side(op == kOpShutdownClient ? SideId::kClient : SideId::kBackend).file(), tag);
      break;
    default:
      WSGATE_CHECK_MSG(false, "Arm: not a connection op");
  }
  if (!queued) {
    ++stats_.ops_not_queued;
    if (uint64_t held = 0; ring_log_.Allow(now_ms_, &held))
      WSGATE_LOG(kWarning, "shard %d: the io_uring submission queue stayed full; failing a connection (%d more)",
                 options_.index, held);
    return false;
  }
  ++c.inflight;
  return true;
}

void Loop::Cancel(Conn& c, Op target) {
  if (!ring_.PrepCancel(io::Tag{target, c.generation, c.slot}, io::Tag{kOpCancel, c.generation, c.slot})) {
    // Every cancel is an optimisation over shutdown(2) (which ends the op too) or a pause
    // (whose worst case is reading on while paused): count it and go on.
    ++stats_.ops_not_queued;
    return;
  }
  ++c.inflight;
}

void Loop::ArmRecv(Conn& c, SideId s) {
  Side& side = c.side(s);
  if (side.recv_armed || side.eof || side.close_seen) return;  // after its close nothing more is read
  if (!Arm(c, RecvOp(s))) return OnSideLost(c, s);
  side.recv_armed = true;
}

void Loop::OnRecv(Conn& c, SideId from, const io::Completion& cqe) {
  Side& side = c.side(from);
  bool more = io::HasMore(cqe);
  if (!more) {  // the multishot ended (EOF, error, no buffers, or a full completion queue)
    side.recv_armed = false;
    --c.inflight;
  }
  if (cqe.res > 0) {
    WSGATE_DCHECK(io::HasBuffer(cqe));
    uint16_t id = io::BufferId(cqe);
    ring_.NoteBufferTaken();
    if (c.phase == Phase::kClosed) {  // bytes that raced our shutdown
      ring_.Recycle(id);
      return;
    }
    const uint8_t* data = ring_.Buffer(id);
    size_t n = static_cast<size_t>(cqe.res);
    if (from == SideId::kClient) {
      c.last_client_activity_ms = now_ms_;
      c.ping_outstanding = false;
    }
    if (side.tls != nullptr) {
      OnCiphertext(c, from, data, n);  // copied into the TLS session
      ring_.Recycle(id);
    } else {
      pool_.Ref(id);  // held while it is processed, so forwarded ranges can reference it
      OnPlaintext(c, from, id, data, n);
      pool_.Unref(id);
    }
    if (!more && c.phase != Phase::kClosed && !side.paused) ArmRecv(c, from);
    return;
  }
  if (c.phase == Phase::kClosed) return;  // our shutdown or cancel ended it
  if (cqe.res == -ENOBUFS) {  // the ring ran dry; resume when buffers come back
    ++stats_.buffer_starvations;
    starved_.push_back(io::Tag{RecvOp(from), c.generation, c.slot});
    return;
  }
  if (cqe.res == -ECANCELED) {
    // A backpressure pause landed. If the queue drained while the cancel was in flight, the
    // resume found the recv still armed and did nothing: re-arm here.
    if (!more && !side.paused) ArmRecv(c, from);
    return;
  }
  if (cqe.res < 0) ++stats_.recv_errors;
  OnSideLost(c, from);  // EOF (0) or an error
}

void Loop::ResumeStarved() {
  // Resume once a quarter of the ring (at most 64 buffers) is back, so the resumed recvs do not
  // run dry at once.
  unsigned margin = std::min(64u, ring_.buffer_count() / 4);
  if (starved_.empty() || ring_.buffers_out() + margin > ring_.buffer_count()) return;
  std::vector<io::Tag> starved;
  starved.swap(starved_);
  for (const io::Tag& tag : starved) {
    Conn* c = table_.Lookup(tag);
    if (c == nullptr || c->phase == Phase::kClosed) continue;
    SideId s = tag.op == kOpRecvClient ? SideId::kClient : SideId::kBackend;
    if (!c->side(s).paused) ArmRecv(*c, s);
    Settle(*c);
  }
}

// Bytes that arrived in the clear (or were just decrypted) from one side.
void Loop::OnPlaintext(Conn& c, SideId from, int32_t buf, const uint8_t* data, size_t n) {
  if (c.phase == Phase::kRelay) {
    ScanInto(c, from, buf, data, n);
  } else if (from == SideId::kClient) {
    OnClientBytes(c, data, n);  // handshake phases copy what they need
  } else {
    OnBackendBytes(c, data, n);
  }
}

// Ciphertext from a TLS side: feed it to the session, pass on what decrypts, and send what the
// session wants to say (handshake records, alerts).
void Loop::OnCiphertext(Conn& c, SideId from, const uint8_t* data, size_t n) {
  Side& side = c.side(from);
  tls::TlsSession& session = *side.tls;
  if (side.tls_failed) return;  // the alert is on its way; nothing more is read
  session.Feed(data, n);
  // Decrypt into as few pool buffers as possible: SSL_read returns one record at a time, and a
  // peer sending many tiny records must not pin a 16 KiB buffer for each.
  while (c.phase != Phase::kClosed && side.tls.get() == &session) {
    int32_t id = pool_.TakePool();
    size_t filled = 0;
    tls::TlsSession::Result r = tls::TlsSession::kData;
    while (filled < pool_.buffer_size()) {
      size_t got = 0;
      r = session.Read(pool_.Data(id) + filled, pool_.buffer_size() - filled, &got);
      if (r != tls::TlsSession::kData) break;
      filled += got;
    }
    if (filled == 0) {
      pool_.PutBack(id);
    } else {
      pool_.Ref(id);
      OnPlaintext(c, from, id, pool_.Data(id), filled);
      pool_.Unref(id);
    }
    if (c.phase == Phase::kClosed || side.tls.get() != &session) return;
    if (r == tls::TlsSession::kClosed) return OnSideLost(c, from);
    if (r == tls::TlsSession::kError) return OnTlsFailed(c, from);
    if (r == tls::TlsSession::kWantMore) break;  // else the buffer is full: another one
  }
  // Handshake replies, and for a backend whose handshake just finished, the queued upgrade request.
  if (c.phase != Phase::kClosed) StartSend(c, from);
}

}  // namespace wsgate::engine::server
