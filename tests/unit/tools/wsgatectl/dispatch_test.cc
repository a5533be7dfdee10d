// Unit tests for tools/wsgatectl/dispatch: which command a command line names (over the real
// table), that the flags dispatch treats as boolean are exactly the table's, and the overview's
// layout.
#include "tools/wsgatectl/dispatch.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

struct FindCase {
  const char* name;
  std::vector<std::string> args;
  const char* path;  // nullptr: no command
  size_t words_used;
  std::vector<std::string> words;
};

class FindCommandTest : public testing::TestWithParam<FindCase> {};

TEST_P(FindCommandTest, NamesTheCommand) {
  const FindCase& c = GetParam();
  const std::vector<Command> commands = AllCommands();
  CommandMatch m = FindCommand(commands, c.args);
  if (c.path == nullptr) {
    EXPECT_EQ(m.command, nullptr) << m.command->path;
  } else {
    ASSERT_NE(m.command, nullptr);
    EXPECT_EQ(m.command->path, c.path);
  }
  EXPECT_EQ(m.words_used, c.words_used);
  EXPECT_EQ(m.words, c.words);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FindCommandTest,
    testing::Values(
        FindCase{"group_and_verb", {"api", "create", "Chats", "--context", "/chats"}, "api create", 2,
                 {"api", "create", "Chats"}},
        FindCase{"group_alone", {"token", "ChatApp", "--type", "PRODUCTION"}, "token", 1, {"token", "ChatApp"}},
        FindCase{"longest_wins", {"token", "revoke", "--jti", "J"}, "token revoke", 2, {"token", "revoke"}},
        FindCase{"value_flag_before", {"--agent", "127.0.0.1:1", "api", "list"}, "api list", 2, {"api", "list"}},
        FindCase{"value_flag_eats_next_word", {"--agent", "api", "list"}, nullptr, 0, {"list"}},
        FindCase{"value_flag_with_equals", {"--agent=h:1", "status"}, "status", 1, {"status"}},
        FindCase{"output_value", {"--output", "json", "env", "list"}, "env list", 2, {"env", "list"}},
        FindCase{"bool_flag_before", {"--no-wait", "status"}, "status", 1, {"status"}},
        FindCase{"command_bool_flag_before", {"--default-version", "api", "get", "X"}, "api get", 2,
                 {"api", "get", "X"}},
        FindCase{"negated_flag_takes_no_value", {"--no-unlimited", "policy", "list"}, "policy list", 2,
                 {"policy", "list"}},
        FindCase{"short_help", {"-h", "app", "list"}, "app list", 2, {"app", "list"}},
        FindCase{"help", {"app", "--help", "list"}, "app list", 2, {"app", "list"}},
        FindCase{"group_without_verb", {"api"}, nullptr, 0, {"api"}},
        FindCase{"unknown", {"bogus", "verb", "more"}, nullptr, 0, {"bogus", "verb", "more"}},
        FindCase{"nothing", {}, nullptr, 0, {}}),
    [](const testing::TestParamInfo<FindCase>& row) { return std::string(row.param.name); });

// The flag names a parser's --help lists ("  --name VALUE   help"), in order.
std::vector<std::string> FlagNames(const common::FlagParser& parser) {
  std::vector<std::string> names;
  std::istringstream help(parser.Help());
  for (std::string line; std::getline(help, line);)
    if (line.rfind("  --", 0) == 0) names.push_back(line.substr(4, line.find(' ', 4) - 4));
  return names;
}

// Whether `--name` alone parses, i.e. takes no value.
bool TakesNoValue(const Command& command, const std::string& name) {
  common::FlagParser parser("test", "");
  Globals globals;
  AddGlobalFlags(parser, globals);
  // The run owns the flags' storage the parser writes into: keep it while parsing.
  Runner run = command.bind(parser);
  std::string arg = "--" + name;
  std::vector<char*> argv{arg.data(), arg.data()};
  return parser.Parse(2, argv.data()).ok();
}

TEST(BoolFlags, AreExactlyTheTablesBooleanFlags) {
  std::set<std::string> booleans = {"help"};
  for (const Command& command : AllCommands()) {
    common::FlagParser parser("test", "");
    Globals globals;
    AddGlobalFlags(parser, globals);
    command.bind(parser);
    std::vector<std::string> names = FlagNames(parser);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size())
        << command.path << " declares a flag twice";
    for (const std::string& name : names)
      if (TakesNoValue(command, name)) booleans.insert(name);
  }
  EXPECT_EQ(booleans, BoolFlags());
}

TEST(AllCommands, PathsAreUniqueAndRunnable) {
  std::set<std::string> paths;
  for (const Command& command : AllCommands()) {
    EXPECT_TRUE(paths.insert(command.path).second) << command.path;
    common::FlagParser parser("test", "");
    EXPECT_TRUE(command.bind(parser) != nullptr) << command.path;
    EXPECT_TRUE(command.max_args < 0 || command.min_args <= command.max_args) << command.path;
  }
  EXPECT_EQ(paths.size(), 89u);  // 63 + snapshot (pkg) + user ×5 (roles) + version, completion, context ×4 (cli) + api scope ×3 (scopes) + top + apikey ×3 (apikeys) + idp ×5, keys register|unregister (idp)
}

absl::Status Nop(Ctx&) { return absl::OkStatus(); }

TEST(Overview, AlignsHelpAtColumn52AndWrapsLongUsage) {
  std::vector<Command> commands = {
      MakeCommand("thing list", "", "list things", 0, 0, &Nop),
      MakeCommand("thing make", "NAME --with-a-rather-long-flag VALUE [--and-another]", "make a thing", 1, 1, &Nop),
  };
  std::string overview = Overview(commands);
  EXPECT_EQ(overview.rfind("Usage: wsgatectl COMMAND [ARGS] [--agent ADDR] [--data-dir DIR] [-o json]\n", 0), 0u);
  EXPECT_NE(overview.find("\nCommands:\n"
                          "  thing list                                        list things\n"
                          "  thing make NAME --with-a-rather-long-flag VALUE [--and-another]\n"
                          "                                                    make a thing\n"
                          "\nEvery command, with examples: docs/cli.md.\n"),
            std::string::npos)
      << overview;
}

}  // namespace
}  // namespace wsgate::tools::ctl
