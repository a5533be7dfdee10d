// File: agent/jwks_fetcher.cc
#include "agent/jwks_fetcher.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/catalog_internal.h"
#include "agent/jwk.h"
#include "engine/common/log.h"

namespace wsgate::agent {
namespace {

struct Transfer {
  JwksResponse* out;
  size_t limit;
  bool too_big = false;
  const std::atomic<bool>* stop;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (t->out->body.size() + bytes > t->limit) {
    t->too_big = true;
    return 0;  // aborts the transfer
  }
  t->out->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.size() > 14 && absl::EqualsIgnoreCase(line.substr(0, 14), "cache-control:"))
    t->out->cache_control = std::string(absl::StripAsciiWhitespace(line.substr(14)));
  if (absl::StartsWith(line, "HTTP/")) t->out->cache_control.clear();  // a new response (after a 100)
  return size * n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->stop != nullptr && t->stop->load() ? 1 : 0;
}

}  // namespace

JwksResponse JwksFetcher::Get(const std::string& url, const JwksFetchOptions& options, const std::atomic<bool>* stop) {
  JwksResponse out;
  if (absl::Status s = CheckJwksUrl(url); !s.ok()) {
    out.error = std::string(s.message());
    return out;
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    out.error = "curl_easy_init failed";
    return out;
  }
  Transfer t{&out, options.max_body_bytes, false, stop};
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is an error: the URL is the trust anchor
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_body_bytes));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "wsgate-agent");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
    out.error = absl::StrCat("the JWKS is larger than ", options.max_body_bytes, " bytes");
  } else if (rc != CURLE_OK) {
    out.error = error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(rc));
  } else if (status != 200) {
    out.error = absl::StrCat("HTTP ", status, " (want 200)");
  }
  if (!out.error.empty()) out.body.clear();
  return out;
}

JwksFetcher::JwksFetcher(Catalog& catalog, JwksFetchOptions options) : catalog_(catalog), options_(options) {}

JwksFetcher::~JwksFetcher() { Stop(); }

void JwksFetcher::Start() {
  curl_global_init(CURL_GLOBAL_DEFAULT);  // before any thread uses curl
  thread_ = std::thread([this] { Run(); });
}

void JwksFetcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    curl_global_cleanup();
  }
}

void JwksFetcher::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

std::map<std::string, uint64_t> JwksFetcher::Failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void JwksFetcher::FetchOne(const std::string& name, Provider& p) {
  JwksResponse r = Get(p.url, options_, &stopping_);
  if (stopping_) return;
  int64_t now = catalog_internal::NowMs();
  std::string error = r.error;
  std::vector<v1::SigningKey> keys;
  if (error.empty()) {
    std::vector<std::string> skipped;
    absl::StatusOr<std::vector<v1::SigningKey>> parsed = ParseJwks(r.body, &skipped);
    if (!parsed.ok()) error = std::string(parsed.status().message());
    else keys = *std::move(parsed);
    if (parsed.ok() && !skipped.empty())
      WSGATE_LOG(kWarning, "idp %s: JWKS keys skipped: %s", name, absl::StrJoin(skipped, "; "));
  }
  absl::Status recorded;
  if (error.empty()) {
    p.next_ms = p.schedule.OnSuccess(now, r.cache_control);
    recorded = catalog_.RecordIdpFetch(name, p.url, &keys, "", p.next_ms);
  } else {
    p.next_ms = p.schedule.OnFailure(now);
    {
      std::lock_guard lock(mu_);
      ++failures_[name];
    }
    WSGATE_LOG(kWarning, "idp %s: fetching %s failed (%d in a row; keeping the last good keys; retry in %ds): %s", name,
               p.url, p.schedule.failures(), static_cast<int>((p.next_ms - now) / 1000), error);
    recorded = catalog_.RecordIdpFetch(name, p.url, nullptr, error, p.next_ms);
  }
  if (!recorded.ok()) WSGATE_LOG(kWarning, "idp %s: recording the fetch: %s", name, std::string(recorded.message()));
}

void JwksFetcher::Run() {
  while (!stopping_) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> targets = catalog_.IdpFetchTargets();
    if (targets.ok()) {
      std::map<std::string, Provider> next;
      for (const auto& [name, url] : *targets) {
        auto it = providers_.find(name);
        if (it != providers_.end() && it->second.url == url) next.emplace(name, std::move(it->second));
        else next[name] = Provider{url, JwksSchedule(options_.bounds), 0};
      }
      providers_ = std::move(next);
    }
    for (auto& [name, p] : providers_) {
      if (stopping_) return;
      if (p.next_ms <= catalog_internal::NowMs()) FetchOne(name, p);
    }
    int64_t wake = catalog_internal::NowMs() + 60000;
    for (const auto& [name, p] : providers_) wake = std::min(wake, p.next_ms);
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wake - catalog_internal::NowMs(), 0)),
                 [&] { return stopping_ || notified_; });
    notified_ = false;
  }
}

std::string RenderJwksMetrics(Catalog& catalog, const JwksFetcher& fetcher) {
  absl::StatusOr<std::vector<v1::IdentityProviderInfo>> idps = catalog.ListIdentityProviders();
  if (!idps.ok()) return "";
  std::map<std::string, uint64_t> failures = fetcher.Failures();
  std::string out =
      "# HELP wsgate_agent_jwks_fetch_failures_total Failed JWKS fetches of an identity provider since the agent "
      "started (its last good keys stay in use).\n# TYPE wsgate_agent_jwks_fetch_failures_total counter\n";
  for (const auto& p : *idps)  // names are [A-Za-z0-9._-]: nothing to escape
    absl::StrAppend(&out, "wsgate_agent_jwks_fetch_failures_total{idp=\"", p.spec().name(), "\"} ",
                    failures[p.spec().name()], "\n");
  absl::StrAppend(&out, "# HELP wsgate_agent_idp_keys Keys in an identity provider's last good JWKS.\n",
                  "# TYPE wsgate_agent_idp_keys gauge\n");
  for (const auto& p : *idps)
    absl::StrAppend(&out, "wsgate_agent_idp_keys{idp=\"", p.spec().name(), "\"} ", p.keys_size(), "\n");
  return out;
}

}  // namespace wsgate::agent
