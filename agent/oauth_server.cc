// File: agent/oauth_server.cc
#include "agent/oauth_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/base64.h"
#include "engine/common/log.h"
#include "engine/http/request_parser.h"
#include "engine/http/url.h"

namespace wsgate::agent {
namespace {

constexpr size_t kMaxBody = 16 * 1024;
constexpr int kMaxActive = 64;
constexpr int kIoTimeoutMs = 10000;

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrCat("\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

HttpAnswer Error(int status, std::string_view error, std::string_view description) {
  HttpAnswer a;
  a.status = status;
  a.body = absl::StrCat(R"({"error":")", JsonEscape(error), R"(","error_description":")", JsonEscape(description), R"("})");
  a.extra_headers = "Cache-Control: no-store\r\nPragma: no-cache\r\n";
  if (status == 401) a.extra_headers += "WWW-Authenticate: Basic realm=\"wsgate\"\r\n";
  return a;
}

std::string_view StatusText(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
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

}  // namespace

HttpAnswer HandleOAuthRequest(Catalog& catalog, std::string_view method, std::string_view path,
                              std::string_view authorization, std::string_view content_type, std::string_view body) {
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

  std::string id, secret, problem;
  if (!ClientCredentials(authorization, body, &id, &secret, &problem)) return Error(401, "invalid_client", problem);
  auto who = catalog.AuthenticateClient(id, secret);
  if (!who.ok()) return Error(401, "invalid_client", "unknown client or wrong secret");

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
  a.body = absl::StrCat(R"({"access_token":")", token->access_token(), R"(","token_type":"Bearer","expires_in":)",
                        token->expires_in(), token->scope().empty() ? "" : absl::StrCat(R"(,"scope":")", JsonEscape(token->scope()), R"(")"),
                        "}");
  a.extra_headers = "Cache-Control: no-store\r\nPragma: no-cache\r\n";
  return a;
}

OAuthServer::~OAuthServer() { Stop(); }

absl::Status OAuthServer::Start(const std::string& listen) {
  size_t colon = listen.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port > 65535)
    return absl::InvalidArgumentError(absl::StrCat("--token-listen: '", listen, "' needs ADDR:PORT"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, listen.substr(0, colon).c_str(), &addr.sin_addr) != 1)
    return absl::InvalidArgumentError(absl::StrCat("--token-listen: '", listen, "' is not an IPv4 address and port"));
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 128) != 0)
    return absl::UnavailableError(absl::StrCat("--token-listen ", listen, ": ", strerror(errno)));
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void OAuthServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  while (active_.load() > 0) usleep(10000);  // connections in flight finish (bounded by their timeouts)
}

void OAuthServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (active_.fetch_add(1) >= kMaxActive) {
      static const char kBusy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ssize_t ignored = send(fd, kBusy, sizeof(kBusy) - 1, MSG_NOSIGNAL);
      (void)ignored;
      ::close(fd);
      active_.fetch_sub(1);
      continue;
    }
    std::thread([this, fd] {
      Serve(fd);
      ::close(fd);
      active_.fetch_sub(1);
    }).detach();
  }
}

void OAuthServer::Serve(int fd) {
  timeval tv{kIoTimeoutMs / 1000, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string in;
  engine::http::RequestParser parser;
  engine::http::ParseResult r;
  char buf[4096];
  HttpAnswer answer;
  while (true) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
    r = parser.Feed(in);
    if (r.kind != engine::http::ParseResult::kNeedMore) break;
  }
  if (r.kind == engine::http::ParseResult::kError) {
    answer = Error(r.status == 431 ? 400 : r.status, "invalid_request", std::string(r.reason));
  } else {
    const engine::http::Request& req = parser.request();
    size_t length = 0;
    if (const auto* h = req.Find("content-length")) {
      if (!absl::SimpleAtoi(absl::string_view(h->value.data(), h->value.size()), &length)) length = kMaxBody + 1;
    }
    if (length > kMaxBody) {
      answer = Error(413, "invalid_request", "request body too large");
    } else {
      while (in.size() < r.consumed + length) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      const auto* auth = req.Find("authorization");
      const auto* type = req.Find("content-type");
      answer = HandleOAuthRequest(catalog_, req.method, req.path, auth ? auth->value : std::string_view(),
                                  type ? type->value : std::string_view(),
                                  std::string_view(in).substr(r.consumed, length));
    }
  }
  std::string out = absl::StrCat("HTTP/1.1 ", answer.status, " ", StatusText(answer.status).data(),
                                 "\r\nContent-Type: ", answer.content_type, "\r\nContent-Length: ", answer.body.size(),
                                 "\r\nConnection: close\r\n", answer.extra_headers, "\r\n", answer.body);
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace wsgate::agent
