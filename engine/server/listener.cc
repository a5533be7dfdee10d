// File: engine/server/listener.cc
#include "engine/server/listener.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::server {
namespace {

uint16_t PortOf(const sockaddr_storage& addr) {
  return ntohs(addr.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in&>(addr).sin_port
                                         : reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
}

// IPv6 sockets take IPv4 clients too, whatever net.ipv6.bindv6only says.
void DualStack(int fd, const sockaddr_storage& addr) {
  if (addr.ss_family != AF_INET6) return;
  int zero = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
}

}  // namespace

bool HostHasIpv6() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  any.sin6_addr = in6addr_any;
  int zero = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&any), sizeof(any)) == 0;
  ::close(fd);
  return ok;
}

bool IsIpv6Any(const sockaddr_storage& addr) {
  return addr.ss_family == AF_INET6 &&
         IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr);
}

absl::StatusOr<int> BindListener(const sockaddr_storage& addr, socklen_t len, uint16_t* port) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  DualStack(fd, addr);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 || ::listen(fd, 4096) != 0) {
    absl::Status s = absl::UnavailableError(absl::StrCat("bind/listen: ", strerror(errno)));
    ::close(fd);
    return s;
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  *port = PortOf(bound);
  return fd;
}

absl::Status CheckAddressFree(const sockaddr_storage& addr, socklen_t len, std::string_view what) {
  if (PortOf(addr) == 0) return absl::OkStatus();  // an ephemeral port is never shared
  // An engine that just exited may still listen for a moment: the kernel tears its io_uring down
  // (and with it the multishot accept's reference to the listener) asynchronously. So a taken
  // address is tried again for up to kSettleMs before it counts as taken.
  constexpr int kSettleMs = 1000, kStepMs = 50;
  for (int waited = 0;; waited += kStepMs) {
    int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    DualStack(fd, addr);  // so an IPv4 listener on the port counts as taken for [::]
    int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len);
    int err = errno;
    ::close(fd);
    // Any error but EADDRINUSE (EADDRNOTAVAIL, EACCES) is what the real bind will report too.
    if (rc == 0 || err != EADDRINUSE) return absl::OkStatus();
    if (waited >= kSettleMs) break;
    usleep(kStepMs * 1000);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      common::Sv(what),
      ": the address is already in use (another wsgate-engine, or another program, listens there); "
      "refusing to share it. To share it on purpose (a hitless restart: start the new engine, then drain "
      "the old one), start with --reuse-port"));
}

}  // namespace wsgate::engine::server
