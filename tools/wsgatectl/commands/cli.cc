// File: tools/wsgatectl/commands/cli.cc — the commands about wsgatectl itself (issue 17 item 1):
// `version` (client, agent and engines), `completion bash|zsh`, and the named contexts of
// cli_config.h (`context add|use|list|delete`).
#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/cli_config.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/conventions.h"
#include "tools/wsgatectl/table.h"

namespace wsgate::tools::ctl {
namespace {

namespace pb = google::protobuf;

// A table of the client's, the agent's and each engine's version; the client's alone (and the
// error) when the agent cannot be asked.
absl::Status Version(Ctx& ctx) {
  v1::AgentStatus status;
  absl::Status reached = Connect(ctx);
  if (reached.ok()) reached = Call(ctx, &Stub::GetStatus, v1::Empty(), status);
  if (!reached.ok()) {
    std::cout << "wsgatectl " << common::BuildVersion() << std::endl;  // before main's error line
    return reached;
  }
  // Built as JSON and parsed by libprotobuf: filling a Struct's map from our own (inlined) code
  // crashes in the ThreadSanitizer build, whose inline Map code differs from the library's.
  nlohmann::json j = {{"client", common::BuildVersion()}, {"agent", status.version()},
                      {"agent_address", ctx.globals.agent}, {"engines", nlohmann::json::array()}};
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"wsgatectl", common::BuildVersion(), ""});
  rows.push_back({"agent", status.version(), ctx.globals.agent});
  for (const auto& e : status.engines()) {
    j["engines"].push_back({{"target", e.target()}, {"environment", e.environment()},
                            {"reachable", e.reachable()}, {"version", e.version()}});
    rows.push_back({"engine", e.version().empty() ? "? (never reached)" : e.version(),
                    e.target() + (e.reachable() ? "" : " (DOWN)")});
  }
  pb::Struct doc;
  (void)google::protobuf::util::JsonStringToMessage(j.dump(), &doc);
  Print(ctx, doc, Table({"COMPONENT", "VERSION", "ADDRESS"}, rows));
  return absl::OkStatus();
}

absl::Status Completion(Ctx& ctx) {
  std::string script = CompletionScript(ctx.args[0]);
  if (script.empty()) return absl::InvalidArgumentError("completion: '" + ctx.args[0] + "' is not bash or zsh");
  std::cout << script;
  return absl::OkStatus();
}

absl::StatusOr<CliConfig> Load() { return LoadConfig(ConfigPath()); }

// `context add NAME --agent A`: --agent, --credential-file and --data-dir are the globals, so
// they are read from there.
absl::Status ContextAdd(Ctx& ctx) {
  if (!ctx.globals.agent_set) return absl::InvalidArgumentError("--agent is required (the agent's ADDR:PORT)");
  absl::StatusOr<CliConfig> config = Load();
  if (!config.ok()) return config.status();
  CliContext c{ctx.args[0], ctx.globals.agent, ctx.globals.credential_file, ctx.globals.data_dir_set ? ctx.globals.data_dir : ""};
  auto it = std::find_if(config->contexts.begin(), config->contexts.end(), [&](const CliContext& x) { return x.name == c.name; });
  bool replaced = it != config->contexts.end();
  if (replaced) *it = c;
  else config->contexts.push_back(c);
  if (config->current.empty()) config->current = c.name;
  if (absl::Status s = SaveConfig(ConfigPath(), *config); !s.ok()) return s;
  std::cout << (replaced ? "Updated" : "Added") << " context " << c.name << " (agent " << c.agent << ")"
            << (config->current == c.name ? ", in use" : "; `wsgatectl context use " + c.name + "` selects it") << "\n";
  return absl::OkStatus();
}

// Loads the file, lets `edit` change it (an error leaves it as it was), saves it, prints `done`.
absl::Status Edit(const std::function<absl::Status(CliConfig&)>& edit, const std::string& done) {
  absl::StatusOr<CliConfig> config = Load();
  if (!config.ok()) return config.status();
  if (absl::Status s = edit(*config); !s.ok()) return s;
  if (absl::Status s = SaveConfig(ConfigPath(), *config); !s.ok()) return s;
  std::cout << done << "\n";
  return absl::OkStatus();
}

absl::Status NoSuchContext(const std::string& name) {
  return absl::NotFoundError("context: no context '" + name + "' (wsgatectl context list)");
}

absl::Status ContextUse(Ctx& ctx) {
  const std::string& name = ctx.args[0];
  return Edit(
      [&](CliConfig& config) {
        if (config.Find(name) == nullptr) return NoSuchContext(name);
        config.current = name;
        return absl::OkStatus();
      },
      "Using context " + name);
}

absl::Status ContextDelete(Ctx& ctx) {
  const std::string& name = ctx.args[0];
  return Edit(
      [&](CliConfig& config) {
        auto& cs = config.contexts;
        auto it = std::find_if(cs.begin(), cs.end(), [&](const CliContext& x) { return x.name == name; });
        if (it == cs.end()) return NoSuchContext(name);
        cs.erase(it);
        if (config.current == name) config.current.clear();
        return absl::OkStatus();
      },
      "Deleted context " + name);
}

absl::Status ContextList(Ctx& ctx) {
  absl::StatusOr<CliConfig> config = Load();
  if (!config.ok()) return config.status();
  nlohmann::json j = {{"config", ConfigPath()}, {"current_context", config->current},
                      {"contexts", nlohmann::json::array()}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : config->contexts) {
    j["contexts"].push_back({{"name", c.name}, {"agent", c.agent}, {"credential_file", c.credential_file},
                             {"data_dir", c.data_dir}});
    rows.push_back({c.name == config->current ? "*" : "", c.name, c.agent,
                    !c.credential_file.empty() ? c.credential_file : c.data_dir.empty() ? "(default data dir)" : c.data_dir});
  }
  pb::Struct doc;  // from JSON, as in Version()
  (void)google::protobuf::util::JsonStringToMessage(j.dump(), &doc);
  Print(ctx, doc,
        rows.empty() ? "No contexts yet (wsgatectl context add NAME --agent ADDR:PORT) in " + ConfigPath()
                     : Table({"CURRENT", "NAME", "AGENT", "CREDENTIAL"}, rows));
  return absl::OkStatus();
}

Command Local(Command c) {
  c.local = true;
  return c;
}

}  // namespace

void AddCliCommands(std::vector<Command>& commands) {
  commands.push_back(Local(MakeCommand("version", "", "the versions of wsgatectl, the agent and every engine", 0, 0, &Version)));
  commands.push_back(Local(MakeCommand("completion", "bash|zsh",
                                       "print a shell completion script (source <(wsgatectl completion bash))", 1, 1,
                                       &Completion)));
  commands.push_back(Local(MakeCommand("context add", "NAME --agent ADDR:PORT [--credential-file FILE] [--data-dir DIR]",
                                       "save a named agent and its credential (the first one added is used)", 1, 1,
                                       &ContextAdd)));
  commands.push_back(Local(MakeCommand("context use", "NAME", "talk to this context's agent from now on", 1, 1, &ContextUse)));
  commands.push_back(Local(MakeCommand("context list", "", "the saved contexts (* = in use)", 0, 0, &ContextList)));
  commands.push_back(Local(MakeCommand("context delete", "NAME", "forget a context", 1, 1, &ContextDelete)));
}

}  // namespace wsgate::tools::ctl
