// File: engine/common/service.cc
#include "engine/common/service.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::common {

std::string DefaultEngineControlTarget() {
  if (const char* dir = std::getenv("WSGATE_RUN_DIR"); dir && *dir) return absl::StrCat("unix:", dir, "/engine.sock");
  if (const char* dir = std::getenv("XDG_RUNTIME_DIR"); dir && *dir)
    return absl::StrCat("unix:", dir, "/wsgate-engine.sock");
  return absl::StrCat("unix:/tmp/wsgate-", getuid(), "-engine.sock");
}

absl::Status NotifyServiceManager(std::string_view state) {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (socket_name == nullptr || *socket_name == '\0') return absl::OkStatus();
  std::string_view name = socket_name;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((name[0] != '/' && name[0] != '@') || name.size() >= sizeof(addr.sun_path))
    return absl::InvalidArgumentError(absl::StrCat("NOTIFY_SOCKET=", Sv(name), ": not a socket path or @abstract name"));
  std::memcpy(addr.sun_path, name.data(), name.size());
  if (name[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: the length, not a NUL, ends it
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("NOTIFY_SOCKET: socket: ", strerror(errno)));
  ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), length);
  int error = errno;
  close(fd);
  if (sent != static_cast<ssize_t>(state.size()))
    return absl::UnavailableError(absl::StrCat("NOTIFY_SOCKET=", Sv(name), ": ", strerror(error)));
  return absl::OkStatus();
}

}  // namespace wsgate::common
