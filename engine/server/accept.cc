// File: engine/server/accept.cc
//
// Accepting clients: multishot accept on the ws and wss listeners, a connection slot per client,
// and the refusals — past --max-connections, while draining, without a certificate — answered
// with a 503 rather than a bare close. At the descriptor limit (EMFILE) accept backs off instead
// of spinning, and a reserve descriptor answers one waiting client per backoff.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/check.h"
#include "engine/common/log.h"
#include "engine/http/messages.h"
#include "engine/server/loop.h"

namespace wsgate::engine::server {
namespace {

constexpr int64_t kAcceptBackoffMs = 100;  // after EMFILE/ENFILE, before accepting again

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

// Sent with one non-blocking send to a client refused at accept: it fits any empty socket buffer.
const std::string& RefusalResponse() {
  static const std::string r = http::ErrorResponse(
      503, "Service Unavailable: the gateway is at its connection limit; retry later", "Retry-After: 1\r\n");
  return r;
}

}  // namespace

void Loop::OnAccept(const io::Completion& cqe) {
  io::Tag tag = io::Tag::Decode(cqe.user_data);
  bool tls = tag.op == kOpAcceptTls;
  WSGATE_DCHECK(tag.slot < listeners_.size());
  Listener& listener = listeners_[tag.slot];
  if (!io::HasMore(cqe)) {
    listener.armed = false;  // AfterBatch arms it again
    rearm_listeners_ = true;
  }
  if (cqe.res < 0) {
    if (cqe.res == -ECANCELED) return;
    ++stats_.accept_errors;
    bool out_of_fds = cqe.res == -EMFILE || cqe.res == -ENFILE;
    if (out_of_fds) {
      // Re-arming at once would spin on the same error: wait, and tell one waiting client why.
      listener.resume_ms = now_ms_ + kAcceptBackoffMs;
      AnswerWithReserveFd(listener.fd, tls);
    }
    if (uint64_t held = 0; accept_log_.Allow(now_ms_, &held))
      WSGATE_LOG(kWarning, "shard %d: accept: %s%s (%d similar lines held back)", options_.index, strerror(-cqe.res),
                 out_of_fds ? "; out of file descriptors, accepting again in 100 ms (raise the fd limit or lower "
                              "--max-connections)"
                            : "",
                 held);
    return;
  }
  int fd = cqe.res;
  ++stats_.accepted;
  // The accept budget (issue 15): past it, sockets wait for the next iteration, and at a full
  // backlog of them accepting pauses (the kernel's queue holds the rest), so a connect storm
  // cannot starve the relays this iteration serves.
  const size_t budget = snapshot_->settings.accept_budget;
  if (accepts_this_batch_ >= budget) {
    ++stats_.accepts_deferred;
    deferred_accepts_.push_back({fd, tls});
    if (deferred_accepts_.size() >= budget && listener.armed && !listener.paused) {
      listener.paused = ring_.PrepCancel(io::Tag{tls ? kOpAcceptTls : kOpAccept, 0, tag.slot}, io::Tag{kOpCancelAccept, 0, 0});
    }
    return;
  }
  ++accepts_this_batch_;
  AdmitSocket(fd, tls);
}

// The deferred sockets of the last iteration first, up to the budget (AfterBatch).
void Loop::AdmitDeferred() {
  const size_t budget = snapshot_->settings.accept_budget;
  size_t n = std::min(deferred_accepts_.size(), budget);
  accepts_this_batch_ = n;
  if (n == 0) return;
  std::vector<std::pair<int, bool>> now(deferred_accepts_.begin(), deferred_accepts_.begin() + static_cast<long>(n));
  deferred_accepts_.erase(deferred_accepts_.begin(), deferred_accepts_.begin() + static_cast<long>(n));
  for (auto [fd, tls] : now) AdmitSocket(fd, tls);
}

void Loop::AdmitSocket(int fd, bool tls) {
  if (draining_) return RefuseAtAccept(fd, tls, "the gateway is shutting down");
  if (tls && !snapshot_->server_tls) return RefuseAtAccept(fd, tls, "wss connection refused: no certificate is configured");
  if (!TakeEngineSlot()) {
    return RefuseAtAccept(fd, tls, absl::StrCat("engine-wide connection limit ", snapshot_->settings.max_connections,
                                                " reached (settings.max_connections)"));
  }
  Conn* c = table_.Allocate(static_cast<size_t>(options_.max_connections));
  if (c == nullptr) {
    ReleaseEngineSlot();
    return RefuseAtAccept(fd, tls, absl::StrCat("connection limit ", options_.max_connections, " reached (--max-connections)"));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->phase = Phase::kRequest;
  c->hs = std::make_unique<Handshake>();
  c->client_ip = PeerAddress(fd);
  Adopt(c->client(), fd);  // into the ring's fixed-file table when it has room (direct.cc)
  c->info.id = (static_cast<uint64_t>(options_.index) << 40) | ++conn_seq_;
  c->info.accepted_ms = now_ms_;
  SetDeadline(*c, now_ms_ + snapshot_->settings.handshake_timeout_ms);
  if (tls) {
    // The TLS handshake's SNI callback reads this snapshot's certificates: pin them until the
    // request (a push meanwhile may rotate them).
    c->snapshot = snapshot_;
    c->client().tls = std::make_unique<tls::TlsSession>(snapshot_->server_tls->NewSsl(), /*server=*/true);
  }
  ++stats_.open_sockets;
  ArmRecv(*c, SideId::kClient);
  Settle(*c);
}

bool Loop::TakeEngineSlot() {
  if (options_.engine_connections == nullptr) return true;
  // One atomic add per accepted client (never per frame); over the cap it is taken back.
  int64_t before = options_.engine_connections->fetch_add(1, std::memory_order_relaxed);
  uint32_t cap = snapshot_->settings.max_connections;
  if (cap == 0 || before < cap) return true;
  options_.engine_connections->fetch_sub(1, std::memory_order_relaxed);
  return false;
}

void Loop::ReleaseEngineSlot() {
  if (options_.engine_connections != nullptr) options_.engine_connections->fetch_sub(1, std::memory_order_relaxed);
}

// A client this shard will not serve: ws clients get a 503 with a text body (one non-blocking
// send into the empty socket buffer), wss clients a plain close (no TLS for a refusal).
void Loop::RefuseAtAccept(int fd, bool tls, std::string_view why) {
  ++stats_.refused_connections;
  if (!tls) {
    ssize_t ignored = ::send(fd, RefusalResponse().data(), RefusalResponse().size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)ignored;
    // Closing with unread bytes sends a reset, which can make the client drop our answer:
    // read what already arrived (bounded) first.
    char sink[4096];
    for (int i = 0; i < 4 && ::recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) {
    }
  }
  ::close(fd);
  if (uint64_t held = 0; refuse_log_.Allow(now_ms_, &held))
    WSGATE_LOG(kWarning, "shard %d: refusing a %s connection: %s (%d more refused since the last line)",
               options_.index, tls ? "wss" : "ws", std::string(why), held);
}

// Out of descriptors: give up the reserve for a moment to take one waiting client off the
// backlog and answer it, so clients learn why instead of hanging until their timeout.
void Loop::AnswerWithReserveFd(int listen_fd, bool tls) {
  if (reserve_fd_ < 0) return;
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  pollfd p{listen_fd, POLLIN, 0};
  if (::poll(&p, 1, 0) == 1) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      ++stats_.accepted;
      RefuseAtAccept(fd, tls, "out of file descriptors");
    }
  }
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace wsgate::engine::server
