// End-to-end test of API keys (issue 14 item 4) with real processes: wsgate-agent, one
// wsgate-engine, the chat backend, wsgatectl and wscat. A creator/publisher user makes an API
// with `--security oauth2,api_key`; a subscriber user (not the admin credential) creates an API
// key for its own application and connects with `-H "apikey: KEY"` and with `?apikey=KEY`;
// another subscriber can neither see nor revoke it; revoking it closes the live socket with 4001
// and a later connect is refused 401; the audit log names the subscriber.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 20000;

class AgentApiKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(WSGATE_WSCAT, X_OK), 0) << "run tools/setup.sh";
    char tmpl[] = "/tmp/wsgate-apikeys-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = std::make_unique<Subprocess>(std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0"});
    size_t at = 0;
    backend_port_ = std::to_string(backend_->NumberAfter("Notifications on: ws://localhost:", kTimeoutMs, &at));
    ASSERT_NE(backend_port_, "0") << backend_->output();
    engine_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_ENGINE, "--control", "unix:" + dir_ + "/engine.sock", "--ws-listen", "127.0.0.1:0", "--shards", "1",
        "--admin-listen", "127.0.0.1:0"});
    at = 0;
    engine_port_ = std::to_string(engine_->NumberAfter("(port ", kTimeoutMs, &at));
    ASSERT_NE(engine_port_, "0") << engine_->output();
    agent_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data", "--engine",
        "unix:" + dir_ + "/engine.sock", "--admin-listen", "127.0.0.1:0", "--token-listen", "127.0.0.1:0"});
    at = 0;
    admin_port_ = std::to_string(agent_->NumberAfter("(port ", kTimeoutMs, &at));
    ASSERT_NE(admin_port_, "0") << agent_->output();
  }
  void TearDown() override {
    agent_.reset();
    engine_.reset();
    backend_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  // wsgatectl as `credential`'s user ("": the data directory's admin.token): exit code, output.
  int Ctl(std::vector<std::string> args, const std::string& credential, std::string* out) {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", "127.0.0.1:" + admin_port_, "--data-dir", dir_ + "/data"});
    std::vector<std::string> env;
    if (!credential.empty()) env.push_back("WSGATE_ADMIN_TOKEN=" + credential);
    Subprocess p(args, env);
    int code = p.Wait(kTimeoutMs);
    *out = p.output();
    return code;
  }
  std::string CtlOk(const std::vector<std::string>& args, const std::string& credential) {
    std::string out;
    EXPECT_EQ(Ctl(args, credential, &out), 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << out;
    return out;
  }
  std::string CtlFails(const std::vector<std::string>& args, const std::string& credential) {
    std::string out;
    EXPECT_EQ(Ctl(args, credential, &out), 1) << out;
    return out;
  }
  // The text after `label` on its line of `out`.
  static std::string After(const std::string& out, const std::string& label) {
    size_t at = out.find(label);
    EXPECT_NE(at, std::string::npos) << out;
    if (at == std::string::npos) return "";
    at += label.size();
    return out.substr(at, out.find_first_of(" \n", at) - at);
  }
  std::string User(const std::string& name, const std::string& roles) {
    return After(CtlOk({"user", "create", name, "--role", roles}, ""), "Credential: ");
  }
  // wscat under script(1)'s pseudo-terminal, which is where wscat prints a close's code and reason.
  std::unique_ptr<Subprocess> Wscat(const std::string& path, const std::string& header = "") {
    std::string command = std::string(WSGATE_WSCAT) + " --no-color -c 'ws://127.0.0.1:" + engine_port_ + path + "'";
    if (!header.empty()) command += " -H '" + header + "'";
    return std::make_unique<Subprocess>(std::vector<std::string>{"/usr/bin/script", "-qfec", command, "/dev/null"});
  }

  std::string dir_, backend_port_, engine_port_, admin_port_;
  std::unique_ptr<Subprocess> backend_, engine_, agent_;
};

TEST_F(AgentApiKeys, SubscriberKeysOpenTheApiByHeaderAndQueryUntilRevoked) {
  std::string carl = User("carl", "creator,publisher");
  std::string alice = User("alice", "subscriber");
  std::string bob = User("bob", "subscriber");

  const std::string api = "Chats:1.0.0";
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_, "--security", "oauth2,api_key"},
        carl);
  EXPECT_NE(CtlOk({"api", "get", api}, carl).find("  security: oauth2, api_key\n"), std::string::npos);
  CtlOk({"topic", "delete", api, "/*"}, carl);
  CtlOk({"topic", "add", api, "/notifications", "--mapping", "/notifications"}, carl);
  CtlOk({"topic", "add", api, "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}"}, carl);
  CtlOk({"api", "plans", api, "AsyncGold"}, carl);
  CtlOk({"revision", "create", api}, carl);
  CtlOk({"revision", "deploy", api, "1"}, carl);
  CtlOk({"api", "lifecycle", api, "Publish"}, carl);

  CtlOk({"app", "create", "AliceApp"}, alice);
  CtlOk({"subscription", "create", "AliceApp", api, "--plan", "AsyncGold"}, alice);
  std::string created = CtlOk({"apikey", "create", "AliceApp", "--validity", "1d"}, alice);
  std::string key = After(created, "API key: ");
  std::string id = After(created, "\nid ");
  ASSERT_EQ(key.rfind("wsk_", 0), 0u) << created;
  EXPECT_NE(created.find("Shown once"), std::string::npos) << created;

  // The header form and the query form, as WSO2 4.3 documents them for wscat.
  auto by_header = Wscat("/chats/1.0.0/notifications", "apikey: " + key);
  ASSERT_TRUE(by_header->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << by_header->output();
  auto by_query = Wscat("/chats/1.0.0/rooms/room1?apikey=" + key);
  ASSERT_TRUE(by_query->WaitForOutput("You joined room1!", kTimeoutMs)) << by_query->output();
  auto wrong = Wscat("/chats/1.0.0/notifications", "apikey: wsk_not-a-key");
  EXPECT_NE(wrong->Wait(kTimeoutMs), 0);
  EXPECT_NE(wrong->output().find("Unexpected server response: 401"), std::string::npos) << wrong->output();

  // Alice lists her key (never its text); Bob sees none of it and cannot revoke or add to it.
  std::string mine = CtlOk({"apikey", "list"}, alice);
  EXPECT_NE(mine.find(id), std::string::npos) << mine;
  EXPECT_NE(mine.find(key.substr(0, 12) + "..."), std::string::npos) << mine;
  EXPECT_EQ(mine.find(key), std::string::npos) << mine;
  CtlOk({"app", "create", "BobApp"}, bob);
  EXPECT_EQ(CtlOk({"apikey", "list"}, bob).find(id), std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "list", "AliceApp"}, bob).find("no application 'AliceApp'"), std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "create", "AliceApp"}, bob).find("no application 'AliceApp'"), std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "revoke", id}, bob).find("no API key '" + id + "'"), std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "create", "AliceApp", "--ip", "10.0.0.300/8"}, alice).find("ip_ranges[0]"),
            std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "create", "AliceApp", "--validity", "soon"}, alice).find("--validity 'soon'"),
            std::string::npos);

  // Revoking closes both live sockets with 4001, as a revoked token does.
  CtlOk({"apikey", "revoke", id}, alice);
  for (auto* c : {by_header.get(), by_query.get()}) {
    EXPECT_EQ(c->Wait(kTimeoutMs), 0) << c->output();
    EXPECT_NE(c->output().find("Disconnected (code: 4001, reason: \"Invalid Credentials Connection closed!\")"),
              std::string::npos)
        << c->output();
  }
  auto after = Wscat("/chats/1.0.0/notifications?apikey=" + key);
  EXPECT_NE(after->Wait(kTimeoutMs), 0);
  EXPECT_NE(after->output().find("Unexpected server response: 401"), std::string::npos) << after->output();

  std::string audit = CtlOk({"audit"}, "");
  EXPECT_NE(audit.find("\talice\tCreateApiKey\tapi key AliceApp\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tbob\tRevokeApiKey\tapi key " + id + "\tNOT_FOUND"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\talice\tRevokeApiKey\tapi key " + id + "\tOK"), std::string::npos) << audit;
}

}  // namespace
