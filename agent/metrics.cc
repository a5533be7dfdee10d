// File: agent/metrics.cc
#include "agent/metrics.h"
#include "agent/jwks_fetcher.h"

#include <httplib.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/http_listen.h"

namespace wsgate::agent {
namespace {

// A label value with \, " and newline escaped (the exposition format's rule).
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Head(std::string& out, const char* name, const char* type, const char* help) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}


}  // namespace

void PairCounters::Add(const std::string& method, const std::string& code) {
  std::lock_guard lock(mu_);
  ++counts_[{method, code}];
}

std::map<std::pair<std::string, std::string>, uint64_t> PairCounters::Snapshot() const {
  std::lock_guard lock(mu_);
  return counts_;
}

std::string OAuthEndpoint(const std::string& path) {
  for (const char* known : {"/oauth2/token", "/oauth2/revoke", "/.well-known/jwks.json"}) {
    if (path == known) return known;
  }
  return "other";
}

std::string RenderAgentMetrics(Catalog& catalog, Pusher& pusher, const PairCounters& rpcs, const PairCounters* oauth,
                               int64_t now_unix_ms) {
  std::string out;
  Head(out, "wsgate_agent_build_info", "gauge", "Build of this agent (always 1).");
  absl::StrAppend(&out, "wsgate_agent_build_info{version=\"", Label(WSGATE_VERSION), "\"} 1\n");
  Head(out, "wsgate_agent_admin_rpcs_total", "counter", "Admin API calls answered, by method and gRPC status code.");
  for (const auto& [key, n] : rpcs.Snapshot())
    absl::StrAppend(&out, "wsgate_agent_admin_rpcs_total{method=\"", Label(key.first), "\",code=\"", Label(key.second),
                    "\"} ", n, "\n");
  std::map<std::pair<std::string, std::string>, uint64_t> oauth_counts;
  if (oauth != nullptr) oauth_counts = oauth->Snapshot();
  Head(out, "wsgate_agent_oauth_requests_total", "counter", "OAuth2 endpoint requests, by endpoint and HTTP status.");
  for (const auto& [key, n] : oauth_counts)
    absl::StrAppend(&out, "wsgate_agent_oauth_requests_total{endpoint=\"", Label(key.first), "\",status=\"",
                    Label(key.second), "\"} ", n, "\n");
  // Tokens issued, counted where the catalog signs them; every (grant, key type) pair is shown,
  // zero until the first, so rate() has a series from the start.
  std::map<std::pair<std::string, std::string>, uint64_t> tokens;
  for (const char* grant : {"admin", "client_credentials"})
    for (const char* type : {"PRODUCTION", "SANDBOX"}) tokens[{grant, type}] = 0;
  for (const auto& [key, n] : catalog.TokensIssued()) tokens[key] = n;
  Head(out, "wsgate_agent_tokens_issued_total", "counter",
       "Access tokens issued, by grant (admin: IssueToken; client_credentials: the OAuth2 endpoint) and key type.");
  for (const auto& [key, n] : tokens)
    absl::StrAppend(&out, "wsgate_agent_tokens_issued_total{grant=\"", Label(key.first), "\",key_type=\"",
                    Label(key.second), "\"} ", n, "\n");
  Head(out, "wsgate_agent_config_version", "gauge", "The catalog's current config version.");
  absl::StrAppend(&out, "wsgate_agent_config_version ", catalog.config_version(), "\n");
  Head(out, "wsgate_agent_catalog_objects", "gauge", "Objects in the catalog, by kind.");
  auto apis = catalog.ListApis("");
  auto apps = catalog.ListApplications();
  auto subs = catalog.ListSubscriptions("", "");
  if (apis.ok()) absl::StrAppend(&out, "wsgate_agent_catalog_objects{kind=\"apis\"} ", apis->size(), "\n");
  if (apps.ok()) absl::StrAppend(&out, "wsgate_agent_catalog_objects{kind=\"applications\"} ", apps->size(), "\n");
  if (subs.ok()) absl::StrAppend(&out, "wsgate_agent_catalog_objects{kind=\"subscriptions\"} ", subs->size(), "\n");
  std::vector<v1::EngineInfo> engines = pusher.Status();
  Head(out, "wsgate_agent_engine_up", "gauge", "1 when the engine answered the last status poll.");
  for (const auto& e : engines)
    absl::StrAppend(&out, "wsgate_agent_engine_up{engine=\"", Label(e.target()), "\"} ", e.reachable() ? 1 : 0, "\n");
  Head(out, "wsgate_agent_engine_config_lag_versions", "gauge",
       "Config versions the engine is behind the catalog (push lag).");
  for (const auto& e : engines)
    absl::StrAppend(&out, "wsgate_agent_engine_config_lag_versions{engine=\"", Label(e.target()), "\"} ", e.lag(), "\n");
  Head(out, "wsgate_agent_engine_last_ack_age_seconds", "gauge",
       "Seconds since the engine last acknowledged a pushed config (absent before the first push).");
  for (const auto& e : engines) {
    if (e.last_ack_unix_ms() == 0) continue;
    absl::StrAppend(&out, "wsgate_agent_engine_last_ack_age_seconds{engine=\"", Label(e.target()), "\"} ",
                    static_cast<double>(now_unix_ms - e.last_ack_unix_ms()) / 1000.0, "\n");
  }
  Head(out, "wsgate_agent_engine_last_error_info", "gauge",
       "The engine's last push or poll error (1; absent when the last attempt succeeded).");
  for (const auto& e : engines) {
    if (e.last_error().empty()) continue;
    absl::StrAppend(&out, "wsgate_agent_engine_last_error_info{engine=\"", Label(e.target()), "\",error=\"",
                    Label(e.last_error().substr(0, 200)), "\"} 1\n");
  }
  return out;
}

MetricsServer::MetricsServer(Catalog& catalog, Pusher& pusher, const PairCounters& rpcs, const PairCounters* oauth)
    : catalog_(catalog), pusher_(pusher), rpcs_(rpcs), oauth_(oauth) {}

MetricsServer::~MetricsServer() { Stop(); }

absl::Status MetricsServer::Start(const std::string& listen, bool allow_remote) {
  http_ = std::make_unique<httplib::Server>();
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string text = RenderAgentMetrics(catalog_, pusher_, rpcs_, oauth_, now_ms);
    if (jwks_ != nullptr) text += RenderJwksMetrics(catalog_, *jwks_);
    res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
  });
  return BindAndServe(*http_, "metrics-listen", listen, allow_remote,
                      "the metrics name engines and APIs: add --metrics-allow-remote to serve them off the host", &port_,
                      &thread_);
}

void MetricsServer::Stop() {
  if (!http_) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

}  // namespace wsgate::agent
