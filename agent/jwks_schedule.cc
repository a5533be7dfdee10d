// File: agent/jwks_schedule.cc
#include "agent/jwks_schedule.h"

#include <arpa/inet.h>

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace wsgate::agent {

absl::Status CheckJwksUrl(std::string_view url_in) {
  const std::string url(url_in);
  auto bad = [](const std::string& why) { return absl::InvalidArgumentError(absl::StrCat("jwks_url: ", why)); };
  std::string lower = absl::AsciiStrToLower(url);
  bool https = absl::StartsWith(lower, "https://"), http = absl::StartsWith(lower, "http://");
  if (!https && !http) return bad("must be an https:// URL (http:// only to a loopback host)");
  std::string rest = url.substr(https ? 8 : 7);
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string::npos) return bad("must not carry user information");
  std::string host = authority;
  if (absl::StartsWith(host, "[")) {
    size_t close = host.find(']');
    if (close == std::string::npos) return bad("unterminated [IPv6] host");
    host = host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host.empty()) return bad("has no host");
  if (https) return absl::OkStatus();
  std::string h = absl::AsciiStrToLower(host);
  in_addr v4{};  // a literal 127.x.x.x, never a name that merely starts with "127."
  bool loopback = h == "localhost" || h == "[::1]" ||
                  (inet_pton(AF_INET, h.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
  if (!loopback) return bad("http:// is allowed only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://");
  return absl::OkStatus();
}

std::optional<int64_t> ParseMaxAge(std::string_view cache_control_in) {
  const std::string cache_control(cache_control_in);
  std::optional<int64_t> out;
  bool no_cache = false;
  for (absl::string_view part : absl::StrSplit(cache_control, ',')) {
    std::string d = absl::AsciiStrToLower(absl::StripAsciiWhitespace(part));
    if (d == "no-cache" || d == "no-store" || d == "must-revalidate") no_cache = true;
    if (!absl::StartsWith(d, "max-age=")) continue;
    absl::string_view value = absl::StripPrefix(d, "max-age=");
    value = absl::StripPrefix(absl::StripSuffix(value, "\""), "\"");
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(value, &seconds) || seconds < 0) return std::nullopt;  // malformed: ignore it all
    out = seconds;
  }
  if (!out && no_cache) out = 0;
  return out;
}

int64_t JwksSchedule::OnSuccess(int64_t now_ms, std::string_view cache_control) {
  failures_ = 0;
  std::optional<int64_t> max_age = ParseMaxAge(cache_control);
  int64_t s = max_age ? *max_age : bounds_.default_refresh_s;
  s = std::clamp(s, bounds_.min_refresh_s, std::max(bounds_.min_refresh_s, bounds_.max_refresh_s));
  return now_ms + s * 1000;
}

int64_t JwksSchedule::OnFailure(int64_t now_ms) {
  int64_t s = bounds_.first_retry_s;
  for (int i = 0; i < failures_ && s < bounds_.max_retry_s; ++i) s *= 2;
  ++failures_;
  return now_ms + std::min(s, bounds_.max_retry_s) * 1000;
}

}  // namespace wsgate::agent
