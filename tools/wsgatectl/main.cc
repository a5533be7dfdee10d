// File: tools/wsgatectl/main.cc — wsgatectl, the admin CLI: a gRPC client of wsgate-agent's
// Admin API. Every command is `wsgatectl GROUP VERB ARGS [FLAGS]`; `-o json|yaml` prints the
// reply as a document; failures print one line and exit 1, usage mistakes exit 2. Commands that
// change what engines serve wait (up to --wait-timeout, 10 s; --no-wait skips) until every engine
// has applied the change, so a script can connect right after; exit 3 when they did not.
//
// This file only dispatches: it finds the command (dispatch.h), parses the globals and the
// command's flags, checks the argument count and required flags, resolves the agent and the
// credential (cli_config.h), connects and runs it. The commands are in commands/<group>.cc; what
// they share is in command.h; the conventions (short options, suggestions, completion) in
// conventions.h.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "engine/common/flags.h"
#include "tools/wsgatectl/diagnose.h"
#include "tools/wsgatectl/command.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/conventions.h"
#include "tools/wsgatectl/dispatch.h"
#include "tools/wsgatectl/output.h"

namespace ctl = wsgate::tools::ctl;
using wsgate::common::FlagParser;

namespace {

// No command matched: the overview, a group's verbs, or "unknown command" with a suggestion.
int NoCommand(const std::vector<ctl::Command>& commands, const ctl::CommandMatch& match, bool wants_help) {
  if (match.words.empty()) {
    std::cout << ctl::Overview(commands);
    return wants_help ? 0 : 2;
  }
  std::string group = ctl::GroupHelp(commands, match.words[0]);
  if (!group.empty() && (match.words.size() == 1 || wants_help)) {
    std::cout << group;  // `wsgatectl api`: what it can do
    return 0;
  }
  if (wants_help) {
    std::cout << ctl::Overview(commands);
    return 0;
  }
  std::string typed =
      absl::StrJoin(match.words.begin(), match.words.begin() + std::min<size_t>(2, match.words.size()), " ");
  std::string suggestion = ctl::Suggest(commands, match.words);
  std::cerr << "wsgatectl: unknown command '" << typed << "'";
  if (!suggestion.empty()) std::cerr << " (did you mean `" << suggestion << "`?)";
  else if (!group.empty()) std::cerr << " (`wsgatectl " << match.words[0] << "` lists its verbs)";
  else std::cerr << " (wsgatectl --help lists them)";
  std::cerr << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args = ctl::NormalizeArgs(argc, argv);
  if (!args.empty() && args[0] == "--version") {
    std::cout << "wsgatectl " << wsgate::common::BuildVersion() << "\n";
    return 0;
  }
  const std::vector<ctl::Command> commands = ctl::AllCommands();
  if (!args.empty() && args[0] == "__complete") {  // what the completion scripts ask
    for (const auto& c : ctl::Complete(commands, std::vector<std::string>(args.begin() + 1, args.end()))) std::cout << c << "\n";
    return 0;
  }

  ctl::CommandMatch match = ctl::FindCommand(commands, args);
  const ctl::Command* command = match.command;
  bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                    std::find(args.begin(), args.end(), "-h") != args.end();
  if (command == nullptr) return NoCommand(commands, match, wants_help);

  ctl::Ctx ctx;
  FlagParser flags("wsgatectl " + command->path,
                   command->help + (command->usage.empty() ? "" : "\n\n  wsgatectl " + command->path + " " + command->usage));
  ctl::AddGlobalFlags(flags, ctx.globals);
  ctl::Runner run = command->bind(flags);
  std::vector<char*> argv2{argv[0]};
  for (auto& a : args) argv2.push_back(a.data());
  if (absl::Status s = flags.Parse(static_cast<int>(argv2.size()), argv2.data()); !s.ok()) {
    std::cerr << "wsgatectl " << command->path << ": " << s.message() << "\n";
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Help();
    return 0;
  }
  ctx.args.assign(flags.positional().begin() + static_cast<long>(match.words_used), flags.positional().end());
  int n = static_cast<int>(ctx.args.size());
  if (n < command->min_args || (command->max_args >= 0 && n > command->max_args)) {
    std::cerr << "wsgatectl " << command->path << ": expected " << (command->usage.empty() ? "no arguments" : command->usage)
              << " (see --help)\n";
    return 2;
  }
  if (absl::Status s = flags.CheckRequired(); !s.ok()) {
    std::cerr << "wsgatectl " << command->path << ": " << s.message() << "\n";
    return 2;
  }
  if (absl::Status s = ctl::ApplyLogFormat(); !s.ok()) {
    std::cerr << "wsgatectl: " << s.message() << "\n";
    return 2;
  }
  if (!ctl::IsOutputFormat(ctx.globals.output)) {
    std::cerr << "wsgatectl: --output: '" << ctx.globals.output << "' is not text, json or yaml\n";
    return 2;
  }
  ctx.globals.agent_set = flags.IsSet("agent");
  ctx.globals.data_dir_set = flags.IsSet("data-dir");
  if (!command->local)
    if (absl::Status s = ctl::Connect(ctx); !s.ok()) return ctl::ExitCode(s);
  absl::Status result = run(ctx);
  if (!result.ok()) {
    // "production_endpoint.url: ..." from the agent names the flag: "--endpoint: ...".
    return ctl::ExitCode(absl::Status(result.code(), ctl::NameFlagsInError(std::string(result.message()), flags)));
  }
  if (!ctx.wait_failure.empty()) {
    ctl::Diagnose(wsgate::common::LogLevel::kError, ctx.wait_failure);
    return 3;
  }
  return 0;
}
