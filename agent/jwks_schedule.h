// File: agent/jwks_schedule.h — the pure rules of fetching an identity provider's JWKS (issue 14
// item 6): which URLs may be fetched, how long an answer stays fresh (Cache-Control max-age,
// bounded), and when to retry a failure (bounded exponential backoff). Times are passed in, so
// tests run them on a fake clock; agent/jwks_fetcher.h does the I/O.
//
//   JwksSchedule s(bounds);
//   int64_t next = ok ? s.OnSuccess(now_ms, cache_control) : s.OnFailure(now_ms);
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace wsgate::agent {

// https:// anywhere; http:// only to a loopback host (localhost, 127.0.0.0/8, [::1]), since keys
// fetched in the clear decide who gets in. INVALID_ARGUMENT "jwks_url: ..." otherwise.
absl::Status CheckJwksUrl(std::string_view url);

// The max-age of a Cache-Control header value, in seconds; 0 for no-cache / no-store /
// must-revalidate without max-age; nullopt when it says nothing (or is malformed).
std::optional<int64_t> ParseMaxAge(std::string_view cache_control);

struct JwksBounds {
  int64_t min_refresh_s = 60;        // an answer is fresh at least this long (even max-age=0)
  int64_t max_refresh_s = 24 * 3600;  // and at most this long
  int64_t default_refresh_s = 3600;  // without a usable Cache-Control
  int64_t first_retry_s = 2;         // a failure is retried after this, doubling per failure
  int64_t max_retry_s = 300;         // up to this
};

class JwksSchedule {
 public:
  explicit JwksSchedule(JwksBounds bounds = {}) : bounds_(bounds) {}
  // When to fetch next (Unix ms) after a good answer with this Cache-Control ("" when absent).
  int64_t OnSuccess(int64_t now_ms, std::string_view cache_control);
  // After a failure: first_retry_s, doubled per consecutive failure, capped at max_retry_s.
  int64_t OnFailure(int64_t now_ms);
  int failures() const { return failures_; }

 private:
  JwksBounds bounds_;
  int failures_ = 0;
};

}  // namespace wsgate::agent
