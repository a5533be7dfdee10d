// File: tools/wsgatectl/conventions.h — the command-line conventions wsgatectl shares with
// kubectl/apictl (issue 17 item 1): short options (-o json, -ojson), a group alone listing its
// verbs, "did you mean" for unknown commands, shell completion, and server errors that name the
// CLI flag instead of the proto field. Pure: no I/O, no gRPC.
//
//   std::vector<std::string> args = NormalizeArgs(argc, argv);      // -ojson -> --output=json
//   std::string s = Suggest(AllCommands(), {"api", "lst"});          // "api list"
//   std::vector<std::string> c = Complete(AllCommands(), {"api", "cr"});  // {"create"}
#pragma once

#include <string>
#include <vector>

#include "engine/common/flags.h"
#include "tools/wsgatectl/command.h"

namespace wsgate::tools::ctl {

// argv[1..] with the short options spelled out: -o FORMAT / -oFORMAT -> --output FORMAT,
// -f PATH / -fPATH -> --file PATH.
std::vector<std::string> NormalizeArgs(int argc, char** argv);

// The verbs of group `group` ("api" -> api create, api list, ...), one a line with its help,
// as `wsgatectl api` prints them; "" when no command starts with that word.
std::string GroupHelp(const std::vector<Command>& commands, const std::string& group);

// The command path closest to the leading `words` (edit distance over the same number of words),
// or "" when none is close enough to be a plausible typo.
std::string Suggest(const std::vector<Command>& commands, const std::vector<std::string>& words);

// The candidates for the last of `words` (what is typed so far after `wsgatectl`; the last one
// may be empty): command words, the matched command's flags (--name), or -o's formats.
std::vector<std::string> Complete(const std::vector<Command>& commands, const std::vector<std::string>& words);

// `wsgatectl completion bash|zsh`: a script that asks `wsgatectl __complete WORDS...` for the
// candidates; "" for another shell.
std::string CompletionScript(const std::string& shell);

// An agent error that starts with a proto field path ("production_endpoint.url: ...") with the
// path replaced by the flag the command sets it with ("--endpoint: ..."), when `parser` has it.
std::string NameFlagsInError(const std::string& message, const common::FlagParser& parser);

}  // namespace wsgate::tools::ctl
