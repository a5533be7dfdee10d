// File: tools/wsgatectl/main.cc — wsgatectl, the admin CLI: a gRPC client of wsgate-agent's
// Admin API. Every command is `wsgatectl GROUP VERB ARGS [FLAGS]`; `-o json` prints the reply
// as JSON; failures print one line and exit 1, usage mistakes exit 2. Commands that change what
// engines serve wait (up to 10 s, --no-wait skips) until every engine has applied the change, so
// a script can connect right after.
//
// This file only dispatches: it finds the command (dispatch.h), parses the globals and the
// command's flags, checks the argument count, connects and runs it. The commands are in
// commands/<group>.cc; what they share is in command.h.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "engine/common/flags.h"
#include "tools/wsgatectl/diagnose.h"
#include "tools/wsgatectl/command.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/dispatch.h"

namespace ctl = wsgate::tools::ctl;
using wsgate::common::FlagParser;

int main(int argc, char** argv) {
  // -o FORMAT and -f PATH are the short options.
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    args.push_back(a == "-o" ? "--output" : a == "-f" ? "--file" : a);
  }
  const std::vector<ctl::Command> commands = ctl::AllCommands();

  ctl::CommandMatch match = ctl::FindCommand(commands, args);
  const ctl::Command* command = match.command;
  bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                    std::find(args.begin(), args.end(), "-h") != args.end();
  if (command == nullptr) {
    if (match.words.empty() || wants_help) {
      std::cout << ctl::Overview(commands);
      return match.words.empty() && !wants_help ? 2 : 0;
    }
    std::cerr << "wsgatectl: unknown command '"
              << absl::StrJoin(match.words.begin(), match.words.begin() + std::min<size_t>(2, match.words.size()), " ")
              << "' (wsgatectl --help lists them)\n";
    return 2;
  }

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
  if (ctx.globals.output != "text" && ctx.globals.output != "json") {
    std::cerr << "wsgatectl: --output: '" << ctx.globals.output << "' is not text or json\n";
    return 2;
  }
  if (absl::Status s = ctl::ApplyLogFormat(); !s.ok()) {
    std::cerr << "wsgatectl: " << s.message() << "\n";
    return 2;
  }
  if (absl::Status s = ctl::Connect(ctx); !s.ok()) return ctl::ExitCode(s);
  return ctl::ExitCode(run(ctx));
}
