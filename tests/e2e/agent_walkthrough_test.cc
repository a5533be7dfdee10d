// End-to-end test of the control plane: wsgate-agent, wsgate-engine and the chat backend as
// processes; every wsgatectl command of the walkthrough; a client through the engine with the
// printed token (wscat); curl-style OAuth2 calls; agent kill -9 and restart; engine restart;
// revocation closing a live socket.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <memory>
#include <string>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 15000;

int PortAfter(Subprocess& p, const std::string& marker, size_t* from) {
  if (!p.WaitForOutput(marker, kTimeoutMs, from)) return 0;
  return std::atoi(p.output().c_str() + *from);
}

class AgentWalkthrough : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(WSGATE_WSCAT, X_OK), 0) << "run tools/setup.sh";
    char tmpl[] = "/tmp/wsgate-agent-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = std::make_unique<Subprocess>(std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0"});
    size_t at = 0;
    backend_port_ = std::to_string(PortAfter(*backend_, "Notifications on: ws://localhost:", &at));
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
    agent_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data", "--engine", "unix:" + dir_ + "/engine.sock", "--admin-listen",
        "127.0.0.1:" + (admin_port_.empty() ? std::string("0") : admin_port_), "--token-listen",
        "127.0.0.1:" + (token_port_.empty() ? std::string("0") : token_port_), "--metrics-listen", "127.0.0.1:0"});
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
  std::unique_ptr<Subprocess> Wscat(const std::string& path, const std::string& token) {
    return std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_WSCAT, "--no-color", "-c", "ws://127.0.0.1:" + engine_port_ + path, "-H", "Authorization: Bearer " + token});
  }
  // The walkthrough's publisher and developer steps; returns the printed token.
  std::string DeployWithPlan(const std::string& plan);
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
  std::unique_ptr<Subprocess> backend_, engine_, agent_;
};

TEST_F(AgentWalkthrough, CommandsTokenAndClientThroughTheEngine) {
  std::string token = Walkthrough();
  auto notifications = Wscat("/chats/1.0.0/notifications", token);
  ASSERT_TRUE(notifications->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << notifications->output();
  auto room = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(room->WaitForOutput("You joined room1!", kTimeoutMs)) << room->output();
  EXPECT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs));

  // Reading commands, text and JSON.
  EXPECT_NE(CtlOk({"api", "list"}).find("Chats:1.0.0"), std::string::npos);
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0", "-o", "json"}).find("\"context\": \"/chats\""), std::string::npos);
  EXPECT_NE(CtlOk({"revision", "list", "Chats:1.0.0"}).find("deployed to Production and Sandbox"), std::string::npos);
  EXPECT_NE(CtlOk({"subscription", "list"}).find("AsyncGold"), std::string::npos);
  EXPECT_NE(CtlOk({"policy", "list"}).find("Allows 50000 events per day"), std::string::npos);
  std::string app_policies = CtlOk({"policy", "list", "--level", "application"});  // crashed before the fix
  EXPECT_NE(app_policies.find("Unlimited\tAPPLICATION"), std::string::npos) << app_policies;
  EXPECT_EQ(app_policies.find("AsyncGold"), std::string::npos) << app_policies;
  std::string status = CtlOk({"status", "-o", "json"});  // exit 0: every engine up and current
  EXPECT_NE(status.find("\"reachable\": true"), std::string::npos) << status;
  EXPECT_NE(status.find("\"lag\": \"0\""), std::string::npos) << status;

  // Bad inputs: a clear one-line error, a non-zero exit, nothing changed.
  std::string out;
  EXPECT_EQ(Ctl({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint", "ws://h"}, &out), 1);
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "plans", "Chats:1.0.0", "Platinum"}, &out), 1);
  EXPECT_NE(out.find("unknown business plan 'Platinum'"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"topic", "add", "Chats:1.0.0", "/r/{id}", "--mapping", "/r?x={uri.var.room}"}, &out), 1);
  EXPECT_NE(out.find("url_mapping"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "lifecycle", "Chats:1.0.0", "Retire"}, &out), 1);
  EXPECT_NE(out.find("PUBLISHED"), std::string::npos) << out;
  for (int i = 2; i <= 5; ++i) CtlOk({"revision", "create", "Chats:1.0.0"});
  EXPECT_EQ(Ctl({"revision", "create", "Chats:1.0.0"}, &out), 1);
  EXPECT_NE(out.find("5 revisions"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "bogus"}, &out), 2);
  EXPECT_EQ(Ctl({"token", "ChatApp", "--type", "STAGING"}, &out), 1);
  EXPECT_NE(out.find("--type"), std::string::npos) << out;
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0"}).find("plans: AsyncGold"), std::string::npos);

  // The admin API refuses a caller without the credential.
  Subprocess anonymous({WSGATE_CTL, "--agent", "127.0.0.1:" + admin_port_, "--data-dir", dir_ + "/nowhere", "api", "list"});
  EXPECT_EQ(anonymous.Wait(kTimeoutMs), 1);
  EXPECT_NE(anonymous.output().find("no admin credential"), std::string::npos) << anonymous.output();

  // Revoking the token closes the live listen-only socket (wscat exits 0 on a close frame).
  CtlOk({"token", "revoke", token});
  EXPECT_EQ(notifications->Wait(kTimeoutMs), 0) << notifications->output();
  // Only credentials changed: the agent sent it as a delta (issue 20), not a full snapshot.
  EXPECT_NE(agent_->output().find(" as a delta ("), std::string::npos) << agent_->output();
  auto refused = Wscat("/chats/1.0.0/notifications", token);
  EXPECT_NE(refused->Wait(kTimeoutMs), 0);
  EXPECT_NE(refused->output().find("401"), std::string::npos) << refused->output();
}

