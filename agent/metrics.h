// File: agent/metrics.h
//
// The agent's Prometheus endpoint (--metrics-listen, loopback only unless
// --metrics-allow-remote): GET /metrics in the text exposition format, on its own cpp-httplib
// listener. It serves admin RPCs by method and code (counted by the Admin interceptor,
// admin_audit.h), OAuth requests by endpoint and status, tokens issued by grant and key type, each engine's reachability, config lag (versions), seconds since its last
// acknowledged push and last error, the catalog's size, and build info.
//
//   PairCounters rpcs;                        // given to AuditInterceptors(catalog, &rpcs)
//   MetricsServer metrics(catalog, pusher, rpcs);
//   WSGATE_RETURN_IF_ERROR(metrics.Start("127.0.0.1:9402", /*allow_remote=*/false));
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "agent/catalog.h"
#include "agent/pusher.h"

namespace httplib {
class Server;
}

namespace wsgate::agent {

class JwksFetcher;

// Counts by a pair of bounded labels: Admin RPCs by (method, code name) — the Admin service's
// methods, gRPC's codes — and OAuth requests by (endpoint, HTTP status).
class PairCounters {
 public:
  void Add(const std::string& method, const std::string& code);
  std::map<std::pair<std::string, std::string>, uint64_t> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> counts_ ABSL_GUARDED_BY(mu_);
};

// The exposition text (pure but for the catalog and pusher reads): what GET /metrics answers.
// `oauth` may be null (no OAuth endpoint).
std::string RenderAgentMetrics(Catalog& catalog, Pusher& pusher, const PairCounters& rpcs, const PairCounters* oauth,
                               int64_t now_unix_ms);

// The endpoint label of an OAuth request path: one of the served paths, else "other".
std::string OAuthEndpoint(const std::string& path);

class MetricsServer {
 public:
  MetricsServer(Catalog& catalog, Pusher& pusher, const PairCounters& rpcs, const PairCounters* oauth);
  ~MetricsServer();
  // "HOST:PORT" (port 0 picks one). INVALID_ARGUMENT for a non-loopback host without
  // allow_remote; UNAVAILABLE when it cannot bind.
  absl::Status Start(const std::string& listen, bool allow_remote);
  void Stop();
  int port() const { return port_; }
  // Issue 14 item 6: also serve the JWKS fetcher's series (RenderJwksMetrics, jwks_fetcher.h).
  void SetJwksFetcher(const JwksFetcher* fetcher) { jwks_ = fetcher; }

 private:
  Catalog& catalog_;
  Pusher& pusher_;
  const PairCounters& rpcs_;
  const PairCounters* oauth_;
  const JwksFetcher* jwks_ = nullptr;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace wsgate::agent
