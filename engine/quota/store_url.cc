// File: engine/quota/store_url.cc
#include "engine/quota/store_url.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::quota {
namespace {

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "--quota-store: '", common::Sv(text), "' ", common::Sv(why),
      " (expected local, redis://HOST:PORT[/DB] or unix:///PATH[?db=N])"));
}

bool ParseDb(std::string_view digits, int* db) {
  return !digits.empty() && digits.size() <= 5 && absl::SimpleAtoi(common::Sv(digits), db) && *db >= 0 && *db <= 15;
}

}  // namespace

std::string StoreAddress::Describe() const {
  switch (kind) {
    case kLocalOnly: return "local";
    case kTcp: return absl::StrCat("redis://", host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host, ":", port, "/", db);
    case kUnix: return absl::StrCat("unix://", path, "?db=", db);
  }
  return "?";
}

absl::StatusOr<StoreAddress> ParseStoreAddress(std::string_view text) {
  StoreAddress a;
  if (text.empty() || text == "local") return a;
  if (absl::StartsWith(common::Sv(text), "redis://")) {
    std::string_view rest = text.substr(8);
    if (absl::StrContains(common::Sv(rest), "@")) return Bad(text, "has credentials; they are not supported");
    std::string_view hostport = rest, db;
    if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
      hostport = rest.substr(0, slash);
      db = rest.substr(slash + 1);
      if (!ParseDb(db, &a.db)) return Bad(text, "has a bad database number (0-15)");
    }
    std::string_view host = hostport, port;
    if (!hostport.empty() && hostport[0] == '[') {
      size_t close = hostport.find(']');
      if (close == std::string_view::npos) return Bad(text, "has an unclosed '['");
      host = hostport.substr(1, close - 1);
      std::string_view after = hostport.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':') return Bad(text, "has text after ']'");
        port = after.substr(1);
        if (port.empty()) return Bad(text, "has an empty port");
      }
    } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon + 1);
      if (port.empty()) return Bad(text, "has an empty port");
    }
    if (host.empty()) return Bad(text, "has no host");
    for (char c : host)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' && c != '_')
        return Bad(text, "has a bad host name");
    if (!port.empty() && (!absl::SimpleAtoi(common::Sv(port), &a.port) || a.port < 1 || a.port > 65535))
      return Bad(text, "has a bad port (1-65535)");
    a.kind = StoreAddress::kTcp;
    a.host = std::string(host);
    return a;
  }
  if (absl::StartsWith(common::Sv(text), "unix://")) {
    std::string_view rest = text.substr(7);
    if (size_t q = rest.find('?'); q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      rest = rest.substr(0, q);
      if (!absl::StartsWith(common::Sv(query), "db=") || !ParseDb(query.substr(3), &a.db))
        return Bad(text, "has a bad query (only ?db=0-15)");
    }
    if (rest.empty() || rest[0] != '/') return Bad(text, "needs an absolute socket path (unix:///run/redis.sock)");
    a.kind = StoreAddress::kUnix;
    a.path = std::string(rest);
    return a;
  }
  return Bad(text, "is not a store address");
}

absl::StatusOr<Fallback> ParseFallback(std::string_view text) {
  if (text == "fail-local") return Fallback::kLocal;
  if (text == "fail-open") return Fallback::kOpen;
  if (text == "fail-closed") return Fallback::kClosed;
  return absl::InvalidArgumentError(absl::StrCat("--quota-fallback: '", common::Sv(text),
                                                 "' is not one of fail-local, fail-open, fail-closed"));
}

throttle::QuotaMode FallbackMode(Fallback f) {
  switch (f) {
    case Fallback::kLocal: return throttle::QuotaMode::kLocal;
    case Fallback::kOpen: return throttle::QuotaMode::kOpen;
    case Fallback::kClosed: return throttle::QuotaMode::kClosed;
  }
  return throttle::QuotaMode::kLocal;
}

absl::StatusOr<QuotaOptions> CompileQuotaFlags(const QuotaFlags& flags) {
  QuotaOptions o;
  auto store = ParseStoreAddress(flags.store);
  if (!store.ok()) return store.status();
  o.store = *store;
  auto fallback = ParseFallback(flags.fallback);
  if (!fallback.ok()) return fallback.status();
  o.fallback = *fallback;
  if (flags.engines < 1 || flags.engines > 10000)
    return absl::InvalidArgumentError(absl::StrCat("--quota-engines: ", flags.engines, " is not in 1..10000"));
  if (flags.max_lease < 1 || flags.max_lease > 1000000)
    return absl::InvalidArgumentError(absl::StrCat("--quota-max-lease: ", flags.max_lease, " is not in 1..1000000"));
  if (flags.timeout_ms < 10 || flags.timeout_ms > 60000)
    return absl::InvalidArgumentError(absl::StrCat("--quota-timeout-ms: ", flags.timeout_ms, " is not in 10..60000"));
  o.lease.engines = static_cast<uint32_t>(flags.engines);
  o.lease.max_lease = static_cast<uint64_t>(flags.max_lease);
  o.connect_timeout_ms = flags.timeout_ms;
  return o;
}

}  // namespace wsgate::engine::quota