// A business plan enforced end to end: the publisher creates a tiny policy with wsgatectl, the
// subscription uses it, and wscat shows what WSO2 users see when a frame is throttled out.
// Chats with /rooms/{roomID} deployed, offering `plan`, ChatApp subscribed on it: a token.
std::string AgentWalkthrough::DeployWithPlan(const std::string& plan) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  CtlOk({"topic", "delete", "Chats:1.0.0", "/*"});
  CtlOk({"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}"});
  return PublishSubscribeAndToken(plan);
}

TEST_F(AgentWalkthrough, BusinessPlanThrottlesWithWso2sMessage) {
  CtlOk({"policy", "create", "Tiny", "--events", "4", "--unit", "hour"});
  std::string token = DeployWithPlan("Tiny");
  // Events 1 and 2: the two welcome texts. 3 and 4: "hello" to the backend and on to b.
  auto a = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(a->WaitForOutput("You joined room1!", kTimeoutMs)) << a->output();
  auto b = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(b->WaitForOutput("You joined room1!", kTimeoutMs)) << b->output();
  ASSERT_TRUE(a->WriteStdin("hello\n"));
  ASSERT_TRUE(b->WaitForOutput("hello", kTimeoutMs)) << b->output();
  // The plan is used up: the next message is dropped, a is told, the socket stays open.
  ASSERT_TRUE(a->WriteStdin("one too many\n"));
  ASSERT_TRUE(a->WaitForOutput("Error code: 4003 reason: Websocket frame throttled out", kTimeoutMs)) << a->output();
  EXPECT_EQ(b->output().find("one too many"), std::string::npos) << b->output();
  EXPECT_EQ(a->Wait(300), -1) << "the throttled client was disconnected: " << a->output();
  // The operator sees it in `wsgatectl status`: two live connections, one frame throttled.
  std::string status = CtlOk({"status", "-o", "json"});
  EXPECT_NE(status.find("\"active_connections\": \"2\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"frames_client_to_backend\": \"1\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"frames_backend_to_client\": \"3\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"throttled_frames\": \"1\""), std::string::npos) << status;
}

// Direction rights end to end: a subscribe-only topic added with wsgatectl delivers the backend's
// messages, drops the client's and tells it with WSO2's non-closing error frame.
TEST_F(AgentWalkthrough, SubscribeOnlyTopicDropsClientMessagesAndSaysWhy) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  CtlOk({"topic", "delete", "Chats:1.0.0", "/*"});
  std::string out;
  EXPECT_EQ(Ctl({"topic", "add", "Chats:1.0.0", "/notifications", "--direction", "down"}, &out), 1);
  EXPECT_NE(out.find("--direction: 'down' is not one of both, publish, subscribe"), std::string::npos) << out;
  CtlOk({"topic", "add", "Chats:1.0.0", "/notifications", "--mapping", "/notifications", "--direction", "subscribe"});
  EXPECT_NE(CtlOk({"topic", "list", "Chats:1.0.0"}).find("/notifications\t/notifications\t(subscribe only)"),
            std::string::npos);
  std::string token = PublishSubscribeAndToken("AsyncGold");
  auto listener = Wscat("/chats/1.0.0/notifications", token);
  ASSERT_TRUE(listener->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << listener->output();
  ASSERT_TRUE(listener->WriteStdin("may I speak?\n"));
  ASSERT_TRUE(listener->WaitForOutput("Error code: 4002 reason: User NOT authorized to publish to this topic", kTimeoutMs))
      << listener->output();
  EXPECT_EQ(listener->Wait(300), -1) << "the client was disconnected: " << listener->output();
}

