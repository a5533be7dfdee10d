// File: tools/wsgatectl/dispatch.h — finding the command a command line names, and the
// overview `wsgatectl --help` prints. Pure: no I/O.
//
//   CommandMatch m = FindCommand(commands, {"token", "revoke", "--jti", "J"});
//   // m.command->path == "token revoke", m.words_used == 2
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "tools/wsgatectl/command.h"

namespace wsgate::tools::ctl {

struct CommandMatch {
  const Command* command = nullptr;  // null: no command's words lead the command line
  size_t words_used = 0;             // how many leading words name the command
  std::vector<std::string> words;    // every argument that is not a flag or a flag's value
};

// The command named by the longest "GROUP VERB" or "GROUP" made of the leading words of `args`
// (argv[1..], with -o already spelled --output). Flag values are skipped: a flag in BoolFlags(),
// or a --no-... form, takes none; every other flag is written --flag=value or --flag value.
CommandMatch FindCommand(const std::vector<Command>& commands, const std::vector<std::string>& args);

// The flags that take no value: every boolean flag of every command, and the globals'. The
// table's flags are checked against it by tests/unit/tools/wsgatectl/dispatch_test.cc.
const std::set<std::string>& BoolFlags();

// `wsgatectl --help`: usage, then one line per command (two when its usage is long).
std::string Overview(const std::vector<Command>& commands);

}  // namespace wsgate::tools::ctl
