// End-to-end tests of wsgatectl's conventions (issue 17 item 1) with real processes: --version on
// every binary and `wsgatectl version`; `status` exit codes and its engine table; a change that
// engines do not apply in time exits 3 with progress; -o json|yaml shapes; a group listing its
// verbs, "did you mean", required flags before any RPC, server errors naming the flag; named
// contexts and WSGATE_AGENT; secrets from stdin.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 15000;

class CliConventions : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-cli-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    engine_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_ENGINE, "--control", "unix:" + dir_ + "/engine.sock", "--ws-listen", "127.0.0.1:0", "--shards", "1",
        "--admin-listen", "127.0.0.1:0"});
    size_t at = 0;
    engine_port_ = std::to_string(engine_->NumberAfter("(port ", kTimeoutMs, &at));
    ASSERT_NE(engine_port_, "0") << engine_->output();
    agent_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data", "--engine", "unix:" + dir_ + "/engine.sock", "--admin-listen",
        "127.0.0.1:0", "--token-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"});
    at = 0;
    admin_port_ = std::to_string(agent_->NumberAfter("(port ", kTimeoutMs, &at));
    ASSERT_NE(admin_port_, "0") << agent_->output();
  }
  void TearDown() override {
    agent_.reset();
    engine_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  // Runs a binary with `env` added; its exit code, and its output (stdout+stderr) in *out.
  int Run(std::vector<std::string> argv, std::string* out, const std::vector<std::string>& env = {},
          const std::string& stdin_text = "") {
    std::vector<std::string> all = {"XDG_CONFIG_HOME=" + dir_ + "/config"};  // hermetic: no user contexts
    all.insert(all.end(), env.begin(), env.end());
    Subprocess p(argv, all);
    if (!stdin_text.empty()) p.WriteStdin(stdin_text);
    p.CloseStdin();
    int code = p.Wait(kTimeoutMs);
    *out = p.output();
    return code;
  }
  // wsgatectl against this test's agent (unless `args` says otherwise).
  int Ctl(std::vector<std::string> args, std::string* out, const std::vector<std::string>& env = {},
          const std::string& stdin_text = "") {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", "127.0.0.1:" + admin_port_, "--data-dir", dir_ + "/data"});
    return Run(args, out, env, stdin_text);
  }
  std::string CtlOk(std::vector<std::string> args) {
    std::string out;
    EXPECT_EQ(Ctl(args, &out), 0) << out;
    return out;
  }
  std::string dir_, engine_port_, admin_port_;
  std::unique_ptr<Subprocess> engine_, agent_;
};

TEST_F(CliConventions, EveryBinaryPrintsItsVersion) {
  std::string out;
  std::vector<std::pair<const char*, const char*>> binaries = {
      {WSGATE_ENGINE, "wsgate-engine"}, {WSGATE_AGENT, "wsgate-agent"}, {WSGATE_CTL, "wsgatectl"}};
#ifdef WSGATE_BENCH  // not built in the sanitizer passes (-DWSGATE_BUILD_BENCH=OFF)
  binaries.emplace_back(WSGATE_BENCH, "wsgate-bench");
#endif
  for (auto [binary, name] : binaries) {
    EXPECT_EQ(Run({binary, "--version"}, &out), 0) << name << ": " << out;
    EXPECT_EQ(out, std::string(name) + " " WSGATE_VERSION_TEXT "\n") << name;
  }
  // `wsgatectl version`: the client's, the agent's and the engine's.
  out = CtlOk({"version"});
  EXPECT_NE(out.find("COMPONENT  VERSION"), std::string::npos) << out;
  EXPECT_NE(out.find("wsgatectl  " WSGATE_VERSION_TEXT), std::string::npos) << out;
  EXPECT_NE(out.find("agent      " WSGATE_VERSION_TEXT "    127.0.0.1:" + admin_port_), std::string::npos) << out;
  EXPECT_NE(out.find("engine     " WSGATE_VERSION_TEXT "    unix:" + dir_ + "/engine.sock"), std::string::npos) << out;
  out = CtlOk({"version", "-ojson"});
  EXPECT_NE(out.find("\"client\": \"" WSGATE_VERSION_TEXT "\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"reachable\": true"), std::string::npos) << out;
  // An unreachable agent: the client's version, then the error, exit 1.
  EXPECT_EQ(Run({WSGATE_CTL, "--agent", "127.0.0.1:1", "--data-dir", dir_ + "/data", "version"}, &out), 1);
  EXPECT_EQ(out.rfind("wsgatectl " WSGATE_VERSION_TEXT "\nwsgatectl: cannot reach the agent", 0), 0u) << out;
}

