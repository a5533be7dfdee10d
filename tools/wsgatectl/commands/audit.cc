// File: tools/wsgatectl/commands/audit.cc — `wsgatectl audit`: the audit log of admin changes
// (who called which mutating Admin RPC on what, and the outcome), newest first.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

struct AuditFlags {
  std::string since;
  int64_t limit = 100;
  void Register(common::FlagParser& f) {
    f.AddString("since", &since, "only records from this long ago (1h, 30m, 7d) or this time (RFC 3339)", "WHEN");
    f.AddInt("limit", &limit, "at most this many records", 1, 10000);
  }
};

// "1h" / "90m" / "7d" (a duration back from now) or an RFC 3339 time, as Unix milliseconds.
absl::StatusOr<int64_t> SinceMs(const std::string& text) {
  if (text.empty()) return 0;
  absl::Duration d;
  std::string duration = text;
  if (!duration.empty() && duration.back() == 'd') {  // absl has no day unit
    int64_t days;
    if (absl::SimpleAtoi(duration.substr(0, duration.size() - 1), &days) && days >= 0)
      return absl::ToUnixMillis(absl::Now() - absl::Hours(24 * days));
  } else if (absl::ParseDuration(duration, &d) && d >= absl::ZeroDuration()) {
    return absl::ToUnixMillis(absl::Now() - d);
  }
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return absl::ToUnixMillis(t);
  return absl::InvalidArgumentError(
      absl::StrCat("--since: '", text, "' is neither a duration (1h, 30m, 7d) nor an RFC 3339 time (2026-12-01T12:00:00Z)"));
}

absl::Status List(Ctx& ctx, const AuditFlags& flags) {
  absl::StatusOr<int64_t> since = SinceMs(flags.since);
  if (!since.ok()) return since.status();
  v1::ListAuditRequest req;
  req.set_since_unix_ms(*since);
  req.set_limit(static_cast<uint32_t>(flags.limit));
  v1::ListAuditResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListAudit, req, resp); !s.ok()) return s;
  std::string text = resp.entries().empty() ? "No audit records" : "";
  for (const auto& e : resp.entries()) {
    absl::StrAppend(&text, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(e.time_unix_ms()),
                                            absl::UTCTimeZone()),
                    "\t", e.caller(), "\t", e.method(), "\t", e.object_kind(), " ", e.object(), "\t", e.code(),
                    e.message().empty() ? "" : ": " + e.message(), "\n");
  }
  if (!resp.entries().empty()) text.pop_back();
  Print(ctx, resp, text);
  return absl::OkStatus();
}

}  // namespace

void AddAuditCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("audit", "[--since 1h|RFC3339] [--limit N]",
                                 "admin changes: time, caller, RPC, object, outcome (newest first)", 0, 0, &List));
}

}  // namespace wsgate::tools::ctl
