// File: tools/wsgatectl/commands/env.cc — `wsgatectl env list`: the gateway environments
// revisions deploy to, and their vhosts' ports.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

absl::Status List(Ctx& ctx) {
  v1::ListEnvironmentsResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListEnvironments, v1::Empty(), resp); !s.ok()) return s;
  std::string text;
  for (const auto& e : resp.environments())
    for (const auto& v : e.vhosts())
      absl::StrAppend(&text, e.name(), "\tvhost ", v.name(), "\tws ", v.ws_port(), "\twss ", v.wss_port(), "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

}  // namespace

void AddEnvCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("env list", "", "list gateway environments and vhosts", 0, 0, &List));
}

}  // namespace wsgate::tools::ctl