TEST_F(CliConventions, StatusExitsNonZeroWhenAnEngineIsDownAndWaitsTimeOut) {
  std::string out = CtlOk({"status"});
  EXPECT_NE(out.find("ENVIRONMENT             ENGINE"), std::string::npos) << out;
  EXPECT_NE(out.find("  up     " WSGATE_VERSION_TEXT " "), std::string::npos) << out;
  EXPECT_NE(out.find("ws " + engine_port_ + "\n"), std::string::npos) << "the engine's real port: " << out;
  out = CtlOk({"env", "list"});
  EXPECT_NE(out.find("ENVIRONMENT             VHOST"), std::string::npos) << out;
  EXPECT_NE(out.find("ws " + engine_port_), std::string::npos) << out;
  out = CtlOk({"status", "-o", "json"});
  for (const std::string& field : {std::string("\"listeners\": ["), "\"ws port " + engine_port_ + "\"",
                                   std::string("\"lag\": \"0\""), std::string("\"throttled_frames\": \"0\""),
                                   std::string("\"version\": \"" WSGATE_VERSION_TEXT "\"")})
    EXPECT_NE(out.find(field), std::string::npos) << field << "\n" << out;

  engine_.reset();  // SIGKILL: the engine is down
  EXPECT_EQ(Ctl({"status"}, &out), 1) << out;
  EXPECT_NE(out.find("DOWN"), std::string::npos) << out;
  EXPECT_NE(out.find("wsgatectl: 1 of 1 engine down or lagging: unix:" + dir_ + "/engine.sock down"), std::string::npos)
      << out;
  // A change no engine can apply: progress, then exit 3 after --wait-timeout; the change is saved.
  EXPECT_EQ(Ctl({"env", "create", "Edge", "--vhost", "edge.test,default", "--wait-timeout", "2"}, &out), 3) << out;
  EXPECT_NE(out.find("wsgatectl: waiting for 1 engine: unix:" + dir_ + "/engine.sock"), std::string::npos) << out;
  EXPECT_NE(out.find("wsgatectl: timed out after 2 s waiting for 1 engine"), std::string::npos) << out;
  EXPECT_NE(CtlOk({"env", "get", "Edge"}).find("edge.test"), std::string::npos);
  EXPECT_EQ(Ctl({"env", "delete", "Edge", "--no-wait"}, &out), 0) << out;
}

TEST_F(CliConventions, DocumentsPrintEveryField) {
  std::string out = CtlOk({"api", "list", "-ojson"});
  EXPECT_NE(out.find("\"apis\": []"), std::string::npos) << out;
  out = CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint", "ws://127.0.0.1:9",
               "-o", "json"});
  for (const char* field : {"\"is_default_version\": false", "\"plans\": []", "\"deployed_revisions\": []",
                            "\"max_message_bytes\": \"0\"", "\"state\": \"CREATED\""})
    EXPECT_NE(out.find(field), std::string::npos) << field << "\n" << out;
  out = CtlOk({"api", "get", "Chats:1.0.0", "-o", "yaml"});
  EXPECT_NE(out.find("is_default_version: false\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  context: /chats\n"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"status", "-o", "xml"}, &out), 2);
  EXPECT_NE(out.find("--output: 'xml' is not text, json or yaml"), std::string::npos) << out;
  // Text: a table with a header row; a filter that matches nothing says so.
  out = CtlOk({"api", "list"});
  EXPECT_EQ(out.rfind("API          CONTEXT  STATE    DEPLOYED  ID\nChats:1.0.0  /chats   CREATED  -  ", 0), 0u) << out;
  EXPECT_EQ(CtlOk({"api", "list", "--filter", "nomatch"}), "No API name contains 'nomatch' (wsgatectl api list lists all)\n");
  // api get prints where clients connect once a revision is deployed.
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0"}).find("invoke URLs: none (not deployed)"), std::string::npos);
  CtlOk({"revision", "create", "Chats:1.0.0"});
  CtlOk({"revision", "deploy", "Chats:1.0.0", "1"});
  out = CtlOk({"api", "get", "Chats:1.0.0"});
  EXPECT_NE(out.find("  invoke URLs:\n    ws://localhost:9099/chats/1.0.0\n    wss://localhost:8099/chats/1.0.0"),
            std::string::npos)
      << out;
}