// Cross-site WebSocket hijacking: an API with an Origin allow-list refuses a browser page from
// another site with 403 before the token is looked at; wscat without -o (no Origin) still works.
TEST_F(AgentWalkthrough, OriginAllowListSetWithWsgatectlRefusesOtherSites) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  std::string out;
  EXPECT_EQ(Ctl({"api", "access", "Chats:1.0.0", "--allow-origin", "example.com"}, &out), 1);
  EXPECT_NE(out.find("access.allowed_origins[0]: 'example.com' needs a scheme, e.g. https://example.com"),
            std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "access", "Chats:1.0.0", "--ip-deny", "10.0.0.1/8"}, &out), 1);
  EXPECT_NE(out.find("did you mean 10.0.0.0/8?"), std::string::npos) << out;
  CtlOk({"api", "access", "Chats:1.0.0", "--allow-origin", "https://app.example.com", "--ip-deny", "192.0.2.0/24"});
  std::string shown = CtlOk({"api", "access", "Chats:1.0.0"});
  EXPECT_NE(shown.find("allowed origins: https://app.example.com"), std::string::npos) << shown;
  EXPECT_NE(shown.find("ip deny:         192.0.2.0/24"), std::string::npos) << shown;
  std::string token = PublishSubscribeAndToken("AsyncGold");
  auto wscat = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {WSGATE_WSCAT, "--no-color", "-c", "ws://127.0.0.1:" + engine_port_ + "/chats/1.0.0/notifications",
                                     "-H", "Authorization: Bearer " + token};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Subprocess>(args);
  };
  auto evil = wscat({"-o", "https://evil.example"});
  EXPECT_NE(evil->Wait(kTimeoutMs), 0);
  EXPECT_NE(evil->output().find("403"), std::string::npos) << evil->output();
  auto app = wscat({"-o", "https://app.example.com"});
  EXPECT_TRUE(app->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << app->output();
  auto cli = wscat({});
  EXPECT_TRUE(cli->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << cli->output();
  CtlOk({"api", "access", "Chats:1.0.0", "--clear"});
  EXPECT_NE(CtlOk({"api", "access", "Chats:1.0.0"}).find("allowed origins: (any)"), std::string::npos);
}

// Issue 15: a connection quota as a plan dimension, made with wsgatectl and pushed to the engine:
// the third connection of a two-connection plan gets 429, and wscat says so.
// Issue 15: a per-API idle timeout set with wsgatectl reaches the engine: a silent client is
// closed (wscat exits on the close frame) about a second later.
TEST_F(AgentWalkthrough, ApiIdleTimeoutFromWsgatectlClosesASilentClient) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  std::string out;
  EXPECT_EQ(Ctl({"api", "update", "Chats:1.0.0", "--idle-timeout", "50ms"}, &out), 1);
  EXPECT_NE(out.find("--idle-timeout (idle_timeout: 50ms is out of range [100ms, 168h])"), std::string::npos) << out;
  CtlOk({"api", "update", "Chats:1.0.0", "--idle-timeout", "1s", "--handshake-rate", "50"});
  std::string shown = CtlOk({"api", "get", "Chats:1.0.0"});
  EXPECT_NE(shown.find("idle timeout: 1s"), std::string::npos) << shown;
  EXPECT_NE(shown.find("handshake rate: 50/s (burst 50)"), std::string::npos) << shown;
  std::string token = PublishSubscribeAndToken("AsyncGold");
  auto start = std::chrono::steady_clock::now();
  auto silent = Wscat("/chats/1.0.0/notifications", token);
  ASSERT_TRUE(silent->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << silent->output();
  EXPECT_EQ(silent->Wait(kTimeoutMs), 0) << silent->output();  // the engine closed it
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 5.0);
}

TEST_F(AgentWalkthrough, PlanConnectionQuotaFromWsgatectl) {
  std::string created = CtlOk({"policy", "create", "TwoSockets", "--connections", "2"});
  EXPECT_NE(created.find("Allows unlimited events and 2 concurrent connections"), std::string::npos) << created;
  std::string token = DeployWithPlan("TwoSockets");
  auto a = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(a->WaitForOutput("You joined room1!", kTimeoutMs)) << a->output();
  auto b = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(b->WaitForOutput("You joined room1!", kTimeoutMs)) << b->output();
  auto c = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(c->WaitForOutput("429", kTimeoutMs)) << c->output();
}

TEST_F(AgentWalkthrough, AgentKilledAndEngineRestartedKeepServing) {
  std::string token = Walkthrough();
  // kill -9: every acknowledged change is already on disk.
  agent_->Signal(SIGKILL);
  agent_->Wait(kTimeoutMs);
  StartAgent();
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0"}).find("deployed revisions: 1"), std::string::npos);
  EXPECT_NE(CtlOk({"subscription", "list", "--app", "ChatApp"}).find("Chats:1.0.0"), std::string::npos);
  // The engine restarts empty; the agent brings it up to date.
  engine_->Signal(SIGTERM);
  EXPECT_EQ(engine_->Wait(kTimeoutMs), 0);
  StartEngine();
  std::string status;
  int status_code = 1;
  for (int i = 0; i < 100; ++i) {  // status exits 0 once every engine is up at lag 0
    status_code = Ctl({"status"}, &status);
    if (status_code == 0) break;
    usleep(100000);
  }
  EXPECT_EQ(status_code, 0) << status;
  auto client = Wscat("/chats/1.0.0/rooms/room2", token);
  EXPECT_TRUE(client->WaitForOutput("You joined room2!", kTimeoutMs)) << client->output();
}

