// File: agent/http_listen.cc
#include "agent/http_listen.h"

#include <httplib.h>
#include <string.h>

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/listen_policy.h"

namespace wsgate::agent {

absl::Status BindAndServe(httplib::Server& http, const std::string& flag, const std::string& listen,
                          bool allow_remote, const std::string& remote_hint, int* port, std::thread* thread) {
  size_t colon = listen.rfind(':');
  uint32_t wanted = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &wanted) || wanted > 65535)
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": '", listen, "' needs HOST:PORT"));
  std::string host = listen.substr(0, colon);
  if (!IsLocalAddress(listen) && !allow_remote)
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", host, " is not a loopback address; ", remote_hint));
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  http.set_socket_options([](socket_t sock) {
    int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  });
  if (wanted == 0) {
    *port = http.bind_to_any_port(host);
    if (*port <= 0) return absl::UnavailableError(absl::StrCat("--", flag, " ", listen, ": ", strerror(errno)));
  } else {
    if (!http.bind_to_port(host, static_cast<int>(wanted)))
      return absl::UnavailableError(
          absl::StrCat("--", flag, " ", listen, ": ", strerror(errno), " (is another wsgate-agent running?)"));
    *port = static_cast<int>(wanted);
  }
  *thread = std::thread([&http] { http.listen_after_bind(); });
  // stop() can only stop a server that runs.
  for (int i = 0; i < 5000 && !http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return absl::OkStatus();
}

}  // namespace wsgate::agent
