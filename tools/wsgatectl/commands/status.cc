// File: tools/wsgatectl/commands/status.cc — `wsgatectl status`: the agent's version and config
// version, and each engine's state, version, uptime, applied version, lag, traffic and real
// listeners, asked now (status_text.h). Exits 1 when an engine is down or lagging, so a script or
// a health check can rely on it.
#include <chrono>
#include <string>
#include <vector>

#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/status_text.h"

namespace wsgate::tools::ctl {
namespace {

absl::Status Show(Ctx& ctx) {
  v1::AgentStatus resp;
  if (absl::Status s = Call(ctx, &Stub::GetStatus, v1::Empty(), resp); !s.ok()) return s;
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  Print(ctx, resp, StatusText(resp, now_ms));
  if (std::string problem = StatusProblem(resp); !problem.empty()) return absl::UnavailableError(problem);
  return absl::OkStatus();
}

}  // namespace

void AddStatusCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("status", "",
                                 "the agent's config version; each engine's state, version, uptime, applied version, "
                                 "lag, traffic and listeners (exit 1 when one is down or lagging)",
                                 0, 0, &Show));
}

}  // namespace wsgate::tools::ctl
