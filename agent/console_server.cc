// File: agent/console_server.cc
#include "agent/console_server.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "agent/http_listen.h"

namespace wsgate::agent {
namespace {

// The console's own files, plus WebSockets to any gateway (Try it), nothing else; no framing.
constexpr const char* kSecurityPolicy =
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'";

void Harden(httplib::Response& res) {
  res.set_header("Content-Security-Policy", kSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
}

}  // namespace

ConsoleServer::ConsoleServer(JsonApi& api, ConsoleLimits limits) : api_(api), limits_(limits) {}

ConsoleServer::~ConsoleServer() { Stop(); }

absl::Status ConsoleServer::Start(const std::string& listen, const std::string& tls_cert, const std::string& tls_key) {
  if (tls_cert.empty()) {
    http_ = std::make_unique<httplib::Server>();
  } else {
    auto https = std::make_unique<httplib::SSLServer>(tls_cert.c_str(), tls_key.c_str());
    if (!https->is_valid())
      return absl::InvalidArgumentError(
          absl::StrCat("--console-listen: cannot serve TLS with --tls-cert ", tls_cert, " and --tls-key ", tls_key));
    http_ = std::move(https);
  }
  const int workers = limits_.workers;
  http_->new_task_queue = [workers] { return new httplib::ThreadPool(static_cast<size_t>(workers)); };
  http_->set_payload_max_length(limits_.max_body);
  http_->set_read_timeout(limits_.timeout_s, 0);
  http_->set_write_timeout(limits_.timeout_s, 0);
  http_->set_tcp_nodelay(true);

  auto api = [this](const httplib::Request& req, httplib::Response& res) {
    // Only the URL's query: httplib also puts a form-encoded body into req.params (curl -d
    // sends that content type), and the body here is always JSON.
    QueryParams query;
    if (size_t q = req.target.find('?'); q != std::string::npos) {
      httplib::Params params;
      httplib::detail::parse_query_text(req.target.substr(q + 1), params);
      query.insert(params.begin(), params.end());
    }
    // The path as sent: httplib decodes req.path, which would turn a topic's %2F into a separator.
    std::string raw_path = req.target.substr(0, req.target.find('?'));
    HttpAnswer a = api_.Handle(req.method, raw_path, query, req.body, req.get_header_value("Authorization"),
                               absl::StrCat(req.remote_addr, ":", req.remote_port));
    res.status = a.status;
    for (auto& [name, value] : a.headers) res.set_header(name, value);
    res.set_header("Cache-Control", "no-store");
    Harden(res);
    res.set_content(a.body, a.content_type);
  };
  using Register = httplib::Server& (httplib::Server::*)(const std::string&, httplib::Server::Handler);
  for (Register method : std::initializer_list<Register>{&httplib::Server::Get, &httplib::Server::Post,
                                                         &httplib::Server::Put, &httplib::Server::Patch,
                                                         &httplib::Server::Delete})
    (http_.get()->*method)("/api/.*", api);
  http_->Get(".*", [](const httplib::Request& req, httplib::Response& res) {
    Harden(res);
    const ConsoleAsset* asset = FindConsoleAsset(req.path);
    if (asset == nullptr) {
      res.status = 404;
      res.set_content(absl::StrCat("Not Found: ", req.path, " (the console is at /)\n"), "text/plain; charset=utf-8");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(asset->body), std::string(asset->content_type));
  });
  // Answers httplib makes itself (a body over the limit, a malformed request), in JSON.
  http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = res.status == 413 ? "body: larger than the console's limit"
                          : "malformed HTTP request (POST, PUT and PATCH need a Content-Length, even 0)";
    res.set_content(JsonError(res.status, res.status == 413 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT", message),
                    "application/json");
  });
  return BindAndServe(*http_, "console-listen", listen, /*allow_remote=*/true, "", &port_, &thread_);
}

void ConsoleServer::Stop() {
  if (!http_) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

}  // namespace wsgate::agent
