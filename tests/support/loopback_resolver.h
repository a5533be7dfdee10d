// A config::Resolver that needs no DNS: every host name resolves to 127.0.0.1 at the asked port.
// For tests and benchmarks that compile snapshots naming hosts like "localhost" or
// "backend.example".
#pragma once

#include <arpa/inet.h>

#include <string>
#include <vector>

#include "engine/config/compile.h"

namespace wsgate::testing {

inline absl::StatusOr<std::vector<sockaddr_storage>> ResolveToLoopback(const std::string&, uint16_t port) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return std::vector<sockaddr_storage>{ss};
}

}  // namespace wsgate::testing