// The connection registry (issue 13, ops-registry): `wsgatectl conn ls/get/send/close` against a
// live wscat session. wscat prints the close code and reason only on a terminal, so this one runs
// under script(1)'s pseudo-terminal.
TEST_F(AgentWalkthrough, ConnectionRegistryAgainstWscat) {
  std::string token = Walkthrough();
  Subprocess room({"/usr/bin/script", "-qfec",
                   std::string(WSGATE_WSCAT) + " --no-color -c ws://127.0.0.1:" + engine_port_ +
                       "/chats/1.0.0/rooms/room1 -H 'Authorization: Bearer " + token + "'",
                   "/dev/null"});
  ASSERT_TRUE(room.WaitForOutput("You joined room1!", kTimeoutMs)) << room.output();

  std::string ls = CtlOk({"conn", "ls", "--api", "Chats:1.0.0", "--app", "ChatApp", "--topic", "/rooms/{roomID}",
                          "--client", "127.0.0.1"});
  ASSERT_EQ(std::count(ls.begin(), ls.end(), '\n'), 0) << "one connection: " << ls;
  std::string id = ls.substr(0, ls.find('\t'));
  EXPECT_NE(ls.find("Chats:1.0.0\t/rooms/{roomID}"), std::string::npos) << ls;
  EXPECT_EQ(std::count(id.begin(), id.end(), '-'), 3) << id;
  EXPECT_NE(CtlOk({"conn", "ls", "-o", "json"}).find("\"id\": \"" + id + "\""), std::string::npos);
  EXPECT_EQ(CtlOk({"conn", "ls", "--topic", "/notifications"}), "No live connections match");
  EXPECT_EQ(CtlOk({"conn", "ls", "--env", "Production and Sandbox"}).substr(0, id.size()), id);
  std::string out;
  EXPECT_EQ(Ctl({"conn", "ls", "--app", "NoSuchApp"}, &out), 1);
  EXPECT_NE(out.find("filter.application"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"conn", "ls", "--env", "Mars"}, &out), 1);
  EXPECT_NE(out.find("filter.environment"), std::string::npos) << out;
  std::string got = CtlOk({"conn", "get", id});
  EXPECT_NE(got.find("topic /rooms/{roomID}"), std::string::npos) << got;
  EXPECT_NE(got.find("key type PRODUCTION"), std::string::npos) << got;

  CtlOk({"conn", "send", id, "hello from the operator"});
  EXPECT_TRUE(room.WaitForOutput("hello from the operator", kTimeoutMs)) << room.output();
  EXPECT_EQ(Ctl({"conn", "send", "not-an-id", "x"}, &out), 1);
  EXPECT_NE(out.find("connection id 'not-an-id'"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"conn", "send", "00000000000000ff-0-0-1", "x"}, &out), 1);
  EXPECT_NE(out.find("no engine of this agent"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"conn", "close", id, "--code", "1006"}, &out), 1);
  EXPECT_NE(out.find("code: 1006"), std::string::npos) << out;

  CtlOk({"conn", "close", id, "--code", "4000", "--reason", "closed by ops"});
  EXPECT_EQ(room.Wait(kTimeoutMs), 0) << room.output();
  EXPECT_NE(room.output().find("Disconnected (code: 4000, reason: \"closed by ops\")"), std::string::npos)
      << room.output();
  EXPECT_EQ(Ctl({"conn", "get", id}, &out), 1);
  EXPECT_NE(out.find("no such connection"), std::string::npos) << out;

  // The audit log has every mutation this test made, with its outcome, newest first; reads
  // (conn ls/get, api get) are not in it, and no token or secret is.
  std::string audit = CtlOk({"audit", "--since", "1h"});
  EXPECT_NE(audit.substr(0, audit.find('\n')).find("\tadmin\tCloseConnection\tconnection " + id + "\tOK"),
            std::string::npos) << audit;
  EXPECT_NE(audit.find("\tadmin\tCloseConnection\tconnection " + id + "\tINVALID_ARGUMENT: code: 1006"),
            std::string::npos) << audit;
  EXPECT_NE(audit.find("\tSendToConnection\tconnection " + id + "\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tSendToConnection\tconnection not-an-id\tINVALID_ARGUMENT"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tCreateApi\tapi Chats:1.0.0\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tDeployRevision\trevision Chats:1.0.0 revision 1\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tGenerateKeys\tkeys ChatApp\tOK"), std::string::npos) << audit;
  EXPECT_EQ(audit.find("GetConnection"), std::string::npos) << audit;
  EXPECT_EQ(audit.find("ListConnections"), std::string::npos) << audit;
  EXPECT_EQ(audit.find(token), std::string::npos);
  std::string two = CtlOk({"audit", "--limit", "2"});
  EXPECT_EQ(std::count(two.begin(), two.end(), '\n'), 1) << two;
  EXPECT_NE(CtlOk({"audit", "-o", "json"}).find("\"method\": \"CloseConnection\""), std::string::npos);
  EXPECT_EQ(CtlOk({"audit", "--since", "2999-01-01T00:00:00Z"}), "No audit records");
  EXPECT_EQ(Ctl({"audit", "--since", "yesterday"}, &out), 1);
  EXPECT_NE(out.find("--since"), std::string::npos) << out;

  // Usage: N frames from a client alone in its room (nothing comes back) add N to the
  // subscription's AsyncGold window, on the engine and in the total.
  auto used = [&] {
    std::string u = CtlOk({"usage", "ChatApp", "Chats:1.0.0"});
    size_t at = u.find("total\tsubscription ");
    EXPECT_NE(at, std::string::npos) << u;
    at = u.find("AsyncGold\t", at);
    return at == std::string::npos ? -1 : std::atoi(u.c_str() + at + 10);
  };
  int before = used();
  EXPECT_GE(before, 1) << "the welcome frames count";
  auto alone = Wscat("/chats/1.0.0/rooms/room2", token);
  ASSERT_TRUE(alone->WaitForOutput("You joined room2!", kTimeoutMs)) << alone->output();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(alone->WriteStdin("frame " + std::to_string(i) + "\n"));
  int after = 0;
  for (int i = 0; i < 100 && (after = used()) < before + 4; ++i) usleep(50000);
  EXPECT_EQ(after, before + 4) << "its welcome and its 3 frames";
  std::string usage = CtlOk({"usage", "ChatApp"});
  EXPECT_NE(usage.find("/50000 events\tresets "), std::string::npos) << usage;
  EXPECT_NE(usage.find("engine unix:"), std::string::npos) << usage;
  EXPECT_EQ(Ctl({"usage", "NoSuchApp"}, &out), 1);
  EXPECT_NE(out.find("application"), std::string::npos) << out;
}

// The agent's Prometheus endpoint (issue 13 item 2): promtool accepts it, and it shows what this
// test did (admin RPCs by method and code, catalog size, the engine up with no lag).
TEST_F(AgentWalkthrough, AgentMetricsPassPromtool) {
  ASSERT_NE(metrics_port_, "0") << agent_->output();
  Walkthrough();
  std::string out;
  EXPECT_EQ(Ctl({"api", "get", "Nope:1.0.0"}, &out), 1);
  Subprocess bad_client({"/usr/bin/curl", "-s", "-u", "nobody:wrong", "-d", "grant_type=client_credentials",
                         "http://127.0.0.1:" + token_port_ + "/oauth2/token"});
  bad_client.Wait(kTimeoutMs);
  std::string file = dir_ + "/metrics.txt";
  Subprocess curl({"/usr/bin/curl", "-sf", "-o", file, "http://127.0.0.1:" + metrics_port_ + "/metrics"});
  ASSERT_EQ(curl.Wait(kTimeoutMs), 0) << curl.output();
  std::string text;
  {
    FILE* f = fopen(file.c_str(), "r");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof(buf), f)) text.append(buf, n);
    fclose(f);
  }
  EXPECT_NE(text.find("wsgate_agent_admin_rpcs_total{method=\"CreateApi\",code=\"OK\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_admin_rpcs_total{method=\"GetApi\",code=\"NOT_FOUND\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("wsgate_agent_catalog_objects{kind=\"apis\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_catalog_objects{kind=\"subscriptions\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_engine_up{engine=\"unix:" + dir_ + "/engine.sock\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_build_info{version="), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_tokens_issued_total{grant=\"admin\",key_type=\"PRODUCTION\"} 1"),
            std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_tokens_issued_total{grant=\"client_credentials\",key_type=\"SANDBOX\"} 0"),
            std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_oauth_requests_total{endpoint=\"/oauth2/token\",status=\"401\"} 1"),
            std::string::npos) << text;
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool missing (Debian package prometheus; tools/setup.sh)";
  Subprocess promtool({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + file});
  EXPECT_EQ(promtool.Wait(kTimeoutMs), 0) << promtool.output();
}

