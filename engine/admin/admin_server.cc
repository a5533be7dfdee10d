// File: engine/admin/admin_server.cc
#include "engine/admin/admin_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/log.h"
#include "engine/http/messages.h"
#include "engine/http/request_parser.h"
#include "engine/server/server.h"

namespace wsgate::engine::admin {
namespace {

using common::Sv;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IsLoopback(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr) >> 24) == 127;
  const in6_addr& v6 = reinterpret_cast<const sockaddr_in6&>(a).sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

std::string FormatResponse(const AdminResponse& r) {
  std::string_view reason = http::StatusText(r.status);
  return absl::StrCat("HTTP/1.1 ", r.status, " ", Sv(reason), "\r\nContent-Type: ", r.content_type,
                      "\r\nContent-Length: ", r.body.size(), "\r\nCache-Control: no-store\r\nConnection: close\r\n",
                      r.extra_headers, "\r\n", r.body);
}

AdminResponse Text(int status, std::string body, std::string extra_headers = {}) {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  r.body += "\n";
  r.extra_headers = std::move(extra_headers);
  return r;
}

// Waits until `fd` is ready for `events` or the deadline passes. False on timeout or error.
bool WaitFor(int fd, short events, int64_t deadline_ms) {
  while (true) {
    int64_t left = deadline_ms - NowMs();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

}  // namespace

absl::Status CheckAdminAddress(std::string_view listen, bool allow_any) {
  sockaddr_storage addr;
  socklen_t len;
  if (absl::Status s = server::ParseListenAddress(listen, "admin-listen", &addr, &len); !s.ok()) return s;
  if (!allow_any && !IsLoopback(addr))
    return absl::InvalidArgumentError(absl::StrCat(
        "--admin-listen ", Sv(listen),
        ": not a loopback address; /config_dump and /metrics would be open to the network. Use 127.0.0.1:PORT, "
        "or add --admin-listen-any to serve it there on purpose"));
  return absl::OkStatus();
}

AdminServer::AdminServer(AdminOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

AdminServer::~AdminServer() { Stop(); }

absl::Status AdminServer::Start() {
  if (absl::Status s = CheckAdminAddress(options_.listen, options_.allow_any); !s.ok()) return s;
  sockaddr_storage addr;
  socklen_t len;
  if (absl::Status s = server::ParseListenAddress(options_.listen, "admin-listen", &addr, &len); !s.ok()) return s;
  auto fail = [&](std::string_view what) {
    absl::Status s = absl::UnavailableError(absl::StrCat("--admin-listen ", options_.listen, ": ", Sv(what), ": ",
                                                         strerror(errno)));
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
    return s;
  };
  listen_fd_ = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return fail("socket");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // TIME_WAIT only; no SO_REUSEPORT
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), len) != 0) return fail("bind");
  if (::listen(listen_fd_, 64) != 0) return fail("listen");
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(bound).sin_port
                                           : reinterpret_cast<sockaddr_in6&>(bound).sin6_port);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return fail("eventfd");
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void AdminServer::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t ignored = ::write(stop_fd_, &one, sizeof(one));
    (void)ignored;
    thread_.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  listen_fd_ = stop_fd_ = -1;
}

void AdminServer::Run() {
  while (true) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      WSGATE_LOG(kError, "admin listener: poll: %s; the admin listener stops", strerror(errno));
      return;
    }
    if (p[1].revents != 0) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // EAGAIN (another wake-up), ECONNABORTED, EMFILE: try again at the next one
    Serve(fd);
    ::close(fd);
  }
}

void AdminServer::Serve(int fd) {
  int64_t deadline = NowMs() + options_.deadline_ms;
  http::Limits limits;
  limits.max_head_bytes = options_.max_request_bytes;
  limits.max_request_line = options_.max_request_bytes;
  http::RequestParser parser(limits);
  std::string buffered;
  AdminResponse response;
  while (true) {
    if (!WaitFor(fd, POLLIN, deadline)) return;  // too slow: no answer, the socket closes
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return;
    buffered.append(buf, static_cast<size_t>(n));
    http::ParseResult r = parser.Feed(buffered);
    if (r.kind == http::ParseResult::kNeedMore) continue;
    if (r.kind == http::ParseResult::kError) {
      response = Text(r.status, absl::StrCat(Sv(http::StatusText(r.status)), ": ", Sv(r.reason)));
    } else {
      const http::Request& req = parser.request();
      if (req.method != "GET" && req.method != "HEAD") {
        response = Text(405, absl::StrCat("Method Not Allowed: ", Sv(req.method), " (the admin endpoints take GET)"),
                        "Allow: GET, HEAD\r\n");
      } else {
        response = handler_(AdminRequest{std::string(req.method), std::string(req.path)});
      }
      if (req.method == "HEAD") {
        std::string head = FormatResponse(response);
        head.resize(head.size() - response.body.size());
        buffered = std::move(head);
        break;
      }
    }
    buffered = FormatResponse(response);
    break;
  }
  size_t sent = 0;
  while (sent < buffered.size()) {
    ssize_t n = ::send(fd, buffered.data() + sent, buffered.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return;
    } else {
      return;
    }
  }
  ::shutdown(fd, SHUT_WR);
}

}  // namespace wsgate::engine::admin
