// File: tools/wsgatectl/commands/usage.cc — `wsgatectl usage APP [API]`: the application's
// current throttle windows (events used, limit, reset time) per engine and summed.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

std::string Window(const v1::UsageWindow& w) {
  std::string what = w.level() == "subscription" ? absl::StrCat("subscription ", w.id(), " (api ", w.api_id(), ")")
                                                 : absl::StrCat(w.level(), " ", w.id());
  return absl::StrCat(what, "\t", w.policy(), "\t", w.used(), "/", w.limit(), " events\tresets ",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(w.resets_unix_s()),
                                       absl::UTCTimeZone()));
}

absl::Status Show(Ctx& ctx) {
  v1::AdminUsageRequest req;
  req.set_application(ctx.args[0]);
  if (ctx.args.size() > 1) req.set_api(ctx.args[1]);
  v1::AdminUsageResponse resp;
  if (absl::Status s = Call(ctx, &Stub::GetUsage, req, resp); !s.ok()) return s;
  std::string text;
  for (const auto& e : resp.engines()) {
    if (!e.error().empty()) {
      absl::StrAppend(&text, "engine ", e.engine(), ": not answering (", e.error(), ")\n");
      continue;
    }
    for (const auto& w : e.windows()) absl::StrAppend(&text, "engine ", e.engine(), "\t", Window(w), "\n");
  }
  for (const auto& w : resp.total()) absl::StrAppend(&text, "total\t", Window(w), "\n");
  if (resp.total().empty()) text += "No throttled windows (the application's plans and policy are unlimited)\n";
  text.pop_back();
  Print(ctx, resp, text);
  return absl::OkStatus();
}

}  // namespace

void AddUsageCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("usage", "APP [API]",
                                 "current throttle windows (used/limit, reset) of an application, per engine and summed",
                                 1, 2, &Show));
}

}  // namespace wsgate::tools::ctl
