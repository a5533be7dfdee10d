// File: agent/jwks_fetcher.h — keeps every identity provider's JWKS fresh (issue 14 item 6). One
// background thread, so fetching never blocks admin RPCs or the pusher: it fetches each
// provider's jwks_url with libcurl (connect and total timeouts, a body size limit, http/https
// only, no redirects), converts the keys (agent/jwk.h) and records them in the catalog; a changed
// key set is a data-plane change, so the pusher sends engines a snapshot with it. Refresh follows
// Cache-Control max-age within bounds; a failure is logged, counted
// (wsgate_agent_jwks_fetch_failures_total) and retried with backoff (agent/jwks_schedule.h)
// while the last good keys stay in use. A new provider or a changed URL is fetched at once.
//
//   JwksFetcher fetcher(catalog, {});
//   catalog.SetChangeListener([&](uint64_t) { pusher.Notify(); fetcher.Notify(); });
//   fetcher.Start();  ...  fetcher.Stop();
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "agent/catalog.h"
#include "agent/jwks_schedule.h"

namespace wsgate::agent {

struct JwksFetchOptions {
  JwksBounds bounds;
  int64_t connect_timeout_ms = 5000;
  int64_t total_timeout_ms = 10000;
  size_t max_body_bytes = 1 << 20;
};

// One HTTP GET's outcome.
struct JwksResponse {
  std::string error;  // empty on a 200 whose body arrived whole
  std::string body;
  std::string cache_control;
};

class JwksFetcher {
 public:
  JwksFetcher(Catalog& catalog, JwksFetchOptions options);
  ~JwksFetcher();
  void Start();
  void Stop();
  // The providers may have changed: re-read them now.
  void Notify();
  // Failed fetches since start, by provider name.
  std::map<std::string, uint64_t> Failures() const;
  // One GET of `url` with the options' limits (exposed for tests); aborts when `stop` turns true.
  static JwksResponse Get(const std::string& url, const JwksFetchOptions& options, const std::atomic<bool>* stop);

 private:
  struct Provider {
    std::string url;
    JwksSchedule schedule;
    int64_t next_ms = 0;  // 0: fetch at once
  };
  void Run();
  void FetchOne(const std::string& name, Provider& p);

  Catalog& catalog_;
  JwksFetchOptions options_;
  std::map<std::string, Provider> providers_;  // by name; the thread's own
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
  std::atomic<bool> stopping_{false};
  std::map<std::string, uint64_t> failures_;  // guarded by mu_
  std::thread thread_;
};

// The fetcher's Prometheus series: wsgate_agent_jwks_fetch_failures_total{idp} (since start) and
// wsgate_agent_idp_keys{idp} (keys in the last good set).
std::string RenderJwksMetrics(Catalog& catalog, const JwksFetcher& fetcher);

}  // namespace wsgate::agent
