// Unit tests for engine/common/flags: the forms every wsgate binary accepts, and its errors.
#include "engine/common/flags.h"
#include "engine/common/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wsgate::common {
namespace {

absl::Status ParseArgs(FlagParser& p, std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return p.Parse(static_cast<int>(argv.size()), argv.data());
}

TEST(FlagParser, AcceptsBothValueFormsBoolsAndPositionals) {
  FlagParser p("prog", "Does things.");
  int64_t port = 8080;
  std::string bind = "0.0.0.0";
  bool strict = false, verbose = true;
  std::vector<std::string> engines;
  p.AddInt("port", &port, "port", 0, 65535);
  p.AddString("bind", &bind, "address");
  p.AddBool("strict", &strict, "strict");
  p.AddBool("verbose", &verbose, "verbose");
  p.AddList("engine", &engines, "engine");
  ASSERT_TRUE(ParseArgs(p, {"--port=9", "--bind", "::1", "--strict", "--no-verbose", "--engine", "a",
                            "--engine=b", "pos", "--", "--port"})
                  .ok());
  EXPECT_EQ(port, 9);
  EXPECT_EQ(bind, "::1");
  EXPECT_TRUE(strict);
  EXPECT_FALSE(verbose);
  EXPECT_EQ(engines, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.positional(), (std::vector<std::string>{"pos", "--port"}));
  EXPECT_FALSE(p.help_requested());
}

TEST(FlagParser, ErrorsNameTheFlag) {
  int64_t port = 1;
  bool b = false;
  auto make = [&] {
    FlagParser p("prog", "x");
    p.AddInt("port", &port, "port", 0, 65535);
    p.AddBool("strict", &b, "strict");
    return p;
  };
  FlagParser p1 = make();
  absl::Status s = ParseArgs(p1, {"--port=abc"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--port"), std::string::npos);
  FlagParser p2 = make();
  EXPECT_NE(ParseArgs(p2, {"--port=70000"}).message().find("out of range"), std::string::npos);
  FlagParser p3 = make();
  EXPECT_NE(ParseArgs(p3, {"--nope"}).message().find("unknown flag --nope"), std::string::npos);
  FlagParser p4 = make();
  EXPECT_NE(ParseArgs(p4, {"--port"}).message().find("needs a value"), std::string::npos);
  FlagParser p5 = make();
  EXPECT_FALSE(ParseArgs(p5, {"--strict=maybe"}).ok());
  FlagParser p6 = make();
  EXPECT_FALSE(ParseArgs(p6, {"-x"}).ok());
  EXPECT_EQ(port, 1);  // nothing half-applied
}

TEST(FlagParser, HelpListsFlagsWithDefaults) {
  FlagParser p("prog", "Does things.");
  int64_t port = 8080;
  p.AddInt("port", &port, "TCP port", 0, 65535);
  ASSERT_TRUE(ParseArgs(p, {"--help"}).ok());
  EXPECT_TRUE(p.help_requested());
  std::string help = p.Help();
  EXPECT_NE(help.find("Usage: prog"), std::string::npos);
  EXPECT_NE(help.find("--port N"), std::string::npos);
  EXPECT_NE(help.find("(default 8080)"), std::string::npos);
}

TEST(FlagParser, ParseCommandLineGivesTheExitCode) {
  auto run = [](std::vector<std::string> args) {
    FlagParser p("prog", "x");
    int64_t port = 1;
    p.AddInt("port", &port, "port", 0, 65535);
    args.insert(args.begin(), "prog");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return p.ParseCommandLine(static_cast<int>(argv.size()), argv.data());
  };
  EXPECT_EQ(run({"--port=5", "--log-level=warning"}), -1);
  EXPECT_EQ(GetLogLevel(), LogLevel::kWarning);
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_EQ(run({"--port=x"}), 2);
  EXPECT_EQ(run({"stray"}), 2);
  EXPECT_EQ(run({"--log-level=loud"}), 2);
  EXPECT_EQ(run({"--version"}), 0);
  SetLogLevel(LogLevel::kInfo);
}

// Issue 17: required flags say so (in --help and when missing), and a help text that names its
// default is not followed by a second "(default N)".
TEST(FlagParser, RequiredFlagsAndOneDefault) {
  FlagParser p("prog", "x");
  std::string version, name = "n";
  int64_t ttl = 0;
  p.AddString("version", &version, "version, e.g. 1.0.0", "V");
  p.AddString("name", &name, "name");
  p.AddInt("ttl", &ttl, "lifetime in seconds (default 3600)", 0, 86400);
  p.MarkRequired("version");
  std::string help = p.Help();
  EXPECT_NE(help.find("version, e.g. 1.0.0 (required)"), std::string::npos) << help;
  EXPECT_NE(help.find("lifetime in seconds (default 3600)\n"), std::string::npos) << help;
  EXPECT_EQ(help.find("(default 0)"), std::string::npos) << help;
  EXPECT_NE(help.find("name (default \"n\")"), std::string::npos) << help;
  ASSERT_TRUE(ParseArgs(p, {"--name=x"}).ok());
  EXPECT_EQ(p.CheckRequired().message(), "--version is required (see --help)");
  EXPECT_TRUE(p.IsSet("name"));
  EXPECT_FALSE(p.IsSet("ttl"));
  FlagParser q("prog", "x");
  q.AddString("version", &version, "v", "V");
  q.MarkRequired("version");
  ASSERT_TRUE(ParseArgs(q, {"--version="}).ok());  // given, even empty: the server judges the value
  EXPECT_TRUE(q.CheckRequired().ok());
  EXPECT_STREQ(BuildVersion(), WSGATE_TEST_VERSION);
}

}  // namespace
}  // namespace wsgate::common
