// File: agent/oauth_server.cc
#include "agent/oauth_server.h"

#include "agent/metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/json.h"
#include "engine/common/absl_compat.h"
#include "engine/common/base64.h"
#include "engine/http/url.h"

namespace wsgate::agent {
namespace {

HttpAnswer Error(int status, std::string_view error, std::string_view description) {
  HttpAnswer a;
  a.status = status;
  a.body = DumpJson({{"error", std::string(error)}, {"error_description", std::string(description)}});
  a.headers = {{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}};
  if (status == 401) a.headers.emplace_back("WWW-Authenticate", "Basic realm=\"wsgate\"");
  return a;
}

struct FormValue {
  bool present = false;
  bool repeated = false;
  std::string value;
};

FormValue Form(std::string_view body, std::string_view key) {
  engine::http::QueryValue v = engine::http::FindQueryParam(body, key);
  return FormValue{v.count > 0, v.count > 1, std::move(v.value)};
}

// The client's credentials: HTTP Basic (RFC 6749 §2.3.1) or, failing that, the body.
bool ClientCredentials(std::string_view authorization, std::string_view body, std::string* id, std::string* secret,
                       std::string* problem) {
  if (!authorization.empty()) {
    if (authorization.size() < 6 || !absl::EqualsIgnoreCase(absl::string_view(authorization.data(), 6), "basic ")) {
      *problem = "only HTTP Basic client authentication is supported";
      return false;
    }
    std::string_view b64 = authorization.substr(6);
    // Standard base64 → base64url for the shared decoder.
    std::string url(b64);
    while (!url.empty() && url.back() == '=') url.pop_back();
    for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
    std::string decoded;
    size_t colon;
    if (!common::Base64UrlDecode(url, &decoded) || (colon = decoded.find(':')) == std::string::npos) {
      *problem = "malformed Basic credentials";
      return false;
    }
    *id = engine::http::PercentDecode(decoded.substr(0, colon), false);
    *secret = engine::http::PercentDecode(decoded.substr(colon + 1), false);
    return true;
  }
  FormValue cid = Form(body, "client_id"), csecret = Form(body, "client_secret");
  if (!cid.present || !csecret.present) {
    *problem = "client authentication is required (HTTP Basic with the consumer key and secret)";
    return false;
  }
  *id = cid.value;
  *secret = csecret.value;
  return true;
}

HttpAnswer TooManyFailures(int64_t retry_after_s, std::string_view who) {
  HttpAnswer a = Error(429, "temporarily_unavailable",
                       absl::StrCat("too many failed client authentications from this ", common::Sv(who),
                                    "; retry after ", retry_after_s, " s"));
  a.headers.emplace_back("Retry-After", absl::StrCat(retry_after_s));
  return a;
}

}  // namespace

HttpAnswer HandleOAuthRequest(Catalog& catalog, std::string_view method, std::string_view path,
                              std::string_view authorization, std::string_view content_type, std::string_view body,
                              const AuthFailureLimits& limits) {
  if (path == "/.well-known/jwks.json") {
    if (method != "GET") return Error(405, "invalid_request", "use GET");
    auto jwks = catalog.Jwks();
    if (!jwks.ok()) return Error(500, "server_error", std::string(jwks.status().message()));
    HttpAnswer a;
    a.body = *jwks;
    return a;
  }
  if (path != "/oauth2/token" && path != "/oauth2/revoke")
    return Error(404, "not_found", "endpoints: POST /oauth2/token, POST /oauth2/revoke, GET /.well-known/jwks.json");
  if (method != "POST") return Error(405, "invalid_request", "use POST");
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (!absl::EqualsIgnoreCase(absl::string_view(type.data(), type.size()), "application/x-www-form-urlencoded"))
    return Error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");

  // Failed authentications are limited per peer address and per client id (429 + Retry-After), so
  // a secret cannot be guessed at network speed; a locked key is refused even with the right secret.
  const std::string address_key(limits.peer_address), client_key_prefix = "client:";
  if (limits.by_address)
    if (int64_t s = limits.by_address->RetryAfter(address_key, limits.now)) {
      HttpAnswer a = TooManyFailures(s, "address");
      a.audit = absl::StrCat("refused for ", s, " s more: too many failed authentications from this address");
      return a;
    }
  auto failed = [&](const std::string* client_id) {
    if (limits.by_address) limits.by_address->RecordFailure(address_key, limits.now);
    if (limits.by_client && client_id) limits.by_client->RecordFailure(client_key_prefix + *client_id, limits.now);
  };
  std::string id, secret, problem;
  if (!ClientCredentials(authorization, body, &id, &secret, &problem)) {
    failed(nullptr);
    HttpAnswer a = Error(401, "invalid_client", problem);
    a.audit = problem;
    return a;
  }
  if (limits.by_client)
    if (int64_t s = limits.by_client->RetryAfter(client_key_prefix + id, limits.now)) {
      HttpAnswer a = TooManyFailures(s, "client");
      a.audit = absl::StrCat("client_id '", LoggableId(id), "': refused for ", s, " s more: too many failed authentications");
      return a;
    }
  auto who = catalog.AuthenticateClient(id, secret);
  if (!who.ok()) {
    failed(&id);
    HttpAnswer a = Error(401, "invalid_client", "unknown client or wrong secret");
    a.audit = absl::StrCat("client_id '", LoggableId(id), "': unknown client or wrong secret");
    return a;
  }

  if (path == "/oauth2/revoke") {
    FormValue token = Form(body, "token");
    if (!token.present || token.value.empty()) return Error(400, "invalid_request", "the token parameter is required");
    absl::Status s = catalog.RevokeTokenOfClient(id, token.value);
    if (!s.ok()) return Error(500, "server_error", std::string(s.message()));
    HttpAnswer a;  // RFC 7009 §2.2: 200 whether or not the token was valid
    a.body = "{}";
    return a;
  }

  FormValue grant = Form(body, "grant_type");
  if (!grant.present) return Error(400, "invalid_request", "the grant_type parameter is required");
  if (grant.repeated) return Error(400, "invalid_request", "grant_type appears more than once");
  if (grant.value != "client_credentials")
    return Error(400, "unsupported_grant_type", absl::StrCat("'", grant.value, "' is not supported; use client_credentials"));
  std::vector<std::string> scopes;
  FormValue scope = Form(body, "scope");
  if (scope.present)
    for (absl::string_view s : absl::StrSplit(scope.value, ' ', absl::SkipEmpty())) scopes.emplace_back(s);
  auto token = catalog.IssueTokenForClient(id, scopes);
  if (!token.ok()) {
    if (token.status().code() == absl::StatusCode::kInvalidArgument) return Error(400, "invalid_scope", std::string(token.status().message()));
    return Error(500, "server_error", std::string(token.status().message()));
  }
  HttpAnswer a;
  Json answer = {{"access_token", token->access_token()}, {"token_type", "Bearer"}, {"expires_in", token->expires_in()}};
  if (!token->scope().empty()) answer["scope"] = token->scope();
  a.body = DumpJson(answer);
  a.headers = {{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}};
  return a;
}


// ---------------------------------------------------------------------------------------------
// The HTTP server: cpp-httplib, with one change of policy. httplib bounds each read (a client that
// sends a byte now and then never times out) and keeps idle keep-alive connections on a worker for
// seconds; here the whole request must arrive within a deadline, so a worker is held at most
// `request_deadline` (+ `keep_alive_idle` between requests) by any client, however slow.

namespace {

using Clock = std::chrono::steady_clock;

// A socket stream whose reads give up at a deadline (httplib::Stream is the library's interface
// for exactly this).
// With an SSL* (HTTPS), the socket is non-blocking and every TLS read, write and the handshake
// wait in poll() for what OpenSSL asks, within the same deadline.
class DeadlineStream final : public httplib::Stream {
 public:
  explicit DeadlineStream(int fd, SSL* ssl = nullptr) : fd_(fd), ssl_(ssl) {}
  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }
  // Whether a read gave up at the deadline.
  bool timed_out() const { return timed_out_; }

