// File: agent/http_listen.h — binding one of the agent's cpp-httplib servers (metrics, console)
// to a HOST:PORT flag value and serving it on its own thread, with the same checks and errors.
#pragma once

#include <string>
#include <thread>

#include "absl/status/status.h"

namespace httplib {
class Server;
}

namespace wsgate::agent {

// Binds `http` to `listen` ("127.0.0.1:9443", "[::1]:0"; port 0 picks one, returned in *port)
// and runs it on *thread until http.stop(). `flag` names the flag in errors. A non-local
// address (listen_policy.h's IsLocalAddress) is refused unless `allow_remote`, with `remote_hint` saying why and what to add.
// SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second agent share
// the port and take half the requests.
absl::Status BindAndServe(httplib::Server& http, const std::string& flag, const std::string& listen,
                          bool allow_remote, const std::string& remote_hint, int* port, std::thread* thread);

}  // namespace wsgate::agent
