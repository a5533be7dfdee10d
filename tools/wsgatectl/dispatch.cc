// File: tools/wsgatectl/dispatch.cc
#include "tools/wsgatectl/dispatch.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace wsgate::tools::ctl {

const std::set<std::string>& BoolFlags() {
  static const std::set<std::string> names = {"default-version", "not-default-version", "unsecured", "regenerate",
                                              "production-only", "unlimited", "no-wait", "help", "clear",
                                              "require-origin", "dry-run", "prune", "count-only", "no-policy",
                                              "binary", "standalone", "opaque", "once", "clear-audiences",
                                              "backend-jwt", "no-backend-jwt", "clear-pass-headers", "backend"};
  return names;
}

CommandMatch FindCommand(const std::vector<Command>& commands, const std::vector<std::string>& args) {
  CommandMatch match;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h") continue;
    if (a.rfind("--", 0) == 0) {
      size_t eq = a.find('=');
      std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (eq == std::string::npos && !BoolFlags().count(name) && name.rfind("no-", 0) != 0) ++i;  // skip its value
      continue;
    }
    match.words.push_back(a);
  }
  for (const auto& c : commands) {
    size_t n = std::count(c.path.begin(), c.path.end(), ' ') + 1;
    if (match.words.size() >= n && n > match.words_used &&
        absl::StrJoin(match.words.begin(), match.words.begin() + static_cast<long>(n), " ") == c.path) {
      match.command = &c;
      match.words_used = n;
    }
  }
  return match;
}

std::string Overview(const std::vector<Command>& commands) {
  std::string out =
      "Usage: wsgatectl COMMAND [ARGS] [--agent ADDR] [--data-dir DIR] [-o json]\n\n"
      "The admin CLI of wsgate: a gRPC client of wsgate-agent. API is Name:Version (e.g. Chats:1.0.0)\n"
      "or an id; APP is an application name or id. `wsgatectl COMMAND --help` explains one command.\n\nCommands:\n";
  for (const auto& c : commands) {
    std::string left = "  " + c.path + (c.usage.empty() ? "" : " " + c.usage);
    if (left.size() < 52) left.resize(52, ' ');
    else left += "\n" + std::string(52, ' ');
    out += left + c.help + "\n";
  }
  out += "\nEvery command, with examples: docs/cli.md.\n";
  return out;
}

}  // namespace wsgate::tools::ctl
