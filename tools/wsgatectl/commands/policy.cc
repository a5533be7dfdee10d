// File: tools/wsgatectl/commands/policy.cc — `wsgatectl policy ...`: throttle policies (the
// business plans APIs offer, and application and API limits).
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/text.h"

namespace wsgate::tools::ctl {
namespace {

struct ListFlags {
  std::string level;
  void Register(common::FlagParser& f) { f.AddString("level", &level, "subscription, application or api", "LEVEL"); }
};

absl::Status List(Ctx& ctx, const ListFlags& flags) {
  absl::StatusOr<v1::PolicyLevel> level = ParsePolicyLevel(flags.level, v1::POLICY_LEVEL_UNSPECIFIED);
  if (!level.ok()) return level.status();
  v1::ListThrottlePoliciesRequest req;
  req.set_level(*level);
  v1::ListThrottlePoliciesResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListThrottlePolicies, req, resp); !s.ok()) return s;
  std::string text;
  for (const auto& p : resp.policies())
    absl::StrAppend(&text, p.name(), "\t", v1::PolicyLevel_Name(p.level()), "\t", p.description(),
                    p.stop_on_quota_reach() || p.unlimited() ? "" : "\t(count only)", "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

struct CreateFlags {
  int64_t events = 0, unit_count = 1, connections = 0;
  std::string unit, level, description;
  bool unlimited = false, count_only = false;
  void Register(common::FlagParser& f) {
    f.AddBool("count-only", &count_only, "count events but never drop them (WSO2 stopOnQuotaReach=false)");
    f.AddInt("events", &events, "events (frames, both directions) per window", 0, INT64_MAX);
    f.AddString("unit", &unit, "second, minute, hour, day or month", "UNIT");
    f.AddInt("unit-count", &unit_count, "window = unit-count x unit", 1, 1000000);
    f.AddString("level", &level, "subscription (default), application or api", "LEVEL");
    f.AddBool("unlimited", &unlimited, "no event limit");
    f.AddInt("connections", &connections,
             "concurrent connections per subscription, application or API (by --level) on each engine; more get "
             "429 (0: no limit; alone, without --events: a connection-only policy)",
             0, 4294967295LL);
    f.AddString("description", &description, "free text", "TEXT");
  }
};

absl::Status Create(Ctx& ctx, const CreateFlags& flags) {
  absl::StatusOr<v1::TimeUnit> unit = ParseTimeUnit(flags.unit);
  if (!unit.ok()) return unit.status();
  absl::StatusOr<v1::PolicyLevel> level = ParsePolicyLevel(flags.level, v1::SUBSCRIPTION);
  if (!level.ok()) return level.status();
  v1::ThrottlePolicy p;
  p.set_name(ctx.args[0]);
  p.set_events(static_cast<uint64_t>(flags.events));
  p.set_unlimited(flags.unlimited);
  p.set_max_connections(static_cast<uint32_t>(flags.connections));
  p.set_unit_count(static_cast<uint32_t>(flags.unit_count));
  p.set_description(flags.description);
  p.set_unit(*unit);
  p.set_level(*level);
  if (flags.count_only) p.set_stop_on_quota_reach(false);
  v1::ThrottlePolicy resp;
  if (absl::Status s = Call(ctx, &Stub::CreateThrottlePolicy, p, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp,
        "Created policy " + resp.name() + ": " + resp.description() +
            (resp.stop_on_quota_reach() || resp.unlimited() ? "" : " (count only: never drops)"));
  return absl::OkStatus();
}

absl::Status Delete(Ctx& ctx) {
  v1::ThrottlePolicyRef req;
  req.set_name(ctx.args[0]);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteThrottlePolicy, req, resp); !s.ok()) return s;
  Print(ctx, resp, "Deleted policy " + ctx.args[0]);
  return absl::OkStatus();
}

}  // namespace

void AddPolicyCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("policy list", "", "list throttle policies", 0, 0, &List));
  commands.push_back(MakeCommand("policy create",
                                 "NAME --events N --unit second|minute|hour|day|month [--unit-count N] [--count-only] "
                                 "[--connections N]",
                                 "create an event-count and/or concurrent-connection policy", 1, 1, &Create));
  commands.push_back(MakeCommand("policy delete", "NAME", "delete an unused policy", 1, 1, &Delete));
}

}  // namespace wsgate::tools::ctl
