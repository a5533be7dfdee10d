// File: tools/wsgatectl/status_text.h — `wsgatectl status` and the engine columns of `env list`
// (issue 17): each engine's state, version, uptime, applied config and the ports it really
// listens on, and whether anything is down or lagging (status then exits 1). Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>

#include "wsgate/v1/admin.pb.h"

namespace wsgate::tools::ctl {

namespace v1 = wsgate::v1;

// The agent line, then a table (header row) of the engines sorted by environment, then one line
// per engine error. `now_ms` (Unix ms) gives the uptimes.
std::string StatusText(const v1::AgentStatus& status, int64_t now_ms);

// "" when every engine is up and has applied the agent's config version, else what is wrong:
// "1 of 2 engines down or lagging: unix:/e1 down (connection refused)".
std::string StatusProblem(const v1::AgentStatus& status);

// The ports the engines of `environment` really listen on ("ws 9099, wss 8099"; "-" when none
// reports any), from their listeners ("ws port 9099").
std::string ListeningText(const v1::AgentStatus& status, const std::string& environment);

}  // namespace wsgate::tools::ctl
