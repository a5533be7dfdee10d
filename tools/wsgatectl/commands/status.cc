// File: tools/wsgatectl/commands/status.cc — `wsgatectl status`: the agent's config version,
// and each engine's applied version, lag and traffic, asked now.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

absl::Status Show(Ctx& ctx) {
  v1::AgentStatus resp;
  if (absl::Status s = Call(ctx, &Stub::GetStatus, v1::Empty(), resp); !s.ok()) return s;
  std::string text = absl::StrCat("agent ", resp.agent_id(), "  config version ", resp.config_version(), "\n");
  if (resp.engines().empty()) text += "no engines configured (wsgate-agent --engine unix:PATH)\n";
  for (const auto& e : resp.engines())
    absl::StrAppend(&text, e.target(), "\t", e.reachable() ? "up" : "DOWN", "\tapplied ", e.applied_version(), "\tlag ",
                    e.lag(), "\tconnections ", e.active_connections(), "\tframes in/out ", e.frames_client_to_backend(),
                    "/", e.frames_backend_to_client(), "\tthrottled ", e.throttled_frames(),
                    e.last_error().empty() ? "" : "\t" + e.last_error(), "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

}  // namespace

void AddStatusCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("status", "", "the agent's config version; each engine's applied version, lag and traffic",
                                 0, 0, &Show));
}

}  // namespace wsgate::tools::ctl
