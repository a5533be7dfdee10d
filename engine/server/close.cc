// File: engine/server/close.cc
//
// The close layer: close frames toward a side, what happens when a side is lost, finishing a
// connection once its last bytes are out, shutting it down, and the HTTP error answers of the
// handshake phases. Nothing here frees a connection: Settle() does, at the end of the
// completion (loop.h).
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "engine/common/log.h"
#include "engine/http/messages.h"
#include "engine/server/loop.h"
#include "engine/ws/frame.h"

namespace wsgate::engine::server {

void Loop::SendClose(Conn& c, SideId dst, uint16_t code, std::string_view reason) {
  Side& to = c.side(dst);
  if (to.close_sent || to.eof || to.tls_failed) return;
  to.close_sent = true;
  if (c.info.first_closer == Closer::kNone && c.phase == Phase::kRelay) c.info.first_closer = Closer::kEngine;
  if (dst == SideId::kClient) {
    ++stats_.closes[code];
    c.info.close_code_to_client = code;
  }
  Inject(c, dst, EncodeControl(dst, ws::kClose, ws::ClosePayload(code, reason)));
  if (c.deadline_ms == 0) SetDeadline(c, now_ms_ + snapshot_->settings.close_timeout_ms);
}

void Loop::OnSideLost(Conn& c, SideId s, std::string_view reason) {
  Side& lost = c.side(s);
  WSGATE_LOG(kDebug, "shard %d: conn %d: the %s connection is gone (phase %d)", options_.index,
             static_cast<int>(c.slot), Name(s), static_cast<int>(c.phase));
  lost.eof = true;
  switch (c.phase) {
    case Phase::kRequest:
    case Phase::kConnecting:
    case Phase::kUpstreamHandshake:
      if (s == SideId::kClient) {
        Shutdown(c);  // the client left before the handshake finished
      } else if (c.phase == Phase::kUpstreamHandshake) {
        ++stats_.backend_failures["handshake_closed"];
        Respond(c, 502, "Bad Gateway: the backend closed the connection during the WebSocket handshake");
      }  // kConnecting: the connect's completion reports it
      return;
    case Phase::kRelay:
      NoteClose(c, s, 1006);  // before SendClose below counts the engine as the closer
      ReleaseQueue(c, s);     // nobody to send to
      lost.close_seen = true;  // and nothing more relayed from it
      ResumeIfPaused(c, Other(s));  // it was paused for `s`'s queue: it must read its close reply
      if (s == SideId::kClient) SendClose(c, SideId::kBackend, 1001, reason.empty() ? "client went away" : reason);
      else SendClose(c, SideId::kClient, 1011, reason.empty() ? "backend connection lost" : reason);
      return;
    case Phase::kFinishing:
      if (s == SideId::kClient) Shutdown(c);
      return;  // a lost backend: Settle finishes once the client's answer is out
    default:
      return;
  }
}

void Loop::OnTlsFailed(Conn& c, SideId s) {
  Side& side = c.side(s);
  if (side.tls_failed) return;
  side.tls_failed = true;
  ++stats_.tls_failures;
  if (s == SideId::kClient) {
    WSGATE_LOG(kDebug, "shard %d: %s: TLS failed: %s", options_.index, c.client_ip, side.tls->error());
  } else {
    WSGATE_LOG(kInfo, "shard %d: TLS with the backend failed: %s", options_.index, side.tls->error());
  }
  // Nothing more can be encrypted for it; its alert (in the session's output) is the last thing
  // it gets, and nothing more it sends is read.
  ReleaseQueue(c, s);
  Encrypt(c, s);  // collects the alert into the wire queue
  side.close_seen = true;
  side.close_sent = true;
  switch (c.phase) {
    case Phase::kRequest:
    case Phase::kConnecting:
    case Phase::kUpstreamHandshake:
      if (s == SideId::kBackend) {
        ++stats_.backend_failures["tls"];
        Respond(c, 502, absl::StrCat("Bad Gateway: TLS with the backend failed: ", side.tls->error()));
        return;
      }
      AbortBackend(c);
      c.phase = Phase::kFinishing;
      c.finish_when_flushed = true;
      SetDeadline(c, now_ms_ + 1000);  // the alert, then close
      break;
    case Phase::kRelay:
      ResumeIfPaused(c, Other(s));
      if (s == SideId::kClient) SendClose(c, SideId::kBackend, 1001, "client TLS failed");
      else SendClose(c, SideId::kClient, 1014, "TLS with the backend failed");
      break;
    default:
      break;
  }
  StartSend(c, s);  // the alert
}

void Loop::MaybeFinish(Conn& c) {
  if (c.phase == Phase::kClosed) return;
  const Side& client = c.client();
  const Side& backend = c.backend();
  if (c.phase == Phase::kRelay) {
    bool client_done = client.close_seen || client.eof;
    bool backend_done = backend.close_seen || backend.eof;
    if (!(client_done && backend_done)) return;
    c.finish_when_flushed = true;
  }
  if (!c.finish_when_flushed) return;
  auto flushed = [](const Side& s) {
    return ((s.out.queue.empty() && s.out.wire.empty()) || s.eof) && !s.out.sending() && s.out.pending.empty();
  };
  if (flushed(client) && flushed(backend)) Shutdown(c);
}

// Stops everything on the backend socket: a connect in progress (which shutdown() would not
// stop), its recv, and the socket itself.
void Loop::AbortBackend(Conn& c) {
  Side& backend = c.backend();
  if (backend.fd < 0) return;
  if (c.phase == Phase::kConnecting) Cancel(c, kOpConnect);
  if (backend.recv_armed) Cancel(c, kOpRecvBackend);
  ShutdownSocket(c, SideId::kBackend);
  backend.eof = true;
}

void Loop::Shutdown(Conn& c) {
  if (c.phase == Phase::kClosed) return;
  Side& client = c.client();
  WSGATE_LOG(kDebug, "shard %d: conn %d: shutting down in phase %d (eof %d/%d, closes seen %d/%d, sent %d/%d)",
             options_.index, static_cast<int>(c.slot), static_cast<int>(c.phase), client.eof, c.backend().eof,
             client.close_seen, c.backend().close_seen, client.close_sent, c.backend().close_sent);
  if ((c.phase == Phase::kRelay || c.phase == Phase::kFinishing) && client.scanner) {  // it was relaying
    --stats_.active_connections;
    if (c.counters) --c.counters->active;
    if (c.info.topic_active) --*c.info.topic_active;
    // 1006: no close frame reached the client (its socket went away first).
    int code = c.info.close_code_to_client != 0 ? c.info.close_code_to_client : 1006;
    ++stats_.closes_by_side[{code, Name(c.info.first_closer)}];
    if (code == 1011 && c.counters) ++c.counters->error_closes;
  }
  AbortBackend(c);
  c.phase = Phase::kClosed;
  // shutdown() completes pending recvs (EOF) and sends (error); the cancel makes sure.
  ShutdownSocket(c, SideId::kClient);
  if (client.recv_armed) Cancel(c, kOpRecvClient);
  ReleaseQueue(c, SideId::kClient);
  ReleaseQueue(c, SideId::kBackend);
}

void Loop::Respond(Conn& c, int status, std::string_view body, std::string_view extra_headers) {
  if (c.phase == Phase::kFinishing || c.phase == Phase::kClosed) return;
  ++stats_.handshake_failures[status];
  if (c.counters) ++c.counters->refused_upgrades;  // set once the request matched an API
  c.info.http_status = status;
  WSGATE_LOG(kDebug, "shard %d: %s → %d %s", options_.index, c.client_ip, status, std::string(body));
  // Drop the backend side entirely (before the phase changes: a connect in flight is cancelled).
  ReleaseQueue(c, SideId::kBackend);
  AbortBackend(c);
  c.phase = Phase::kFinishing;
  c.finish_when_flushed = true;
  SetDeadline(c, now_ms_ + 5000);
  ReleaseQueue(c, SideId::kClient);
  EnqueueOwned(c, SideId::kClient, http::ErrorResponse(status, body, extra_headers));
  StartSend(c, SideId::kClient);
}

}  // namespace wsgate::engine::server
