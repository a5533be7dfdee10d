// File: tools/chat-backend/chat_server.cc
//
// Connection life: kHttp (buffer + parse the upgrade) -> one of
//   kWebSocket  handshake answered 101, frames decoded by wslay;
//   kHeld       unknown path in faithful mode: read and discard until the peer leaves;
//   closed      unknown room (faithful), bad request (after the error response is flushed).
// A connection is destroyed only at the end of a loop iteration (Reap), never from inside a
// callback, so fan-out loops and wslay callbacks never see a freed connection.
#include "tools/chat-backend/chat_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/log.h"
#include "engine/http/request_parser.h"
#include "engine/http/upgrade.h"
#include "engine/ws/frame.h"
#include "engine/ws/handshake.h"
#include "tools/chat-backend/chat_rules.h"

namespace wsgate::tools::chat {
namespace {

constexpr uint64_t kListenTag = 0;
constexpr uint64_t kWakeTag = 1;
constexpr uint64_t kFirstConnId = 16;
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kReadBudgetPerWakeup = 1 << 20;  // fairness between busy clients
constexpr int kMaxIov = 64;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view StatusText(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

}  // namespace

class ChatServer::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}
  ~Impl() {
    for (auto& [id, conn] : conns_) CloseFd(*conn);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }

  absl::Status Listen();
  absl::Status Run();
  void Stop() {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
    (void)ignored;
  }
  uint16_t port() const { return port_; }
  ServerStats stats() const {
    ServerStats s = stats_;
    s.active = conns_.size();
    return s;
  }

 private:
  enum class State : uint8_t { kHttp, kHeld, kWebSocket };

  // One queued output unit: a frame header (or a whole control frame / HTTP response) plus an
  // optional shared payload. `sent` counts bytes of head+payload already written.
  struct OutFrame {
    std::string head;
    std::shared_ptr<const std::string> payload;
    size_t sent = 0;
    size_t size() const { return head.size() + (payload ? payload->size() : 0); }
  };

  struct Conn {
    uint64_t id = 0;
    int fd = -1;
    State state = State::kHttp;
    Channel channel = Channel::kNotifications;
    std::string in;        // kHttp: the request so far; kWebSocket: bytes read past the head
    size_t in_offset = 0;  // kWebSocket: leftover bytes already given to wslay
    engine::http::RequestParser parser;
    wslay_event_context_ptr ws = nullptr;
    std::deque<OutFrame> out;
    size_t out_bytes = 0;
    bool want_write = false;          // EPOLLOUT registered
    bool close_after_flush = false;   // an HTTP error response or a finished close handshake
    bool dead = false;                // queued for Reap
    bool in_dirty = false;
    size_t read_budget = 0;
    int64_t close_deadline_ms = 0;    // we sent a close; give up waiting after this
    Impl* server = nullptr;

    explicit Conn(const engine::http::Limits& limits) : parser(limits) {}
  };

  // Event handlers.
  void AcceptAll();
  void OnReadable(Conn& c);
  void OnRequest(Conn& c, const engine::http::Request& req, size_t consumed);
  void AfterWebSocketIo(Conn& c);
  void OnMessage(Conn& c, const wslay_event_on_msg_recv_arg& arg);

  // Output.
  void QueueRaw(Conn& c, std::string bytes);
  void QueueData(Conn& c, uint8_t opcode, std::shared_ptr<const std::string> payload);
  void QueueClose(Conn& c, uint16_t code, std::string_view reason);
  void RespondAndClose(Conn& c, int status, std::string_view body);
  void Flush(Conn& c);
  void UpdateInterest(Conn& c, bool want_write);

  // Lifetime.
  void Kill(Conn& c);
  void Reap();
  void CloseFd(Conn& c);
  Conn* Find(uint64_t id) {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
  }
  void CheckDeadlines(int64_t now);
  void BeginShutdown();

  // wslay callbacks.
  static ssize_t RecvCallback(wslay_event_context_ptr, uint8_t* buf, size_t len, int, void* user);
  static ssize_t SendCallback(wslay_event_context_ptr, const uint8_t* data, size_t len, int, void* user);
  static void MsgCallback(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg, void* user);

  ServerOptions options_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  int epoll_fd_ = -1;
  uint16_t port_ = 0;
  uint64_t next_id_ = kFirstConnId;
  bool stopping_ = false;
  int64_t shutdown_deadline_ms_ = 0;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<uint64_t> dirty_;  // connections with queued output to flush this iteration
  std::vector<uint64_t> dead_;
  Hub hub_;
  ServerStats stats_;
};