// `wsgatectl top` (issue 13 item 5, helper top) against live wscat sessions: two clients in a
// room, one sending while `top --once` measures; plain tables off a terminal, the ANSI view and
// its restore on a pseudo-terminal (script(1)), where q quits.
TEST_F(AgentWalkthrough, TopShowsLiveTrafficPerApi) {
  std::string token = Walkthrough();
  auto sender = Wscat("/chats/1.0.0/rooms/room1", token);
  auto member = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(sender->WaitForOutput("You joined room1!", kTimeoutMs)) << sender->output();
  ASSERT_TRUE(member->WaitForOutput("You joined room1!", kTimeoutMs)) << member->output();
  Subprocess top(CtlArgs({"top", "--once", "--interval", "1s"}));
  for (int i = 0; i < 15; ++i) {  // throughout top's one-second window
    ASSERT_TRUE(sender->WriteStdin("frame " + std::to_string(i) + "\n"));
    usleep(100000);
  }
  ASSERT_EQ(top.Wait(kTimeoutMs), 0) << top.output();
  std::string out = top.output();
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << "no terminal: no escape sequences";
  EXPECT_NE(out.find("1 engine, rates over 1."), std::string::npos) << out;
  EXPECT_NE(out.find("API "), std::string::npos) << out;
  size_t row = out.find("\nChats:1.0.0 ");
  ASSERT_NE(row, std::string::npos) << out;
  std::istringstream cols(out.substr(row + 1, out.find('\n', row + 1) - row - 1));
  std::string api;
  double conns = 0, fresh = 0, in = 0, outbound = 0, throttled = 0, denied = 0, errors = 0;
  cols >> api >> conns >> fresh >> in >> outbound >> throttled >> denied >> errors;
  EXPECT_EQ(conns, 2) << out;
  EXPECT_GE(in, 3.0) << "the sender's frames (about 10/s): " << out;
  EXPECT_GT(outbound, 0.0) << "the room's broadcasts to the member: " << out;
  EXPECT_EQ(throttled + denied + errors, 0) << out;
  EXPECT_NE(out.find("\nTOTAL "), std::string::npos) << out;

  std::string twice;
  ASSERT_EQ(Ctl({"top", "--count", "2", "--interval", "200ms"}, &twice), 0) << twice;
  size_t first = twice.find("wsgate top  ");
  ASSERT_NE(first, std::string::npos) << twice;
  EXPECT_NE(twice.find("\n\nwsgate top  ", first), std::string::npos) << "two tables, a blank line between: " << twice;
  EXPECT_EQ(Ctl({"top", "--interval", "5"}, &twice), 1);
  EXPECT_NE(twice.find("--interval: '5'"), std::string::npos) << twice;
  EXPECT_EQ(Ctl({"top", "--once", "--env", "Mars"}, &twice), 1);
  EXPECT_NE(twice.find("environment: no environment named 'Mars'"), std::string::npos) << twice;
  std::string json = CtlOk({"top", "--once", "--interval", "100ms", "-o", "json"});
  EXPECT_NE(json.find("\"name\": \"Chats\""), std::string::npos) << "the raw counters, per API: " << json;
  EXPECT_NE(json.find("\"sampled_unix_ms\""), std::string::npos) << json;

  // On a terminal: cleared and redrawn in place, cursor hidden, until q; then the cursor is back.
  std::string command;
  for (const auto& a : CtlArgs({"top", "--interval", "200ms"})) command += "'" + a + "' ";
  Subprocess live({"/usr/bin/script", "-qfec", command, "/dev/null"});
  ASSERT_TRUE(live.WaitForOutput("(q or Ctrl-C to quit)", kTimeoutMs)) << live.output();
  ASSERT_TRUE(live.WriteStdin("q"));
  EXPECT_EQ(live.Wait(kTimeoutMs), 0) << live.output();
  EXPECT_NE(live.output().find("\x1b[?25l"), std::string::npos) << live.output();
  EXPECT_NE(live.output().find("\x1b[H\x1b[2J"), std::string::npos) << live.output();
  EXPECT_NE(live.output().find("\x1b[?25h"), std::string::npos) << "cursor restored: " << live.output();
}

