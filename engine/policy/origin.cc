// File: engine/policy/origin.cc
#include "engine/policy/origin.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::policy {
namespace {

struct Parts {
  std::string scheme, host, port;  // lower case; port "" when it is the scheme's default
};

// "scheme://host[:port]" (RFC 6454 serialization; a trailing '/' tolerated in configuration).
std::optional<Parts> Split(std::string_view origin) {
  std::string lower = absl::AsciiStrToLower(common::Sv(origin));
  size_t sep = lower.find("://");
  if (sep == std::string::npos || sep == 0) return std::nullopt;
  Parts p;
  p.scheme = lower.substr(0, sep);
  std::string rest = lower.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string::npos) return std::nullopt;
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
    p.port = rest.substr(colon + 1);
    rest.resize(colon);
    if (p.port.empty() || !std::all_of(p.port.begin(), p.port.end(), absl::ascii_isdigit)) return std::nullopt;
  }
  if (rest.empty()) return std::nullopt;
  p.host = rest;
  if ((p.port == "443" && (p.scheme == "https" || p.scheme == "wss")) ||
      (p.port == "80" && (p.scheme == "http" || p.scheme == "ws")))
    p.port.clear();
  return p;
}

std::string Join(const Parts& p) { return p.port.empty() ? p.scheme + "://" + p.host : p.scheme + "://" + p.host + ":" + p.port; }

}  // namespace

absl::StatusOr<OriginRules> OriginRules::Compile(const std::vector<std::string>& origins, bool allow_absent) {
  OriginRules r;
  r.allow_absent_ = allow_absent;
  for (size_t i = 0; i < origins.size(); ++i) {
    std::string_view o = origins[i];
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("origins[", i, "]: '", common::Sv(o), "' ", common::Sv(why)));
    };
    if (o == "*") {
      r.any_ = true;
      continue;
    }
    if (absl::EqualsIgnoreCase(common::Sv(o), "null")) {
      r.exact_.push_back("null");
      continue;
    }
    std::optional<Parts> p = Split(o);
    if (!p) {
      if (o.find("://") == std::string_view::npos) return bad("needs a scheme, e.g. https://example.com");
      return bad("is not an origin (scheme://host[:port], no path)");
    }
    if (absl::StartsWith(p->host, "*.")) {
      std::string suffix = p->host.substr(1);
      if (suffix.size() < 2 || suffix.find('*') != std::string::npos) return bad("has a wildcard that matches nothing");
      r.wildcard_.push_back({p->scheme, suffix, p->port});
    } else if (p->host.find('*') != std::string::npos) {
      return bad("may hold '*' only as its first label (https://*.example.com)");
    } else {
      r.exact_.push_back(Join(*p));
    }
  }
  return r;
}

bool OriginRules::Allows(std::optional<std::string_view> origin) const {
  if (!origin) return allow_absent_;
  if (any_ || (exact_.empty() && wildcard_.empty())) return true;
  if (absl::EqualsIgnoreCase(common::Sv(*origin), "null"))
    return std::find(exact_.begin(), exact_.end(), "null") != exact_.end();
  std::optional<Parts> p = Split(*origin);
  if (!p) return false;
  std::string joined = Join(*p);
  if (std::find(exact_.begin(), exact_.end(), joined) != exact_.end()) return true;
  for (const Wildcard& w : wildcard_)
    if (w.scheme == p->scheme && w.port == p->port && p->host.size() > w.suffix.size() &&
        absl::EndsWith(p->host, w.suffix))
      return true;
  return false;
}

}  // namespace wsgate::engine::policy