absl::Status ChatServer::Impl::Listen() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return absl::InternalError(absl::StrCat("epoll/eventfd: ", strerror(errno)));

  sockaddr_storage addr{};
  socklen_t addr_len;
  int family;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET, options_.bind_address.c_str(), &v4->sin_addr) == 1) {
    family = AF_INET;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(options_.port);
    addr_len = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, options_.bind_address.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(options_.port);
    addr_len = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--bind: '", options_.bind_address, "' is not an IPv4 or IPv6 address"));
  }
  listen_fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0)
    return absl::UnavailableError(absl::StrCat("bind ", options_.bind_address, ":", options_.port,
                                                ": ", strerror(errno)));
  if (::listen(listen_fd_, 1024) != 0) return absl::InternalError(absl::StrCat("listen: ", strerror(errno)));
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                  : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);

  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  return absl::OkStatus();
}

absl::Status ChatServer::Impl::Run() {
  if (epoll_fd_ < 0) return absl::FailedPreconditionError("Run() before Listen()");
  epoll_event events[256];
  while (true) {
    int n = ::epoll_wait(epoll_fd_, events, 256, 200);
    if (n < 0 && errno != EINTR) return absl::InternalError(absl::StrCat("epoll_wait: ", strerror(errno)));
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kListenTag) {
        AcceptAll();
        continue;
      }
      if (tag == kWakeTag) {
        uint64_t value;
        ssize_t ignored = ::read(wake_fd_, &value, sizeof(value));
        (void)ignored;
        BeginShutdown();
        continue;
      }
      Conn* c = Find(tag);
      if (c == nullptr || c->dead) continue;  // a stale event for a connection already gone
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) OnReadable(*c);
      if (!c->dead && (events[i].events & EPOLLOUT)) Flush(*c);
    }
    // Fan-out queued output on other connections: write it now rather than next wakeup.
    for (size_t i = 0; i < dirty_.size(); ++i) {
      Conn* c = Find(dirty_[i]);
      if (c == nullptr) continue;
      c->in_dirty = false;
      if (!c->dead) Flush(*c);
    }
    dirty_.clear();
    CheckDeadlines(NowMs());
    Reap();
    if (stopping_ && (conns_.empty() || NowMs() >= shutdown_deadline_ms_)) break;
  }
  for (auto& [id, conn] : conns_) Kill(*conn);
  Reap();
  return absl::OkStatus();
}

void ChatServer::Impl::BeginShutdown() {
  if (stopping_) return;
  stopping_ = true;
  shutdown_deadline_ms_ = NowMs() + options_.shutdown_timeout_ms;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  ::close(listen_fd_);
  listen_fd_ = -1;
  WSGATE_LOG(kInfo, "shutting down: closing %d connection(s) with 1001", static_cast<int>(conns_.size()));
  for (auto& [id, conn] : conns_) {
    if (conn->state == State::kWebSocket) {
      QueueClose(*conn, 1001, "server shutting down");
    } else {
      Kill(*conn);
    }
  }
}

void ChatServer::Impl::AcceptAll() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      if (errno == ECONNABORTED) continue;
      WSGATE_LOG(kWarning, "accept: %s", strerror(errno));  // EMFILE etc.: retry next wakeup
      return;
    }
    ++stats_.accepted;
    if (static_cast<int>(conns_.size()) >= options_.max_connections) {
      WSGATE_LOG(kWarning, "connection limit (%d) reached; refusing", options_.max_connections);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    engine::http::Limits limits;
    limits.max_head_bytes = options_.max_header_bytes;
    auto conn = std::make_unique<Conn>(limits);
    conn->id = next_id_++;
    conn->fd = fd;
    conn->server = this;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = conn->id;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    conns_.emplace(conn->id, std::move(conn));
  }
}

