// File: tools/wsgatectl/conventions.cc
#include "tools/wsgatectl/conventions.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/wsgatectl/dispatch.h"

namespace wsgate::tools::ctl {
namespace {

size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> Words(const std::string& path) { return absl::StrSplit(path, ' '); }

// The flags of `command` (after the globals'), as a throwaway parser holds them.
std::vector<std::string> FlagsOf(const Command* command) {
  common::FlagParser parser("wsgatectl", "");
  Globals globals;
  AddGlobalFlags(parser, globals);
  Runner keep;  // the parser points into the run's flags
  if (command != nullptr) keep = command->bind(parser);
  std::vector<std::string> names = parser.FlagNames();
  names.push_back("help");
  return names;
}

}  // namespace

std::vector<std::string> NormalizeArgs(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {  // the rest are arguments, whatever they look like
      for (; i < argc; ++i) args.emplace_back(argv[i]);
      break;
    }
    if (a == "-o") a = "--output";
    else if (a == "-f") a = "--file";
    else if (a.size() > 2 && a[0] == '-' && a[1] == 'o') a = "--output=" + a.substr(2);
    else if (a.size() > 2 && a[0] == '-' && a[1] == 'f') a = "--file=" + a.substr(2);
    args.push_back(std::move(a));
  }
  return args;
}

std::string GroupHelp(const std::vector<Command>& commands, const std::string& group) {
  std::string out;
  for (const auto& c : commands)
    if (absl::StartsWith(c.path, group + " ")) {
      std::string left = "  " + c.path + (c.usage.empty() ? "" : " " + c.usage);
      if (left.size() < 52) left.resize(52, ' ');
      else left += "\n" + std::string(52, ' ');
      out += left + c.help + "\n";
    }
  if (out.empty()) return "";
  return absl::StrCat("Usage: wsgatectl ", group, " VERB [ARGS] [FLAGS]\n\nVerbs:\n", out,
                      "\n`wsgatectl ", group, " VERB --help` explains one.\n");
}

std::string Suggest(const std::vector<Command>& commands, const std::vector<std::string>& words) {
  if (words.empty()) return "";
  std::string best;
  size_t best_distance = std::string::npos;
  std::set<std::string> commands_named, groups;
  for (const auto& c : commands) {
    commands_named.insert(c.path);
    groups.insert(Words(c.path)[0]);  // a group alone lists its verbs
  }
  std::set<std::string> candidates = commands_named;
  for (const auto& g : groups)
    if (words.size() == 1) candidates.insert(g);  // with a verb typed, the verb is the typo
  for (const auto& path : candidates) {
    size_t n = Words(path).size();
    std::string typed = absl::StrJoin(words.begin(), words.begin() + static_cast<long>(std::min(n, words.size())), " ");
    size_t d = Distance(typed, path);
    if (words.size() < n) d += 1;  // a verb is missing: prefer what was typed to a longer command
    if (d < best_distance || (d == best_distance && path.size() > best.size())) best = path, best_distance = d;
  }
  if (best_distance == 0) return "";  // typed exactly: not a typo
  return best_distance <= std::max<size_t>(2, best.size() / 4) ? best : "";
}

std::vector<std::string> Complete(const std::vector<Command>& commands, const std::vector<std::string>& words) {
  std::string partial = words.empty() ? "" : words.back();
  std::vector<std::string> before(words.begin(), words.empty() ? words.end() : words.end() - 1);
  std::vector<std::string> out;
  if (!before.empty() && (before.back() == "-o" || before.back() == "--output")) return {"text", "json", "yaml"};
  CommandMatch match = FindCommand(commands, before);
  if (absl::StartsWith(partial, "-")) {
    for (const auto& name : FlagsOf(match.command))
      if (absl::StartsWith("--" + name, partial)) out.push_back("--" + name);
    return out;
  }
  std::set<std::string> seen;
  for (const auto& c : commands) {
    std::vector<std::string> path = Words(c.path);
    if (path.size() <= match.words.size()) continue;
    if (!std::equal(match.words.begin(), match.words.end(), path.begin())) continue;
    const std::string& next = path[match.words.size()];
    if (absl::StartsWith(next, partial) && seen.insert(next).second) out.push_back(next);
  }
  return out;
}

std::string CompletionScript(const std::string& shell) {
  if (shell == "bash")
    return "# wsgatectl completion for bash: source <(wsgatectl completion bash)\n"
           "_wsgatectl() {\n"
           "  local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
           "  local IFS=$'\\n'\n"
           "  COMPREPLY=($(compgen -W \"$(\"${COMP_WORDS[0]}\" __complete \"${COMP_WORDS[@]:1:COMP_CWORD}\" "
           "2>/dev/null)\" -- \"$cur\"))\n"
           "}\n"
           "complete -o default -F _wsgatectl wsgatectl\n";
  if (shell == "zsh")
    return "#compdef wsgatectl\n"
           "# wsgatectl completion for zsh: source <(wsgatectl completion zsh), or save as _wsgatectl in $fpath\n"
           "_wsgatectl() {\n"
           "  local -a candidates\n"
           "  candidates=(\"${(@f)$(\"${words[1]}\" __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null)}\")\n"
           "  compadd -- \"${candidates[@]}\"\n"
           "}\n"
           "if [ \"$funcstack[1]\" = \"_wsgatectl\" ]; then _wsgatectl \"$@\"; else compdef _wsgatectl wsgatectl; fi\n";
  return "";
}

std::string NameFlagsInError(const std::string& message, const common::FlagParser& parser) {
  // Proto field paths whose flag is not the path with '_' as '-'.
  static const std::pair<const char*, const char*> kFlags[] = {
      {"production_endpoint.url", "endpoint"},
      {"sandbox_endpoint.url", "sandbox-endpoint"},
      {"production_endpoint.connect_timeout_ms", "connect-timeout"},
      {"sandbox_endpoint.connect_timeout_ms", "connect-timeout"},
      {"max_message_bytes", "max-message-size"},
      {"idle_timeout_ms", "idle-timeout"},
      {"max_lifetime_ms", "max-lifetime"},
      {"throttle_policy", "policy"},
      {"is_default_version", "default-version"},
  };
  size_t colon = message.find(": ");
  if (colon == std::string::npos || colon == 0) return message;
  std::string field = message.substr(0, colon);
  if (field.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.") != std::string::npos) return message;
  std::string flag = field;
  std::replace(flag.begin(), flag.end(), '_', '-');
  for (const auto& [path, name] : kFlags)
    if (field == path) flag = name;
  std::vector<std::string> names = parser.FlagNames();
  if (std::find(names.begin(), names.end(), flag) == names.end()) return message;
  return absl::StrCat("--", flag, message.substr(colon));
}

}  // namespace wsgate::tools::ctl