TEST_F(CliConventions, GroupsSuggestionsRequiredFlagsAndFlagNames) {
  std::string out;
  EXPECT_EQ(Ctl({"api"}, &out), 0) << out;
  EXPECT_NE(out.find("Usage: wsgatectl api VERB"), std::string::npos) << out;
  EXPECT_NE(out.find("  api create "), std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "lst"}, &out), 2);
  EXPECT_EQ(out, "wsgatectl: unknown command 'api lst' (did you mean `api list`?)\n");
  // Required flags are checked before any RPC (this agent address answers nothing).
  EXPECT_EQ(Run({WSGATE_CTL, "--agent", "127.0.0.1:1", "api", "create", "X", "--context", "/x", "--endpoint", "ws://h:1"},
                &out),
            2);
  EXPECT_EQ(out, "wsgatectl api create: --version is required (see --help)\n");
  EXPECT_EQ(Run({WSGATE_CTL, "api", "create", "--help"}, &out), 0);
  EXPECT_NE(out.find("version, e.g. 1.0.0 (required)"), std::string::npos) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "token", "--help"}, &out), 0);
  EXPECT_NE(out.find("lifetime in seconds (default 3600)\n"), std::string::npos) << out;
  // The agent's field path becomes the flag.
  EXPECT_EQ(Ctl({"api", "create", "X", "--context", "/x", "--version", "1", "--endpoint", "http://h:1"}, &out), 1);
  EXPECT_EQ(out.rfind("wsgatectl: --endpoint: ", 0), 0u) << out;
  // Completion.
  EXPECT_EQ(Run({WSGATE_CTL, "completion", "bash"}, &out), 0);
  EXPECT_NE(out.find("complete -o default -F _wsgatectl wsgatectl"), std::string::npos) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "__complete", "api", "cr"}, &out), 0);
  EXPECT_EQ(out, "create\n");
  EXPECT_EQ(Run({WSGATE_CTL, "completion", "fish"}, &out), 1);
  // The bash script in bash: what Tab after `wsgatectl api cr` and `wsgatectl api create X --ver` offers.
  std::string ctl = WSGATE_CTL;
  EXPECT_EQ(Run({"/bin/bash", "-c",
                 "source <(" + ctl + " completion bash) && COMP_WORDS=(" + ctl +
                     " api cr) && COMP_CWORD=2 && _wsgatectl && echo \"${COMPREPLY[*]}\" && COMP_WORDS=(" + ctl +
                     " api create X --ver) && COMP_CWORD=4 && _wsgatectl && echo \"${COMPREPLY[*]}\""},
                &out),
            0)
      << out;
  EXPECT_EQ(out, "create\n--version\n");
}

TEST_F(CliConventions, ContextsAndWsgateAgent) {
  std::vector<std::string> env = {"XDG_CONFIG_HOME=" + dir_ + "/config", "WSGATE_ADMIN_TOKEN="};
  std::string out;
  EXPECT_EQ(Run({WSGATE_CTL, "context", "list"}, &out, env), 0);
  EXPECT_NE(out.find("No contexts yet"), std::string::npos) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "context", "add", "local", "--credential-file", dir_ + "/data/admin.token"}, &out, env), 1);
  EXPECT_NE(out.find("--agent is required"), std::string::npos) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "context", "add", "local", "--agent", "127.0.0.1:" + admin_port_, "--credential-file",
                 dir_ + "/data/admin.token"},
                &out, env),
            0)
      << out;
  EXPECT_EQ(Run({WSGATE_CTL, "context", "add", "nowhere", "--agent", "127.0.0.1:1", "--data-dir", dir_ + "/nothing"},
                &out, env),
            0)
      << out;
  EXPECT_NE(out.find("`wsgatectl context use nowhere` selects it"), std::string::npos) << out;
  std::ifstream file(dir_ + "/config/wsgate/config.yaml");
  ASSERT_TRUE(file.good());
  // No --agent, no --data-dir: the current context's agent and credential file.
  EXPECT_EQ(Run({WSGATE_CTL, "status"}, &out, env), 0) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "context", "list"}, &out, env), 0);
  EXPECT_NE(out.find("*        local    127.0.0.1:" + admin_port_), std::string::npos) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "context", "use", "nowhere"}, &out, env), 0) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "status"}, &out, env), 1) << out;  // its data dir, then its agent
  EXPECT_NE(out.find("no admin credential at " + dir_ + "/nothing/admin.token"), std::string::npos) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "status"}, &out, {"WSGATE_ADMIN_TOKEN=x"}), 1) << out;
  EXPECT_NE(out.find("cannot reach the agent"), std::string::npos) << out;
  // WSGATE_AGENT beats the context; --agent beats both.
  std::vector<std::string> env2 = env;
  env2.push_back("WSGATE_AGENT=127.0.0.1:" + admin_port_);
  EXPECT_EQ(Run({WSGATE_CTL, "--data-dir", dir_ + "/data", "status"}, &out, env2), 0) << out;
  EXPECT_EQ(Run({WSGATE_CTL, "context", "use", "mars"}, &out, env), 1);
  EXPECT_NE(out.find("no context 'mars'"), std::string::npos) << out;
}

TEST_F(CliConventions, SecretsFromStdin) {
  std::string out;
  EXPECT_EQ(Ctl({"token", "revoke", "-"}, &out), 1);
  EXPECT_EQ(out, "wsgatectl: TOKEN -: stdin was empty\n");
  // The token read from stdin reaches the agent, which judges it (not a JWT here).
  EXPECT_EQ(Ctl({"token", "revoke", "-"}, &out, {}, "not-a-token\n"), 1);
  EXPECT_EQ(out.find("stdin"), std::string::npos) << out;
}

}  // namespace
