// File: tools/wsgatectl/commands/settings.cc — `wsgatectl settings get|set --env ENV`: the
// engine limits and timeouts of a gateway environment (the table in agent/settings.h).
#include <string>
#include <vector>

#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/env_text.h"

namespace wsgate::tools::ctl {
namespace {

struct EnvFlags {
  std::string env = "Production and Sandbox";
  void Register(common::FlagParser& f) { f.AddString("env", &env, "gateway environment", "ENV"); }
};

absl::Status Get(Ctx& ctx, const EnvFlags& flags) {
  v1::EnvironmentRef req;
  req.set_name(flags.env);
  v1::EnvironmentSettings resp;
  if (absl::Status s = Call(ctx, &Stub::GetSettings, req, resp); !s.ok()) return s;
  Print(ctx, resp, SettingsText(resp));
  return absl::OkStatus();
}

absl::Status Set(Ctx& ctx, const EnvFlags& flags) {
  v1::SetSettingsRequest req;
  req.set_environment(flags.env);
  for (const auto& a : ctx.args) req.add_assignments(a);
  v1::EnvironmentSettings resp;
  if (absl::Status s = Call(ctx, &Stub::SetSettings, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, SettingsText(resp));
  return absl::OkStatus();
}

}  // namespace

void AddSettingsCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("settings get", "[--env ENV]",
                                 "every engine setting of an environment, its default and range", 0, 0, &Get));
  commands.push_back(MakeCommand("settings set", "[--env ENV] KEY=VALUE...",
                                 "set engine settings (30s, 500ms, 1MiB...; KEY=default resets); all or nothing", 1,
                                 -1, &Set));
}

}  // namespace wsgate::tools::ctl