TEST(WsgatectlDocs, EveryCommandIsDocumented) {
  Subprocess help({WSGATE_CTL, "--help"});
  ASSERT_EQ(help.Wait(kTimeoutMs), 0);
  std::string doc;
  {
    FILE* f = fopen(WSGATE_SOURCE_DIR "/docs/cli.md", "r");
    ASSERT_NE(f, nullptr) << "docs/cli.md is missing";
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof(buf), f)) doc.append(buf, n);
    fclose(f);
  }
  // Every "  group verb" line of the overview names a command; docs/cli.md must mention each.
  std::string out = help.output();
  size_t at = out.find("Commands:\n");
  ASSERT_NE(at, std::string::npos);
  std::istringstream lines(out.substr(at + 10));
  std::string line;
  int commands = 0;
  while (std::getline(lines, line)) {
    if (line.size() < 3 || line[0] != ' ' || line[2] == ' ') continue;
    // The command is the leading lower-case words of the first column (before a double space).
    std::string first = line.substr(2, line.find("  ", 2) == std::string::npos ? std::string::npos : line.find("  ", 2) - 2);
    std::istringstream words(first);
    std::string word, path;
    for (int n = 0; n < 2 && words >> word; ++n) {
      bool lower = std::all_of(word.begin(), word.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)) || c == '-'; });
      if (!lower) break;
      path += (path.empty() ? "" : " ") + word;
    }
    ++commands;
    EXPECT_NE(doc.find("`" + path), std::string::npos) << "docs/cli.md does not document `" << path << "`";
  }
  EXPECT_GE(commands, 30);
}