void ChatServer::Impl::OnReadable(Conn& c) {
  if (c.state == State::kWebSocket) {
    c.read_budget = kReadBudgetPerWakeup;
    int rv = wslay_event_recv(c.ws);
    if (rv != 0) {
      WSGATE_LOG(kDebug, "conn %d: wslay_event_recv: %d", static_cast<int>(c.id), rv);
      // Peer gone, socket error or a protocol error (wslay has queued a close): flush what we
      // can and drop the connection.
      hub_.MarkClosing(c.id);
      wslay_event_send(c.ws);
      c.close_after_flush = true;
      Flush(c);
      if (!c.dead && !c.out.empty()) Kill(c);  // the peer is not reading; nothing more to do
      return;
    }
    AfterWebSocketIo(c);
    return;
  }

  char buf[kReadChunk];
  size_t budget = kReadBudgetPerWakeup;
  while (budget > 0) {
    ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n == 0) return Kill(c);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return Kill(c);
    }
    budget -= std::min(budget, static_cast<size_t>(n));
    if (c.state == State::kHeld || c.close_after_flush) continue;  // discard
    c.in.append(buf, static_cast<size_t>(n));
    engine::http::ParseResult r = c.parser.Feed(c.in);
    if (r.kind == engine::http::ParseResult::kNeedMore) continue;
    if (r.kind == engine::http::ParseResult::kError) {
      WSGATE_LOG(kDebug, "conn %d: bad request: %s", static_cast<int>(c.id), std::string(r.reason));
      return RespondAndClose(c, r.status, StatusText(r.status));
    }
    OnRequest(c, c.parser.request(), r.consumed);
    return;
  }
}

void ChatServer::Impl::OnRequest(Conn& c, const engine::http::Request& req, size_t consumed) {
  RouteDecision route = RouteTarget(req.target);
  if (options_.echo) route = RouteDecision{RouteDecision::kAccept, Channel::kCommon};
  if (route.kind == RouteDecision::kUnknownPath) {
    if (options_.strict_http) return RespondAndClose(c, 404, "Not Found");
    c.state = State::kHeld;  // the original never answers; wait for the client to give up
    c.in.clear();
    return;
  }
  if (route.kind == RouteDecision::kUnknownRoom) {
    if (options_.strict_http) return RespondAndClose(c, 404, "Not Found");
    WSGATE_LOG(kDebug, "conn %d: unknown room in %s: closing", static_cast<int>(c.id), std::string(req.target));
    return Kill(c);
  }
  // Node only raises 'upgrade' for a request with Upgrade and Connection: upgrade; anything else
  // is a plain request the original never answers.
  const engine::http::Header* upgrade = req.Find("upgrade");
  const engine::http::Header* connection = req.Find("connection");
  if (upgrade == nullptr || connection == nullptr || !engine::http::HasToken(connection->value, "upgrade")) {
    if (options_.strict_http) return RespondAndClose(c, 426, "Upgrade Required");
    c.state = State::kHeld;
    c.in.clear();
    return;
  }
  engine::http::UpgradeOptions upgrade_options;
  upgrade_options.accept_version_8 = true;  // ws 6.x accepts 8 and 13
  upgrade_options.strict_key = false;       // ws 6.x only checks presence
  upgrade_options.require_host = false;
  upgrade_options.reject_duplicates = false;  // ws 6.x reads the first
  upgrade_options.check_path = false;         // the sample's own routing decides
  engine::http::UpgradeCheck check = engine::http::CheckUpgrade(req, upgrade_options);
  if (check.error != engine::http::UpgradeError::kNone) {
    WSGATE_LOG(kDebug, "conn %d: %s", static_cast<int>(c.id), std::string(engine::http::Describe(check.error)));
    return RespondAndClose(c, 400, "Bad Request");
  }

  std::string response = absl::StrCat(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ",
      engine::ws::AcceptKey(check.key), "\r\n");
  std::string_view protocol = engine::http::FirstProtocol(check.protocols);
  if (!protocol.empty()) absl::StrAppend(&response, "Sec-WebSocket-Protocol: ", common::Sv(protocol), "\r\n");
  response.append("\r\n");
  QueueRaw(c, std::move(response));

  wslay_event_callbacks callbacks{};
  callbacks.recv_callback = &Impl::RecvCallback;
  callbacks.send_callback = &Impl::SendCallback;
  callbacks.on_msg_recv_callback = &Impl::MsgCallback;
  if (wslay_event_context_server_init(&c.ws, &callbacks, &c) != 0) return Kill(c);
  wslay_event_config_set_max_recv_msg_length(c.ws, options_.max_payload_bytes);
  c.state = State::kWebSocket;
  c.channel = route.channel;
  c.in.erase(0, consumed);  // frames the client sent right behind the request
  c.in_offset = 0;
  ++stats_.upgraded;

  if (options_.echo) {
    if (!c.in.empty()) OnReadable(c);
    return;
  }
  hub_.Join(c.id, route.channel);
  QueueData(c, WSLAY_TEXT_FRAME, std::make_shared<const std::string>(WelcomeMessage(route.channel)));
  if (auto notice = JoinNotice(route.channel)) {
    auto payload = std::make_shared<const std::string>(*notice);
    hub_.ForEachOpenMember(Channel::kNotifications, [&](uint64_t member) {
      if (Conn* m = Find(member)) QueueData(*m, WSLAY_TEXT_FRAME, payload);
    });
  }
  if (!c.in.empty()) OnReadable(c);
}

