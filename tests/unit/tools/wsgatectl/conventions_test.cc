// Unit tests for wsgatectl's command-line conventions (issue 17 item 1): short options, a group
// listing its verbs, "did you mean", completion, server errors naming the flag, and required
// flags, over the real command table.
#include "tools/wsgatectl/conventions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

std::vector<std::string> Normalize(std::vector<std::string> args) {
  args.insert(args.begin(), "wsgatectl");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return NormalizeArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(NormalizeArgs, SpellsOutShortOptions) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Normalize({"status", "-ojson"}), (V{"status", "--output=json"}));
  EXPECT_EQ(Normalize({"status", "-o", "yaml"}), (V{"status", "--output", "yaml"}));
  EXPECT_EQ(Normalize({"apply", "-f", "dir"}), (V{"apply", "--file", "dir"}));
  EXPECT_EQ(Normalize({"apply", "-fdir"}), (V{"apply", "--file=dir"}));
  EXPECT_EQ(Normalize({"token", "revoke", "-"}), (V{"token", "revoke", "-"}));  // stdin, not an option
  EXPECT_EQ(Normalize({"x", "--", "-ojson"}), (V{"x", "--", "-ojson"}));         // after --: an argument
}

TEST(GroupHelp, ListsTheGroupsVerbs) {
  std::string help = GroupHelp(AllCommands(), "api");
  EXPECT_EQ(help.rfind("Usage: wsgatectl api VERB", 0), 0u) << help;
  for (const char* verb : {"  api create ", "  api list ", "  api get API", "  api delete API"})
    EXPECT_NE(help.find(verb), std::string::npos) << verb << "\n" << help;
  EXPECT_EQ(help.find("app create"), std::string::npos) << help;
  EXPECT_EQ(GroupHelp(AllCommands(), "nosuchgroup"), "");
  EXPECT_EQ(GroupHelp(AllCommands(), "ap"), "");  // a prefix of a group is not the group
}

TEST(Suggest, NamesTheClosestCommand) {
  const std::vector<Command> commands = AllCommands();
  EXPECT_EQ(Suggest(commands, {"api", "lst"}), "api list");
  EXPECT_EQ(Suggest(commands, {"apis", "list"}), "api list");
  EXPECT_EQ(Suggest(commands, {"api", "craete", "Chats"}), "api create");
  EXPECT_EQ(Suggest(commands, {"stauts"}), "status");
  EXPECT_EQ(Suggest(commands, {"contxt", "use", "prod"}), "context use");
  EXPECT_EQ(Suggest(commands, {"frobnicate", "everything"}), "");  // nothing plausible
  EXPECT_EQ(Suggest(commands, {}), "");
}

TEST(Complete, OffersWordsFlagsAndFormats) {
  const std::vector<Command> commands = AllCommands();
  using V = std::vector<std::string>;
  V top = Complete(commands, {""});
  for (const char* group : {"api", "app", "status", "version", "completion", "context"})
    EXPECT_NE(std::find(top.begin(), top.end(), group), top.end()) << group;
  EXPECT_EQ(std::count(top.begin(), top.end(), "api"), 1);  // once, not per verb
  EXPECT_EQ(Complete(commands, {"api", "cr"}), (V{"create"}));
  EXPECT_EQ(Complete(commands, {"context", ""}), (V{"add", "use", "list", "delete"}));
  V flags = Complete(commands, {"api", "create", "Chats", "--ver"});
  EXPECT_EQ(flags, (V{"--version"}));
  V globals = Complete(commands, {"status", "--"});
  EXPECT_NE(std::find(globals.begin(), globals.end(), "--agent"), globals.end());
  EXPECT_NE(std::find(globals.begin(), globals.end(), "--output"), globals.end());
  EXPECT_EQ(Complete(commands, {"status", "-o", ""}), (V{"text", "json", "yaml"}));
  EXPECT_EQ(Complete(commands, {"nosuch", ""}), V{});
}

TEST(CompletionScript, BashAndZshAskWsgatectl) {
  std::string bash = CompletionScript("bash");
  EXPECT_NE(bash.find("complete -o default -F _wsgatectl wsgatectl"), std::string::npos) << bash;
  EXPECT_NE(bash.find("__complete"), std::string::npos) << bash;
  std::string zsh = CompletionScript("zsh");
  EXPECT_EQ(zsh.rfind("#compdef wsgatectl\n", 0), 0u) << zsh;
  EXPECT_NE(zsh.find("compdef _wsgatectl wsgatectl"), std::string::npos) << zsh;
  EXPECT_EQ(CompletionScript("fish"), "");
}

TEST(NameFlagsInError, ReplacesTheProtoPathWithTheFlag) {
  common::FlagParser parser("wsgatectl api update", "");
  std::string endpoint, policy, max_size, name;
  parser.AddString("endpoint", &endpoint, "e");
  parser.AddString("policy", &policy, "p");
  parser.AddString("max-message-size", &max_size, "m");
  EXPECT_EQ(NameFlagsInError("production_endpoint.url: not ws:// or wss://", parser), "--endpoint: not ws:// or wss://");
  EXPECT_EQ(NameFlagsInError("throttle_policy: no api-level policy 'X'", parser), "--policy: no api-level policy 'X'");
  EXPECT_EQ(NameFlagsInError("max_message_bytes: 0 is out of range", parser), "--max-message-size: 0 is out of range");
  // A field the command has no flag for, or a message that is no field path, stays as it is.
  EXPECT_EQ(NameFlagsInError("sandbox_endpoint.url: bad", parser), "sandbox_endpoint.url: bad");
  EXPECT_EQ(NameFlagsInError("cannot reach the agent: x", parser), "cannot reach the agent: x");
  parser.AddString("name", &name, "n");
  EXPECT_EQ(NameFlagsInError("name: must be 1-60 characters", parser), "--name: must be 1-60 characters");
}

// Required flags are declared where the command declares its flags, and checked by the parser
// before any RPC: `api create` without --version says so.
TEST(RequiredFlags, ApiCreateNeedsContextAndVersion) {
  for (const Command& c : AllCommands()) {
    if (c.path != "api create") continue;
    common::FlagParser parser("wsgatectl api create", "");
    Globals globals;
    AddGlobalFlags(parser, globals);
    Runner run = c.bind(parser);
    std::vector<std::string> args = {"wsgatectl", "api", "create", "Chats", "--context", "/chats"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    ASSERT_TRUE(parser.Parse(static_cast<int>(argv.size()), argv.data()).ok());
    EXPECT_EQ(parser.CheckRequired().message(), "--version is required (see --help)");
    EXPECT_NE(parser.Help().find("(required)"), std::string::npos);
    return;
  }
  FAIL() << "no api create";
}

}  // namespace
}  // namespace wsgate::tools::ctl