TEST_F(AgentWalkthrough, OAuth2TokenEndpoint) {
  Walkthrough();
  auto [key, secret] = Credentials(keys_);
  ASSERT_FALSE(key.empty()) << keys_;
  auto curl = &AgentWalkthrough::Curl;
  std::string url = "http://127.0.0.1:" + token_port_;
  std::string ok = curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials", url + "/oauth2/token"});
  EXPECT_NE(ok.find("\"token_type\":\"Bearer\",\"expires_in\":3600"), std::string::npos) << ok;
  EXPECT_EQ(ok.substr(ok.size() - 3), "200");
  std::string token = AccessToken(ok);
  auto client = Wscat("/chats/1.0.0/notifications", token);
  EXPECT_TRUE(client->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << client->output();

  std::string bad = curl({"-u", key + ":wrong", "-d", "grant_type=client_credentials", url + "/oauth2/token"});
  EXPECT_NE(bad.find("\"error\":\"invalid_client\""), std::string::npos) << bad;
  EXPECT_EQ(bad.substr(bad.size() - 3), "401");
  std::string grant = curl({"-u", key + ":" + secret, "-d", "grant_type=password", url + "/oauth2/token"});
  EXPECT_NE(grant.find("unsupported_grant_type"), std::string::npos) << grant;
  std::string missing = curl({"-u", key + ":" + secret, "-d", "scope=x", url + "/oauth2/token"});
  EXPECT_NE(missing.find("invalid_request"), std::string::npos) << missing;
  std::string jwks = curl({url + "/.well-known/jwks.json"});
  EXPECT_NE(jwks.find("\"kty\":\"RSA\""), std::string::npos) << jwks;
  // RFC 7009 revocation closes the socket opened with that token.
  std::string revoked = curl({"-u", key + ":" + secret, "-d", "token=" + token, url + "/oauth2/revoke"});
  EXPECT_EQ(revoked.substr(revoked.size() - 3), "200") << revoked;
  EXPECT_EQ(client->Wait(kTimeoutMs), 0) << client->output();
}

// `wsgatectl snapshot --standalone` (issue 17): the agent's catalog as a file an engine serves
// alone; the token the agent issued works against that engine with no agent running.
TEST_F(AgentWalkthrough, SnapshotStandaloneServesTheCatalogWithoutTheAgent) {
  std::string token = Walkthrough();
  std::string out;
  EXPECT_NE(Ctl({"snapshot", "--standalone"}, &out), 0);
  EXPECT_NE(out.find("--standalone needs --file FILE"), std::string::npos) << out;
  EXPECT_NE(Ctl({"snapshot", "--env", "Nope"}, &out), 0);
  EXPECT_NE(out.find("Nope"), std::string::npos) << out;
  std::string readable = CtlOk({"snapshot"});
  EXPECT_EQ(readable.rfind("# wsgate.v1.Snapshot of the default environment", 0), 0u) << readable;
  EXPECT_NE(readable.find("name: \"Chats\""), std::string::npos) << readable;
  std::string file = dir_ + "/standalone.textproto";
  EXPECT_NE(CtlOk({"snapshot", "--standalone", "-f", file}).find("serve it with: wsgate-engine --config " + file),
            std::string::npos);
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Subprocess check({WSGATE_ENGINE, "--check-config", file});
  ASSERT_EQ(check.Wait(kTimeoutMs), 0) << check.output();

  agent_.reset();
  engine_.reset();
  engine_ = std::make_unique<Subprocess>(std::vector<std::string>{
      WSGATE_ENGINE, "--config", file, "--control", "unix:" + dir_ + "/standalone.sock", "--ws-listen", "127.0.0.1:0",
      "--admin-listen", "", "--shards", "1"});
  size_t at = 0;
  engine_port_ = std::to_string(PortAfter(*engine_, "(port ", &at));
  ASSERT_NE(engine_port_, "0") << engine_->output();
  auto client = Wscat("/chats/1.0.0/notifications", token);
  EXPECT_TRUE(client->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << client->output() << engine_->output();
}

// Issue 14 item 1: scopes are declared by the API, topics name them, and a self-service client
// gets from /oauth2/token only the scopes its subscriptions (and its owner's roles) allow: it
// cannot reach a topic whose scope it was not granted.
TEST_F(AgentWalkthrough, DeclaredScopesGateTheTokenEndpointAndTopics) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  CtlOk({"topic", "delete", "Chats:1.0.0", "/*"});
  std::string out;
  EXPECT_EQ(Ctl({"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}",
                 "--scope", "chat:write"}, &out), 1);
  EXPECT_NE(out.find("names scope 'chat:write', which API Chats:1.0.0 does not declare (declared: none); declare it "
                     "first: wsgatectl api scope add Chats:1.0.0 chat:write"), std::string::npos) << out;
  CtlOk({"api", "scope", "add", "Chats:1.0.0", "chat:write", "--description", "post in rooms"});
  CtlOk({"api", "scope", "add", "Chats:1.0.0", "chat:moderate", "--role", "admin", "--role", "publisher"});
  EXPECT_EQ(Ctl({"api", "scope", "add", "Chats:1.0.0", "chat:write"}, &out), 1);
  EXPECT_NE(out.find("already declares scope 'chat:write'"), std::string::npos) << out;
  CtlOk({"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}", "--scope", "chat:write"});
  EXPECT_EQ(Ctl({"api", "scope", "delete", "Chats:1.0.0", "chat:write"}, &out), 1);  // a topic names it
  EXPECT_NE(out.find("topics[0].scopes"), std::string::npos) << out;
  std::string list = CtlOk({"api", "scope", "list", "Chats:1.0.0"});
  EXPECT_NE(list.find("chat:write\troles: (any)\tpost in rooms"), std::string::npos) << list;
  EXPECT_NE(list.find("chat:moderate\troles: admin,publisher"), std::string::npos) << list;
  std::string unscoped = PublishSubscribeAndToken("AsyncGold");  // ChatApp, owned by admin

  // A self-service application owned by alice (no roles), subscribed to Chats.
  CtlOk({"app", "create", "Alice", "--owner", "alice"});
  CtlOk({"subscription", "create", "Alice", "Chats:1.0.0", "--plan", "AsyncGold"});
  auto [key, secret] = Credentials(CtlOk({"keys", "generate", "Alice", "--type", "PRODUCTION"}));
  ASSERT_FALSE(key.empty());
  std::string url = "http://127.0.0.1:" + token_port_ + "/oauth2/token";
  for (const char* scope : {"admin", "chat:moderate", "chat:write%20chat:moderate"}) {
    std::string refused = Curl({"-u", key + ":" + secret, "-d", std::string("grant_type=client_credentials&scope=") + scope, url});
    EXPECT_EQ(refused.substr(refused.size() - 3), "400") << scope << ": " << refused;
    EXPECT_NE(refused.find("\"error\":\"invalid_scope\""), std::string::npos) << refused;
  }
  std::string bound = Curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials&scope=chat:moderate", url});
  EXPECT_NE(bound.find("declared by Chats:1.0.0, it is bound to the roles admin, publisher"), std::string::npos) << bound;
  std::string granted = Curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials&scope=chat:write", url});
  EXPECT_NE(granted.find("\"scope\":\"chat:write\""), std::string::npos) << granted;
  std::string plain = Curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials", url});
  ASSERT_EQ(plain.substr(plain.size() - 3), "200") << plain;

  // With the scope: the scoped topic opens. Without it: the engine's scope refusal (403).
  auto writer = Wscat("/chats/1.0.0/rooms/room1", AccessToken(granted));
  EXPECT_TRUE(writer->WaitForOutput("You joined room1!", kTimeoutMs)) << writer->output();
  for (const std::string& token : {AccessToken(plain), unscoped}) {
    auto refused = Wscat("/chats/1.0.0/rooms/room1", token);
    EXPECT_NE(refused->Wait(kTimeoutMs), 0);
    EXPECT_NE(refused->output().find("Unexpected server response: 403"), std::string::npos) << refused->output();
  }
  // The admin owner holds every role; wsgatectl token applies the same rules.
  EXPECT_EQ(Ctl({"token", "ChatApp", "--type", "PRODUCTION", "--scope", "chat:moderate"}, &out), 0) << out;
  EXPECT_EQ(Ctl({"token", "Alice", "--type", "PRODUCTION", "--scope", "chat:moderate"}, &out), 1);
  EXPECT_NE(out.find("was not granted scope 'chat:moderate'"), std::string::npos) << out;
}

// Issue 14 item 5: opaque tokens from `wsgatectl token --opaque` and from /oauth2/token for an
// application with token_format opaque; the engine knows only their hashes; revoking one closes
// its live socket with 4001 (wscat exits 0 on the close frame) and refuses it afterwards.
TEST_F(AgentWalkthrough, OpaqueTokensConnectAndRevocationClosesTheirSockets) {
  DeployWithPlan("AsyncGold");
  std::string opaque = CtlOk({"token", "ChatApp", "--type", "PRODUCTION", "--opaque"});
  EXPECT_EQ(opaque.size(), 64u) << opaque;
  EXPECT_EQ(opaque.find('.'), std::string::npos) << opaque;
  auto live = Wscat("/chats/1.0.0/rooms/room1", opaque);
  ASSERT_TRUE(live->WaitForOutput("You joined room1!", kTimeoutMs)) << live->output();
  CtlOk({"token", "revoke", opaque});
  EXPECT_EQ(live->Wait(kTimeoutMs), 0) << live->output();
  auto again = Wscat("/chats/1.0.0/rooms/room1", opaque);
  EXPECT_NE(again->Wait(kTimeoutMs), 0);
  EXPECT_NE(again->output().find("401"), std::string::npos) << again->output();
  std::string out;
  EXPECT_EQ(Ctl({"token", "revoke", opaque}, &out), 1);
  EXPECT_NE(out.find("no live opaque token"), std::string::npos) << out;

  // token_format=opaque: the OAuth2 endpoint issues opaque tokens for that application.
  EXPECT_EQ(Ctl({"app", "update", "ChatApp", "--token-format", "paseto"}, &out), 1);
  EXPECT_NE(out.find("--token-format: 'paseto' is not jwt or opaque"), std::string::npos) << out;
  EXPECT_NE(CtlOk({"app", "update", "ChatApp", "--token-format", "opaque"}).find("tokens opaque"), std::string::npos);
  auto [key, secret] = Credentials(CtlOk({"keys", "generate", "ChatApp", "--type", "PRODUCTION", "--regenerate"}));
  std::string url = "http://127.0.0.1:" + token_port_;
  std::string answer = Curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials", url + "/oauth2/token"});
  std::string token = AccessToken(answer);
  ASSERT_EQ(token.size(), 64u) << answer;
  // The agent pushes the new hash; the engine may take a moment to apply it.
  std::unique_ptr<Subprocess> client;
  for (int i = 0; i < 20; ++i) {
    client = Wscat("/chats/1.0.0/rooms/room2", token);
    if (client->WaitForOutput("You joined room2!", 2000)) break;
  }
  ASSERT_NE(client->output().find("You joined room2!"), std::string::npos) << client->output();
  std::string revoked = Curl({"-u", key + ":" + secret, "-d", "token=" + token, url + "/oauth2/revoke"});
  EXPECT_EQ(revoked.substr(revoked.size() - 3), "200") << revoked;
  EXPECT_EQ(client->Wait(kTimeoutMs), 0) << client->output();
}

}  // namespace