  // The server side of the TLS handshake, by the deadline.
  bool Handshake() { return SslIo([this] { return SSL_accept(ssl_); }) > 0; }

  // Waits for the first byte of the next request up to `idle`.
  bool WaitForRequest(std::chrono::milliseconds idle) const { return Buffered() || Poll(POLLIN, idle); }

  bool is_readable() const override { return Buffered() || ReadableInTime(); }
  bool is_writable() const override { return Poll(POLLOUT, Left() + std::chrono::milliseconds(2000)); }
  ssize_t read(char* ptr, size_t size) override {
    if (used_ == have_) {
      ssize_t n;
      if (ssl_ != nullptr) {
        n = SslIo([&] { return SSL_read(ssl_, buf_, static_cast<int>(sizeof(buf_))); });
      } else {
        if (!ReadableInTime()) return -1;
        n = ::recv(fd_, buf_, sizeof(buf_), 0);
      }
      if (n <= 0) return n;
      used_ = 0;
      have_ = static_cast<size_t>(n);
    }
    size_t n = std::min(size, have_ - used_);
    memcpy(ptr, buf_ + used_, n);
    used_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (ssl_ != nullptr) return SslIo([&] { return SSL_write(ssl_, ptr, static_cast<int>(size)); });
    if (!is_writable()) return -1;
    return ::send(fd_, ptr, size, MSG_NOSIGNAL);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { Address(getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { Address(getsockname, ip, port); }
  socket_t socket() const override { return fd_; }

 private:
  std::chrono::milliseconds Left() const {
    return std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now()));
  }
  bool Buffered() const { return used_ < have_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0); }
  // Runs a TLS operation until it completes, fails, or the deadline (plus 2 s for writes, as
  // is_writable) passes waiting for the socket; its result, or -1.
  template <typename Op>
  int SslIo(Op op) {
    for (;;) {
      ERR_clear_error();
      int n = op();
      if (n > 0) return n;
      int err = SSL_get_error(ssl_, n);
      bool ready = err == SSL_ERROR_WANT_READ    ? ReadableInTime()
                   : err == SSL_ERROR_WANT_WRITE ? Poll(POLLOUT, Left() + std::chrono::milliseconds(2000))
                                                 : false;
      if (!ready) return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
  }
  bool ReadableInTime() const {
    if (Poll(POLLIN, Left())) return true;
    timed_out_ = Clock::now() >= deadline_;
    return false;
  }
  bool Poll(short events, std::chrono::milliseconds timeout) const {
    pollfd p{fd_, events, 0};
    int n;
    do n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    while (n < 0 && errno == EINTR);
    return n > 0 && (p.revents & (events | POLLHUP | POLLERR));
  }
  template <typename Get>
  void Address(Get get, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    char text[INET6_ADDRSTRLEN] = "";
    port = 0;
    if (get(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0 && addr.ss_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      port = ntohs(in6->sin6_port);
    }
    ip = text;
  }

  int fd_;
  SSL* ssl_;
  Clock::time_point deadline_ = Clock::now();
  mutable bool timed_out_ = false;
  char buf_[4096];
  size_t used_ = 0, have_ = 0;
};

}  // namespace

struct OAuthServer::TlsContext {
  ~TlsContext() { SSL_CTX_free(ctx); }
  SSL_CTX* ctx = nullptr;
};

class OAuthServer::Http final : public httplib::Server {
 public:
  Http(const OAuthLimits& limits, std::shared_ptr<TlsContext> tls) : limits_(limits), tls_(std::move(tls)) {}

