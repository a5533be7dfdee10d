// File: tools/wsgatectl/status_text.cc
#include "tools/wsgatectl/status_text.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/table.h"

namespace wsgate::tools::ctl {
namespace {

bool Behind(const v1::AgentStatus& s, const v1::EngineInfo& e) {
  return !e.reachable() || e.applied_version() < s.config_version();
}

// "ws port 9099" -> "ws 9099"; the control socket is not a client port.
std::vector<std::string> ClientPorts(const v1::EngineInfo& e) {
  std::vector<std::string> out;
  for (const auto& l : e.listeners())
    if (absl::StartsWith(l, "ws port ") || absl::StartsWith(l, "wss port "))
      out.push_back(absl::StrCat(l.substr(0, l.find(' ')), " ", l.substr(l.rfind(' ') + 1)));
  return out;
}

}  // namespace

std::string StatusText(const v1::AgentStatus& status, int64_t now_ms) {
  std::string text = absl::StrCat("agent ", status.agent_id(), "  version ", status.version(), "  config version ",
                                  status.config_version(), "\n");
  if (status.engines().empty()) return text + "no engines configured (wsgate-agent --engine unix:PATH[@ENV])\n";
  std::vector<const v1::EngineInfo*> engines;
  for (const auto& e : status.engines()) engines.push_back(&e);
  std::stable_sort(engines.begin(), engines.end(),
                   [](const v1::EngineInfo* a, const v1::EngineInfo* b) { return a->environment() < b->environment(); });
  std::vector<std::vector<std::string>> rows;
  std::string errors;
  for (const v1::EngineInfo* e : engines) {
    std::string state = !e->reachable() ? "DOWN" : Behind(status, *e) ? "LAGGING" : "up";
    std::vector<std::string> ports = ClientPorts(*e);
    rows.push_back({e->environment(), e->target(), state, e->version().empty() ? "-" : e->version(),
                    e->started_unix_ms() > 0 && e->reachable() ? DurationText(now_ms - e->started_unix_ms()) : "-",
                    absl::StrCat(e->applied_version()), absl::StrCat(e->lag()), absl::StrCat(e->active_connections()),
                    absl::StrCat(e->frames_client_to_backend(), "/", e->frames_backend_to_client()),
                    absl::StrCat(e->throttled_frames()), ports.empty() ? "-" : absl::StrJoin(ports, ", ")});
    if (!e->last_error().empty()) absl::StrAppend(&errors, e->target(), ": ", e->last_error(), "\n");
  }
  text += Table({"ENVIRONMENT", "ENGINE", "STATE", "VERSION", "UPTIME", "APPLIED", "LAG", "CONNECTIONS",
                 "FRAMES IN/OUT", "THROTTLED", "LISTENING"},
                rows);
  return text + errors;
}

std::string StatusProblem(const v1::AgentStatus& status) {
  std::vector<std::string> bad;
  for (const auto& e : status.engines()) {
    if (!Behind(status, e)) continue;
    std::string why = e.reachable() ? absl::StrCat("lagging (applied ", e.applied_version(), " of ",
                                                   status.config_version(), ")")
                                    : "down";
    if (!e.last_error().empty()) absl::StrAppend(&why, " (", e.last_error(), ")");
    bad.push_back(absl::StrCat(e.target(), " ", why));
  }
  if (bad.empty()) return "";
  return absl::StrCat(bad.size(), " of ", status.engines_size(), status.engines_size() == 1 ? " engine" : " engines",
                      " down or lagging: ", absl::StrJoin(bad, "; "));
}

std::string ListeningText(const v1::AgentStatus& status, const std::string& environment) {
  std::set<std::string> ports;
  for (const auto& e : status.engines())
    if (e.environment() == environment)
      for (auto& p : ClientPorts(e)) ports.insert(p);
  if (ports.empty()) return "-";
  return absl::StrJoin(ports, ", ");  // "ws ..." sorts before "wss ..."
}

}  // namespace wsgate::tools::ctl