void ChatServer::Impl::AfterWebSocketIo(Conn& c) {
  // Move control frames wslay queued (pong, close echo) into our output queue.
  if (wslay_event_send(c.ws) != 0) return Kill(c);
  if (wslay_event_get_close_received(c.ws) && wslay_event_get_close_sent(c.ws)) {
    hub_.MarkClosing(c.id);
    c.close_after_flush = true;
  }
  Flush(c);
}

void ChatServer::Impl::OnMessage(Conn& c, const wslay_event_on_msg_recv_arg& arg) {
  if (arg.opcode == WSLAY_CONNECTION_CLOSE) {
    hub_.MarkClosing(c.id);
    return;
  }
  if (arg.opcode != WSLAY_TEXT_FRAME && arg.opcode != WSLAY_BINARY_FRAME) return;  // ping/pong
  std::string_view body(reinterpret_cast<const char*>(arg.msg), arg.msg_length);
  if (arg.opcode == WSLAY_TEXT_FRAME && !engine::ws::IsValidUtf8(body)) {
    QueueClose(c, 1007, "Invalid UTF-8 sequence");
    return;
  }
  ++stats_.messages_in;
  auto payload = std::make_shared<const std::string>(body);
  if (options_.echo) return QueueData(c, arg.opcode, std::move(payload));
  hub_.ForEachPeer(c.id, [&](uint64_t peer) {
    if (Conn* p = Find(peer)) QueueData(*p, arg.opcode, payload);
  });
}

void ChatServer::Impl::QueueRaw(Conn& c, std::string bytes) {
  c.out_bytes += bytes.size();
  c.out.push_back(OutFrame{std::move(bytes), nullptr, 0});
  if (!c.in_dirty) {
    c.in_dirty = true;
    dirty_.push_back(c.id);
  }
}

void ChatServer::Impl::QueueData(Conn& c, uint8_t opcode, std::shared_ptr<const std::string> payload) {
  if (c.dead || c.state != State::kWebSocket) return;
  size_t size = payload->size();
  uint8_t header[14];
  size_t header_len = engine::ws::EncodeFrameHeader(opcode, size, nullptr, header);
  QueueRaw(c, std::string(reinterpret_cast<const char*>(header), header_len));
  c.out.back().payload = std::move(payload);
  c.out_bytes += size;
  ++stats_.messages_out;
  if (c.out_bytes > options_.max_queued_bytes) {
    WSGATE_LOG(kWarning, "conn %d: client is %d bytes behind (limit %d); dropping it",
               static_cast<int>(c.id), static_cast<int>(c.out_bytes), static_cast<int>(options_.max_queued_bytes));
    Kill(c);
  }
}