  // httplib listens with a backlog of 5, so a burst of connections waits for SYN retries (1 s,
  // 3 s...); listen() again on the bound socket raises it.
  bool RaiseBacklog() { return ::listen(svr_sock_, 1024) == 0; }

 private:
  // Replaces httplib's per-connection loop (keep-alive + process_request) to apply the deadline.
  bool process_and_close_socket(socket_t sock) override {
    SSL* ssl = nullptr;
    if (tls_ != nullptr) {
      ssl = SSL_new(tls_->ctx);
      fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
      if (ssl == nullptr || SSL_set_fd(ssl, sock) != 1) {
        SSL_free(ssl);
        ::close(sock);
        return false;
      }
    }
    bool ok = Serve(sock, ssl);
    if (ssl != nullptr) {
      if (ok) SSL_shutdown(ssl);  // close_notify, best effort (non-blocking)
      SSL_free(ssl);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  bool Serve(socket_t sock, SSL* ssl) {
    DeadlineStream stream(sock, ssl);
    stream.set_deadline(Clock::now() + limits_.request_deadline);
    if (ssl != nullptr && !stream.Handshake()) return false;
    bool ok = true;
    for (int n = 0; n < limits_.keep_alive_max && svr_sock_ != INVALID_SOCKET; ++n) {
      if (n > 0 && !stream.WaitForRequest(limits_.keep_alive_idle)) break;
      stream.set_deadline(Clock::now() + limits_.request_deadline);
      bool closed = false;
      ok = process_request(stream, /*close_connection=*/n + 1 == limits_.keep_alive_max, closed, nullptr);
      // A client too slow for the deadline gets no second chance on this connection.
      if (!ok || closed || stream.timed_out()) break;
    }
    return ok;
  }

  const OAuthLimits limits_;
  const std::shared_ptr<TlsContext> tls_;
};

OAuthServer::OAuthServer(Catalog& catalog, OAuthLimits limits) : catalog_(catalog), limits_(limits) {}

OAuthServer::~OAuthServer() { Stop(); }

absl::Status OAuthServer::EnableTls(const std::string& cert_pem, const std::string& key_pem) {
  auto tls = std::make_shared<TlsContext>();
  tls->ctx = SSL_CTX_new(TLS_server_method());
  if (tls->ctx == nullptr) return absl::InternalError("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
  auto error = [](const char* what) {
    char text[256] = "";
    ERR_error_string_n(ERR_get_error(), text, sizeof(text));
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", text));
  };
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())),
                                                     &BIO_free);
  X509* leaf = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr || SSL_CTX_use_certificate(tls->ctx, leaf) != 1) {
    X509_free(leaf);
    return error("certificate");
  }
  X509_free(leaf);
  while (X509* chain = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr))
    SSL_CTX_add_extra_chain_cert(tls->ctx, chain);  // takes ownership
  ERR_clear_error();                                // the end of the chain reads as an error
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())),
                                                    &BIO_free);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  bool key_ok = key != nullptr && SSL_CTX_use_PrivateKey(tls->ctx, key) == 1;
  EVP_PKEY_free(key);
  if (!key_ok) return error("private key");
  if (SSL_CTX_check_private_key(tls->ctx) != 1) return error("the private key does not match the certificate");
  tls_ = std::move(tls);
  return absl::OkStatus();
}

