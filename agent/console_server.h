// File: agent/console_server.h
//
// The agent's web console and HTTP/JSON admin API (--console-listen, default 127.0.0.1:9443;
// HTTPS with the agent's --tls-cert):
//   /api/v1/...   JsonApi (json_api.h): every admin RPC, same credentials and roles as gRPC
//   /             the console: HTML, CSS and JavaScript embedded in the binary (agent/console/),
//                 no CDN and nothing fetched at run time
// cpp-httplib, as the OAuth2 endpoint: a bounded worker pool, bounded bodies and read/write
// timeouts, SO_REUSEADDR without SO_REUSEPORT (a second agent cannot share the port). Every
// answer carries a Content-Security-Policy that allows only the console's own files, plus
// WebSocket connections (the Try-it console talks to the engine), and no framing.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "agent/json_api.h"

namespace httplib {
class Server;
}

namespace wsgate::agent {

// One embedded console file (console_assets.cc is generated from agent/console/ at build time).
struct ConsoleAsset {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};
// The asset served at `path` ("/" is /index.html), or nullptr.
const ConsoleAsset* FindConsoleAsset(std::string_view path);

struct ConsoleLimits {
  int workers = 16;
  size_t max_body = 1 << 20;  // a whole catalog document fits
  int timeout_s = 10;         // per read and write
};

class ConsoleServer {
 public:
  ConsoleServer(JsonApi& api, ConsoleLimits limits = {});
  ~ConsoleServer();

  // "127.0.0.1:9443"; port 0 picks one. With `tls_cert`/`tls_key` (the agent's --tls-cert and
  // --tls-key PEM files) it serves HTTPS (OpenSSL, through cpp-httplib). Where it may listen is
  // the caller's check (listen_policy.h: off loopback only with TLS or --insecure-listen).
  absl::Status Start(const std::string& listen, const std::string& tls_cert = "", const std::string& tls_key = "");
  int port() const { return port_; }
  void Stop();

 private:
  JsonApi& api_;
  const ConsoleLimits limits_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace wsgate::agent
