// File: tools/wsgatectl/commands/status.cc — `wsgatectl status`: the agent's config version,
// and each engine's applied version, lag and traffic, asked now, grouped by environment.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/env_text.h"

namespace wsgate::tools::ctl {
namespace {

absl::Status Show(Ctx& ctx) {
  v1::AgentStatus resp;
  if (absl::Status s = Call(ctx, &Stub::GetStatus, v1::Empty(), resp); !s.ok()) return s;
  std::string text = StatusText(resp);
  Print(ctx, resp, text);
  return absl::OkStatus();
}

}  // namespace

void AddStatusCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("status", "", "the agent's config version; each engine's applied version, lag and traffic",
                                 0, 0, &Show));
}

}  // namespace wsgate::tools::ctl