absl::Status OAuthServer::Start(const std::string& listen) {
  size_t colon = listen.rfind(':');
  uint32_t port = 0;
  in_addr ignored;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port > 65535 ||
      inet_pton(AF_INET, listen.substr(0, colon).c_str(), &ignored) != 1)
    return absl::InvalidArgumentError(absl::StrCat("--token-listen: '", listen, "' needs IPV4_ADDRESS:PORT"));
  http_ = std::make_unique<Http>(limits_, tls_);
  const OAuthLimits limits = limits_;
  http_->new_task_queue = [limits] { return new httplib::ThreadPool(static_cast<size_t>(limits.workers)); };
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second agent share
  // the port and take half the requests.
  http_->set_socket_options([](socket_t sock) {
    int one = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  });
  http_->set_payload_max_length(limits_.max_body);
  // The socket timeouts httplib sets on each connection; the deadline (DeadlineStream) is tighter.
  http_->set_read_timeout(limits_.request_deadline);
  http_->set_write_timeout(limits_.request_deadline);
  // httplib sends the head and the body in two writes: without this, Nagle and delayed ACKs
  // stall every answer on a keep-alive connection by 40 ms.
  http_->set_tcp_nodelay(true);
  http_->set_keep_alive_max_count(static_cast<size_t>(limits_.keep_alive_max));
  http_->set_keep_alive_timeout(std::chrono::ceil<std::chrono::seconds>(limits_.keep_alive_idle).count());
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    AuthFailureLimits failure_limits{&failures_by_client_, &failures_by_address_, req.remote_addr,
                                     FailureLimiter::Clock::now()};
    HttpAnswer a = HandleOAuthRequest(catalog_, req.method, req.path, req.get_header_value("Authorization"),
                                      req.get_header_value("Content-Type"), req.body, failure_limits);
    if (!a.audit.empty()) auth_failures_.Warn(absl::StrCat("peer ", req.remote_addr, ":", req.remote_port, ": ", a.audit));
    res.status = a.status;
    if (counters_ != nullptr) counters_->Add(OAuthEndpoint(req.path), std::to_string(a.status));
    for (auto& [name, value] : a.headers) res.set_header(name, value);
    res.set_content(a.body, a.content_type);
  };
  using Register = httplib::Server& (httplib::Server::*)(const std::string&, httplib::Server::Handler);
  for (Register method : std::initializer_list<Register>{&httplib::Server::Get, &httplib::Server::Post,
                                                         &httplib::Server::Put, &httplib::Server::Patch,
                                                         &httplib::Server::Delete, &httplib::Server::Options})
    (http_.get()->*method)(".*", handler);
  // Answers httplib makes itself (a body over the limit, a malformed request) in the same JSON.
  http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    HttpAnswer a = Error(res.status, "invalid_request", res.status == 413 ? "request body too large" : "malformed request");
    res.set_content(a.body, a.content_type);
  });
  std::string host = listen.substr(0, colon);
  if (port == 0) {
    port_ = http_->bind_to_any_port(host);
    if (port_ <= 0) return absl::UnavailableError(absl::StrCat("--token-listen ", listen, ": ", strerror(errno)));
  } else {
    if (!http_->bind_to_port(host, static_cast<int>(port)))
      return absl::UnavailableError(absl::StrCat("--token-listen ", listen, ": ", strerror(errno),
                                                 " (is another wsgate-agent running?)"));
    port_ = static_cast<int>(port);
  }
  if (!http_->RaiseBacklog()) return absl::InternalError(absl::StrCat("--token-listen ", listen, ": ", strerror(errno)));
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // Stop() can only stop a server that runs.
  for (int i = 0; i < 5000 && !http_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return absl::OkStatus();
}

void OAuthServer::Stop() {
  if (!http_) return;
  http_->stop();  // closes the listener; workers finish their requests (bounded by the deadline)
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

}  // namespace wsgate::agent