void ChatServer::Impl::QueueClose(Conn& c, uint16_t code, std::string_view reason) {
  hub_.MarkClosing(c.id);
  if (c.ws == nullptr || wslay_event_get_close_sent(c.ws)) return;
  wslay_event_queue_close(c.ws, code, reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
  c.close_deadline_ms = NowMs() + options_.close_timeout_ms;
  if (wslay_event_send(c.ws) != 0) Kill(c);
}

void ChatServer::Impl::RespondAndClose(Conn& c, int status, std::string_view body) {
  QueueRaw(c, absl::StrCat("HTTP/1.1 ", status, " ", common::Sv(StatusText(status)),
                           "\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ",
                           body.size(), "\r\n\r\n", common::Sv(body)));
  c.close_after_flush = true;
  Flush(c);
}

void ChatServer::Impl::Flush(Conn& c) {
  while (!c.out.empty()) {
    iovec iov[kMaxIov];
    int count = 0;
    for (auto it = c.out.begin(); it != c.out.end() && count < kMaxIov - 1; ++it) {
      size_t skip = it->sent;
      if (skip < it->head.size()) {
        iov[count++] = {const_cast<char*>(it->head.data()) + skip, it->head.size() - skip};
        skip = 0;
      } else {
        skip -= it->head.size();
      }
      if (it->payload && skip < it->payload->size())
        iov[count++] = {const_cast<char*>(it->payload->data()) + skip, it->payload->size() - skip};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);  // a vanished peer is EPIPE, not SIGPIPE
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        UpdateInterest(c, true);
        return;
      }
      return Kill(c);  // EPIPE, ECONNRESET: the peer is gone
    }
    size_t written = static_cast<size_t>(n);
    c.out_bytes -= written;
    while (written > 0) {
      OutFrame& f = c.out.front();
      size_t left = f.size() - f.sent;
      if (written < left) {
        f.sent += written;
        break;
      }
      written -= left;
      c.out.pop_front();
    }
  }
  UpdateInterest(c, false);
  if (c.close_after_flush) Kill(c);
}

void ChatServer::Impl::UpdateInterest(Conn& c, bool want_write) {
  if (c.want_write == want_write) return;
  c.want_write = want_write;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want_write ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  ev.data.u64 = c.id;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void ChatServer::Impl::CheckDeadlines(int64_t now) {
  for (auto& [id, conn] : conns_) {
    if (!conn->dead && conn->close_deadline_ms != 0 && now >= conn->close_deadline_ms) {
      WSGATE_LOG(kDebug, "conn %d: close handshake timed out", static_cast<int>(id));
      Kill(*conn);
    }
  }
}

void ChatServer::Impl::Kill(Conn& c) {
  if (c.dead) return;
  c.dead = true;
  hub_.MarkClosing(c.id);
  dead_.push_back(c.id);
}

void ChatServer::Impl::Reap() {
  for (uint64_t id : dead_) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    hub_.Leave(id);
    CloseFd(*it->second);
    conns_.erase(it);
  }
  dead_.clear();
}

void ChatServer::Impl::CloseFd(Conn& c) {
  if (c.ws != nullptr) {
    wslay_event_context_free(c.ws);
    c.ws = nullptr;
  }
  if (c.fd >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::shutdown(c.fd, SHUT_WR);
    ::close(c.fd);
    c.fd = -1;
  }
}

ssize_t ChatServer::Impl::RecvCallback(wslay_event_context_ptr ctx, uint8_t* buf, size_t len, int,
                                       void* user) {
  auto& c = *static_cast<Conn*>(user);
  if (c.in_offset < c.in.size()) {  // bytes that arrived together with the upgrade request
    size_t n = std::min(len, c.in.size() - c.in_offset);
    std::memcpy(buf, c.in.data() + c.in_offset, n);
    c.in_offset += n;
    if (c.in_offset == c.in.size()) {
      c.in.clear();
      c.in.shrink_to_fit();
      c.in_offset = 0;
    }
    return static_cast<ssize_t>(n);
  }
  if (c.read_budget == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);  // level-triggered epoll brings us back
    return -1;
  }
  ssize_t n = ::recv(c.fd, buf, std::min(len, c.read_budget), 0);
  if (n > 0) {
    c.read_budget -= static_cast<size_t>(n);
    return n;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
  } else {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);  // EOF or error
  }
  return -1;
}

ssize_t ChatServer::Impl::SendCallback(wslay_event_context_ptr, const uint8_t* data, size_t len, int,
                                       void* user) {
  auto& c = *static_cast<Conn*>(user);
  c.server->QueueRaw(c, std::string(reinterpret_cast<const char*>(data), len));
  return static_cast<ssize_t>(len);
}

void ChatServer::Impl::MsgCallback(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg,
                                   void* user) {
  auto& c = *static_cast<Conn*>(user);
  c.server->OnMessage(c, *arg);
}

ChatServer::ChatServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
ChatServer::~ChatServer() = default;
absl::Status ChatServer::Listen() { return impl_->Listen(); }
uint16_t ChatServer::port() const { return impl_->port(); }
absl::Status ChatServer::Run() { return impl_->Run(); }
void ChatServer::Stop() { impl_->Stop(); }
ServerStats ChatServer::stats() const { return impl_->stats(); }

}  // namespace wsgate::tools::chat
