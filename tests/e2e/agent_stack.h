// File: tests/e2e/agent_stack.h — the control-plane e2e fixture: the chat backend, a
// wsgate-engine (two shards, admin listener) and a wsgate-agent driving it as processes in a
// temporary directory; wsgatectl and wscat against them; the walkthrough's steps as helpers.
// A test target using it needs the programs' paths (tests/e2e/CMakeLists.txt:
// `wsgate_e2e_uses(TEST wscat chat-backend wsgate-engine wsgate-agent wsgatectl)`).
//
//   class MyTest : public wsgate::testing::AgentStack {};
//   TEST_F(MyTest, X) { std::string token = Walkthrough(); auto c = Wscat("/chats/1.0.0/notifications", token); }
//
// Role-restricted users, as a real deployment has them: `User("carl", "creator,publisher")`
// returns carl's credential, and `CtlOk(args, carl)` runs wsgatectl as carl.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/subprocess.h"

namespace wsgate::testing {

constexpr int kTimeoutMs = 15000;

inline int PortAfter(Subprocess& p, const std::string& marker, size_t* from) {
  if (!p.WaitForOutput(marker, kTimeoutMs, from)) return 0;
  return std::atoi(p.output().c_str() + *from);
}

class AgentStack : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(WSGATE_WSCAT, X_OK), 0) << "run tools/setup.sh";
    char tmpl[] = "/tmp/wsgate-agent-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = std::make_unique<Subprocess>(std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0"});
    size_t at = 0;
    backend_port_ = std::to_string(PortAfter(*backend_, "Notifications on: ws://localhost:", &at));
    // A derived fixture's SetUp may have set agent_args_ (extra wsgate-agent flags) before this.
    ASSERT_NE(backend_port_, "0") << backend_->output();
    StartEngine();
    StartAgent();
  }
  void TearDown() override {
    agent_.reset();
    engine_.reset();
    backend_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  void StartEngine() {
    engine_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_ENGINE, "--control", "unix:" + dir_ + "/engine.sock", "--ws-listen",
        "127.0.0.1:" + (engine_port_.empty() ? std::string("0") : engine_port_), "--shards", "2",
        "--admin-listen", "127.0.0.1:0", "--drain-timeout-ms", "2000"});
    size_t at = 0;
    engine_port_ = std::to_string(PortAfter(*engine_, "(port ", &at));
    ASSERT_NE(engine_port_, "0") << engine_->output();
  }
  void StartAgent() {
    std::vector<std::string> argv = {
        WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data", "--engine", "unix:" + dir_ + "/engine.sock", "--admin-listen",
        "127.0.0.1:" + (admin_port_.empty() ? std::string("0") : admin_port_), "--token-listen",
        "127.0.0.1:" + (token_port_.empty() ? std::string("0") : token_port_), "--metrics-listen", "127.0.0.1:0"};
    argv.insert(argv.end(), agent_args_.begin(), agent_args_.end());
    agent_ = std::make_unique<Subprocess>(argv);
    size_t at = 0;
    admin_port_ = std::to_string(PortAfter(*agent_, "(port ", &at));
    token_port_ = std::to_string(PortAfter(*agent_, "(port ", &at));
    ASSERT_NE(token_port_, "0") << agent_->output();
    metrics_port_ = std::to_string(PortAfter(*agent_, "metrics on http://127.0.0.1:0/metrics (port ", &at));
  }
  // Runs wsgatectl; returns its exit code and puts its output (stdout+stderr) in *out.
  std::vector<std::string> CtlArgs(std::vector<std::string> args) {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", "127.0.0.1:" + admin_port_, "--data-dir", dir_ + "/data"});
    return args;
  }
  int Ctl(std::vector<std::string> args, std::string* out = nullptr) {
    Subprocess p(CtlArgs(std::move(args)));
    int code = p.Wait(kTimeoutMs);
    std::string text = p.output();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (out) *out = text;
    return code;
  }
  std::string CtlOk(std::vector<std::string> args) {
    std::string out;
    int code = Ctl(args, &out);
    EXPECT_EQ(code, 0) << "wsgatectl " << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << out;
    return out;
  }
  // wsgatectl as the user whose credential is `credential` ("": the data directory's admin.token);
  // *out is the output as printed (stdout+stderr, trailing newline kept).
  int Ctl(std::vector<std::string> args, const std::string& credential, std::string* out) {
    std::vector<std::string> env;
    if (!credential.empty()) env.push_back("WSGATE_ADMIN_TOKEN=" + credential);
    Subprocess p(CtlArgs(std::move(args)), env);
    int code = p.Wait(kTimeoutMs);
    *out = p.output();
    return code;
  }
  std::string CtlOk(const std::vector<std::string>& args, const std::string& credential) {
    std::string out;
    EXPECT_EQ(Ctl(args, credential, &out), 0) << "wsgatectl " << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << out;
    return out;
  }
  // The output of a wsgatectl call that must fail with exit code 1 (a refused request).
  std::string CtlFails(const std::vector<std::string>& args, const std::string& credential) {
    std::string out;
    EXPECT_EQ(Ctl(args, credential, &out), 1) << out;
    return out;
  }
  // Creates user `name` with `roles` (comma-separated) as the admin; returns its credential.
  std::string User(const std::string& name, const std::string& roles) {
    return After(CtlOk({"user", "create", name, "--role", roles}, ""), "Credential: ");
  }
  // The word after `label` in `out` (up to a space or the end of the line).
  static std::string After(const std::string& out, const std::string& label) {
    size_t at = out.find(label);
    EXPECT_NE(at, std::string::npos) << out;
    if (at == std::string::npos) return "";
    at += label.size();
    return out.substr(at, out.find_first_of(" \n", at) - at);
  }

  std::unique_ptr<Subprocess> Wscat(const std::string& path, const std::string& token) {
    return std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_WSCAT, "--no-color", "-c", "ws://127.0.0.1:" + engine_port_ + path, "-H", "Authorization: Bearer " + token});
  }
  // wscat under script(1)'s pseudo-terminal, which is where wscat prints a close's code and
  // reason ("Disconnected (code: 4001, reason: ...)"); `header` is one -H value, if any.
  std::unique_ptr<Subprocess> WscatTty(const std::string& path, const std::string& header = "") {
    std::string command = std::string(WSGATE_WSCAT) + " --no-color -c 'ws://127.0.0.1:" + engine_port_ + path + "'";
    if (!header.empty()) command += " -H '" + header + "'";
    return std::make_unique<Subprocess>(std::vector<std::string>{"/usr/bin/script", "-qfec", command, "/dev/null"});
  }
  // The walkthrough's publisher and developer steps; returns the printed token.
  std::string Walkthrough() {
    CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
           "ws://localhost:" + backend_port_});
    CtlOk({"topic", "delete", "Chats:1.0.0", "/*"});
    CtlOk({"topic", "add", "Chats:1.0.0", "/notifications", "--mapping", "/notifications"});
    CtlOk({"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}"});
    CtlOk({"api", "plans", "Chats:1.0.0", "AsyncGold"});
    CtlOk({"api", "lifecycle", "Chats:1.0.0", "Publish"});
    EXPECT_EQ(CtlOk({"revision", "create", "Chats:1.0.0"}), "1");
    CtlOk({"revision", "deploy", "Chats:1.0.0", "1", "--env", "Production and Sandbox", "--vhost", "localhost"});
    CtlOk({"app", "create", "ChatApp"});
    CtlOk({"subscription", "create", "ChatApp", "Chats:1.0.0", "--plan", "AsyncGold"});
    keys_ = CtlOk({"keys", "generate", "ChatApp", "--type", "PRODUCTION"});
    std::string token = CtlOk({"token", "ChatApp", "--type", "PRODUCTION"});
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2) << "prints only the token: " << token;
    return token;
  }

  // Chats with /rooms/{roomID} deployed, offering `plan`, ChatApp subscribed on it: a token.
  std::string DeployWithPlan(const std::string& plan) {
    CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
           "ws://localhost:" + backend_port_});
    CtlOk({"topic", "delete", "Chats:1.0.0", "/*"});
    CtlOk({"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}"});
    return PublishSubscribeAndToken(plan);
  }

  // The rest of the walkthrough for an API created and given its topics: plan, publish, deploy
  // revision 1, subscribe ChatApp with `plan`, PRODUCTION keys; returns a token.
  std::string PublishSubscribeAndToken(const std::string& plan) {
    CtlOk({"api", "plans", "Chats:1.0.0", plan});
    CtlOk({"api", "lifecycle", "Chats:1.0.0", "Publish"});
    CtlOk({"revision", "create", "Chats:1.0.0"});
    CtlOk({"revision", "deploy", "Chats:1.0.0", "1", "--env", "Production and Sandbox", "--vhost", "localhost"});
    CtlOk({"app", "create", "ChatApp"});
    CtlOk({"subscription", "create", "ChatApp", "Chats:1.0.0", "--plan", plan});
    CtlOk({"keys", "generate", "ChatApp", "--type", "PRODUCTION"});
    return CtlOk({"token", "ChatApp", "--type", "PRODUCTION"});
  }

  // The consumer key and secret that `keys generate` printed.
  static std::pair<std::string, std::string> Credentials(const std::string& keys) {
    auto field = [&](const std::string& label) {
      size_t at = keys.find(label);
      if (at == std::string::npos) return std::string();
      std::string v = keys.substr(at + label.size(), keys.find('\n', at) - at - label.size());
      return v.substr(v.find_first_not_of(' '));
    };
    return {field("Consumer key:"), field("Consumer secret:")};
  }
  // curl's output with the HTTP status on the last line.
  static std::string Curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/curl", "-s", "-w", "\n%{http_code}"});
    Subprocess p(args);
    p.Wait(kTimeoutMs);
    return p.output();
  }
  // The access_token of a /oauth2/token answer.
  static std::string AccessToken(const std::string& answer) {
    size_t at = answer.find("\"access_token\":\"");
    if (at == std::string::npos) return "";
    std::string token = answer.substr(at + 16);
    return token.substr(0, token.find('"'));
  }

  std::string dir_, backend_port_, engine_port_, admin_port_, token_port_, metrics_port_, keys_;
  std::vector<std::string> agent_args_;  // more wsgate-agent flags (set before SetUp), e.g. --catalog
  std::unique_ptr<Subprocess> backend_, engine_, agent_;
};

}  // namespace wsgate::testing
