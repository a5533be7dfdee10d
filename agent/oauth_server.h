// File: agent/oauth_server.h
//
// The agent's OAuth2 endpoint (HTTP/1.1, loopback by default):
//   POST /oauth2/token            client_credentials grant (RFC 6749 §4.4), client authenticated
//                                 with HTTP Basic (or client_id/client_secret in the body)
//   POST /oauth2/revoke           token revocation (RFC 7009)
//   GET  /.well-known/jwks.json   the public keys that verify live tokens
// so `curl -u KEY:SECRET -d grant_type=client_credentials http://127.0.0.1:9401/oauth2/token` works.
// Errors are RFC 6749 §5.2 JSON ({"error":"invalid_client",...}) with the right status.
//
// One acceptor thread; each connection is served on a short-lived thread (at most 64 at once,
// 10 s to send a request of at most 16 KiB head + 16 KiB body). Thread-safe.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "agent/catalog.h"

namespace wsgate::agent {

// The HTTP response for one request, as pure logic (tested without sockets).
struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string extra_headers;  // each ending in \r\n
};
HttpAnswer HandleOAuthRequest(Catalog& catalog, std::string_view method, std::string_view path,
                              std::string_view authorization, std::string_view content_type, std::string_view body);

class OAuthServer {
 public:
  explicit OAuthServer(Catalog& catalog) : catalog_(catalog) {}
  ~OAuthServer();

  // "127.0.0.1:9401"; port 0 picks one (see port()).
  absl::Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  void AcceptLoop();
  void Serve(int fd);

  Catalog& catalog_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
};

}  // namespace wsgate::agent
