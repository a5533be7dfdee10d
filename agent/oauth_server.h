// File: agent/oauth_server.h
//
// The agent's OAuth2 endpoint (HTTP/1.1, loopback by default):
//   POST /oauth2/token            client_credentials grant (RFC 6749 §4.4), client authenticated
//                                 with HTTP Basic (or client_id/client_secret in the body)
//   POST /oauth2/revoke           token revocation (RFC 7009)
//   GET  /.well-known/jwks.json   the public keys that verify live tokens
// so `curl -u KEY:SECRET -d grant_type=client_credentials http://127.0.0.1:9401/oauth2/token` works.
// Errors are RFC 6749 §5.2 JSON ({"error":"invalid_client",...}) with the right status; a scope
// the application was not granted is 400 invalid_scope.
//
// HTTP is cpp-httplib (chunked bodies, Expect: 100-continue, keep-alive). A pool of
// `OAuthLimits::workers` threads serves connections; every request (head and body) must arrive
// within `request_deadline`, whatever the pace of its bytes, so slow clients hold a worker for at
// most that long and cannot lock others out. Failed client authentication is logged (rate
// limited, with the peer address) and limited: past `max_failures_per_client` failures for one
// client id, or `max_failures_per_address` from one address, within `failure_window`, every
// attempt with that key gets 429 temporarily_unavailable with Retry-After until the window ends.
// Secrets are compared as SHA-256 digests in constant time (Catalog::AuthenticateClient).
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "agent/audit_log.h"
#include "agent/catalog.h"
#include "agent/failure_limiter.h"

namespace wsgate::agent {

class PairCounters;  // metrics.h

// The HTTP response for one request, as pure logic (tested without sockets).
struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set when client authentication failed: what to log (never a secret), else empty.
  std::string audit;
};
// Failed-authentication limits HandleOAuthRequest applies (null limiters: none).
struct AuthFailureLimits {
  FailureLimiter* by_client = nullptr;
  FailureLimiter* by_address = nullptr;
  std::string_view peer_address;  // the peer's IP address, without the port
  FailureLimiter::Clock::time_point now;
};
HttpAnswer HandleOAuthRequest(Catalog& catalog, std::string_view method, std::string_view path,
                              std::string_view authorization, std::string_view content_type, std::string_view body,
                              const AuthFailureLimits& limits = {});

struct OAuthLimits {
  int workers = 64;                                      // connections served at once
  std::chrono::milliseconds request_deadline{2000};     // head + body of one request
  std::chrono::milliseconds keep_alive_idle{1000};      // wait for the next request on a connection
  int keep_alive_max = 16;                               // requests per connection
  size_t max_body = 16 * 1024;                           // larger bodies are 413
  // Failed client authentications allowed per window before further attempts get 429.
  int max_failures_per_client = 10;
  int max_failures_per_address = 50;
  std::chrono::seconds failure_window{60};
};

class OAuthServer {
 public:
  explicit OAuthServer(Catalog& catalog, OAuthLimits limits = {});
  // Counts every answer by (endpoint, status) for the agent's metrics (metrics.h). Before Start().
  void CountInto(PairCounters* counters) { counters_ = counters; }
  ~OAuthServer();

  // Serves HTTPS (OpenSSL 3, TLS 1.2+) with this PEM chain and key; before Start(). The TLS
  // handshake counts against the request deadline like the request itself.
  absl::Status EnableTls(const std::string& cert_pem, const std::string& key_pem);
  // "127.0.0.1:9401"; port 0 picks one (see port()). An address in use is an error (no
  // SO_REUSEPORT: a second agent cannot share the port).
  absl::Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  class Http;

  Catalog& catalog_;
  PairCounters* counters_ = nullptr;
  OAuthLimits limits_;
  RateLimitedLog auth_failures_{"OAuth2 client authentication failed"};
  FailureLimiter failures_by_client_{{limits_.max_failures_per_client, limits_.failure_window}};
  FailureLimiter failures_by_address_{{limits_.max_failures_per_address, limits_.failure_window}};
  struct TlsContext;  // OpenSSL's SSL_CTX
  std::shared_ptr<TlsContext> tls_;
  std::unique_ptr<Http> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace wsgate::agent
