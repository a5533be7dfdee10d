// End-to-end tests of gateway environments (issue 12): wsgate-agent with two wsgate-engines, one
// registered to the default environment and one to a second environment ("Edge", vhost
// gw.example.test), the chat backend, wsgatectl and wscat. Each engine gets only what is deployed
// to its environment; settings set with wsgatectl reach the live engine; count-only plans never
// drop; the default vhost serves any Host; a certificate set per vhost is what wss clients see
// (SNI); a per-API message limit overrides the environment's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/ws_client.h"

namespace {

using wsgate::testing::ParseClose;
using wsgate::testing::Subprocess;
using wsgate::testing::WsClient;

constexpr int kTimeoutMs = 15000;

class AgentEnvironments : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(WSGATE_WSCAT, X_OK), 0) << "run tools/setup.sh";
    char tmpl[] = "/tmp/wsgate-envs-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = std::make_unique<Subprocess>(std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0"});
    size_t at = 0;
    backend_port_ = std::to_string(backend_->NumberAfter("Notifications on: ws://localhost:", kTimeoutMs, &at));
    ASSERT_NE(backend_port_, "0") << backend_->output();
    // e1 serves the default environment (ws only: no certificate); e2 serves "Edge" (ws and wss,
    // with a development certificate for localhost as its default one).
    e1_ = StartEngine("e1", false, &e1_port_, nullptr);
    e2_ = StartEngine("e2", true, &e2_port_, &e2_wss_port_);
    agent_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data", "--engine", "unix:" + dir_ + "/e1.sock", "--engine",
        "unix:" + dir_ + "/e2.sock@Edge", "--admin-listen", "127.0.0.1:0", "--token-listen", "127.0.0.1:0"});
    at = 0;
    admin_port_ = std::to_string(agent_->NumberAfter("(port ", kTimeoutMs, &at));
    ASSERT_NE(admin_port_, "0") << agent_->output();
    // Until Edge exists, e2 gets no config (and every change waits for it): create it first.
    CtlOk({"env", "create", "Edge", "--type", "production", "--vhost", "gw.example.test"});
  }
  void TearDown() override {
    agent_.reset();
    e1_.reset();
    e2_.reset();
    backend_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  std::unique_ptr<Subprocess> StartEngine(const std::string& name, bool wss, std::string* port, std::string* wss_port) {
    std::vector<std::string> argv = {WSGATE_ENGINE, "--control", "unix:" + dir_ + "/" + name + ".sock", "--ws-listen",
                                     "127.0.0.1:0", "--shards", "1", "--admin-listen", "127.0.0.1:0"};
    if (wss)
      argv.insert(argv.end(), {"--wss-listen", "127.0.0.1:0", "--tls-cert", dir_ + "/" + name + "-cert.pem",
                               "--tls-key", dir_ + "/" + name + "-key.pem", "--tls-dev-cert"});
    auto p = std::make_unique<Subprocess>(argv);
    size_t at = 0;
    *port = std::to_string(p->NumberAfter("(port ", kTimeoutMs, &at));
    EXPECT_NE(*port, "0") << p->output();
    if (wss_port) {
      *wss_port = std::to_string(p->NumberAfter("(port ", kTimeoutMs, &at));
      EXPECT_NE(*wss_port, "0") << p->output();
    }
    return p;
  }
  // wsgatectl against this agent: its exit code, and its output in *out.
  int Ctl(std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", "127.0.0.1:" + admin_port_, "--data-dir", dir_ + "/data"});
    return wsgate::testing::RunToEnd(args, kTimeoutMs, out);
  }
  std::string CtlOk(const std::vector<std::string>& args) {
    std::string out;
    EXPECT_EQ(Ctl(args, &out), 0) << "wsgatectl " << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << out;
    return out;
  }
  // An API with the walkthrough's topics, published, revision 1 deployed to env/vhost; its
  // application and a production token.
  std::string Publish(const std::string& name, const std::string& context, const std::string& env,
                      const std::string& vhost, const std::string& plan = "AsyncGold") {
    std::string api = name + ":1.0.0";
    CtlOk({"api", "create", name, "--context", context, "--version", "1.0.0", "--endpoint",
           "ws://localhost:" + backend_port_});
    CtlOk({"topic", "delete", api, "/*"});
    CtlOk({"topic", "add", api, "/notifications", "--mapping", "/notifications"});
    CtlOk({"topic", "add", api, "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}"});
    CtlOk({"api", "plans", api, plan});
    CtlOk({"api", "lifecycle", api, "Publish"});
    CtlOk({"revision", "create", api});
    CtlOk({"revision", "deploy", api, "1", "--env", env, "--vhost", vhost});
    CtlOk({"app", "create", name + "App"});
    CtlOk({"subscription", "create", name + "App", api, "--plan", plan});
    CtlOk({"keys", "generate", name + "App", "--type", "PRODUCTION"});
    return CtlOk({"token", name + "App", "--type", "PRODUCTION"});
  }
  std::unique_ptr<Subprocess> Wscat(const std::string& url, const std::string& token, const std::string& host = "") {
    std::vector<std::string> argv = {WSGATE_WSCAT, "--no-color", "-c", url, "-H", "Authorization: Bearer " + token};
    if (!host.empty()) argv.insert(argv.end(), {"-H", "Host: " + host});
    return std::make_unique<Subprocess>(argv);
  }
  std::string dir_, backend_port_, e1_port_, e2_port_, e2_wss_port_, admin_port_;
  std::unique_ptr<Subprocess> backend_, e1_, e2_, agent_;
};

TEST_F(AgentEnvironments, EachEngineServesOnlyItsEnvironment) {
  std::string local = Publish("Chats", "/chats", "Production and Sandbox", "localhost");
  std::string edge = Publish("EdgeChats", "/edge", "Edge", "gw.example.test");
  // A client with Host gw.example.test relays through e2, the engine of Edge.
  auto ok = Wscat("ws://127.0.0.1:" + e2_port_ + "/edge/1.0.0/notifications", edge, "gw.example.test");
  ASSERT_TRUE(ok->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << ok->output();
  // Edge has no default vhost: an unknown Host is 404 there.
  auto unknown = Wscat("ws://127.0.0.1:" + e2_port_ + "/edge/1.0.0/notifications", edge, "unknown.test");
  EXPECT_NE(unknown->Wait(kTimeoutMs), 0);
  EXPECT_NE(unknown->output().find("Unexpected server response: 404"), std::string::npos) << unknown->output();
  // e1 never got Edge's API, and e2 never got the default environment's.
  auto not_on_e1 = Wscat("ws://127.0.0.1:" + e1_port_ + "/edge/1.0.0/notifications", edge, "gw.example.test");
  EXPECT_NE(not_on_e1->Wait(kTimeoutMs), 0);
  EXPECT_NE(not_on_e1->output().find("Unexpected server response: 404"), std::string::npos) << not_on_e1->output();
  auto not_on_e2 = Wscat("ws://127.0.0.1:" + e2_port_ + "/chats/1.0.0/notifications", local, "gw.example.test");
  EXPECT_NE(not_on_e2->Wait(kTimeoutMs), 0);
  EXPECT_NE(not_on_e2->output().find("Unexpected server response: 404"), std::string::npos) << not_on_e2->output();
  // The walkthrough on e1 is unchanged.
  auto walkthrough = Wscat("ws://127.0.0.1:" + e1_port_ + "/chats/1.0.0/notifications", local);
  ASSERT_TRUE(walkthrough->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << walkthrough->output();

  // `wsgatectl status` sorts the engines by environment (a table: the column is 24 wide).
  std::string status = CtlOk({"status"});
  size_t edge_at = status.find("\nEdge" + std::string(20, ' ') + "unix:" + dir_ + "/e2.sock  up ");
  size_t default_at = status.find("\nProduction and Sandbox  unix:" + dir_ + "/e1.sock  up ");
  EXPECT_NE(edge_at, std::string::npos) << status;
  EXPECT_NE(default_at, std::string::npos) << status;
}

TEST_F(AgentEnvironments, EnvironmentRulesAtTheCommandLine) {
  std::string out;
  // Deploying where no engine is registered works, with a warning.
  CtlOk({"env", "create", "Lonely", "--vhost", "lonely.test,default"});
  CtlOk({"api", "create", "L", "--context", "/l", "--version", "1", "--endpoint", "ws://localhost:" + backend_port_});
  CtlOk({"revision", "create", "L:1"});
  out = CtlOk({"revision", "deploy", "L:1", "1", "--env", "Lonely"});
  EXPECT_NE(out.find("wsgatectl: warning: no engine is registered to environment 'Lonely'"), std::string::npos) << out;
  EXPECT_NE(out.find("Deployed revision 1 of L:1 to \"Lonely\" (vhost lonely.test)"), std::string::npos) << out;
  // An unknown environment or vhost is refused, naming what exists.
  EXPECT_EQ(Ctl({"revision", "deploy", "L:1", "1", "--env", "Mars"}, &out), 1);
  EXPECT_NE(out.find("unknown gateway environment 'Mars' (known: 'Edge', 'Lonely', 'Production and Sandbox'"),
            std::string::npos)
      << out;
  EXPECT_EQ(Ctl({"revision", "deploy", "L:1", "1", "--env", "Edge", "--vhost", "localhost"}, &out), 1);
  EXPECT_NE(out.find("environment 'Edge' has no vhost 'localhost' (it has: gw.example.test)"), std::string::npos) << out;
  // An environment with a deployment cannot be deleted.
  EXPECT_EQ(Ctl({"env", "delete", "Lonely"}, &out), 1);
  EXPECT_NE(out.find("serves revision 1 of L:1"), std::string::npos) << out;
  CtlOk({"revision", "undeploy", "L:1", "1"});
  CtlOk({"env", "delete", "Lonely"});
  EXPECT_EQ(CtlOk({"env", "list"}).find("Lonely"), std::string::npos);
  // A bad setting names the key and its range; nothing changes.
  EXPECT_EQ(Ctl({"settings", "set", "--env", "Edge", "queue_bytes=1MiB", "ping_interval=50ms"}, &out), 1);
  EXPECT_EQ(out, "wsgatectl: ping_interval: 50ms is out of range [1s, 1h]");
  EXPECT_NE(CtlOk({"settings", "get", "--env", "Edge"}).find("queue_bytes\t1MiB\t(default)"), std::string::npos);
}

// `settings set` on the default environment reaches its live engine: a message over the new
// max_message_bytes closes 1009, and Edge's engine keeps its own limit.
TEST_F(AgentEnvironments, SettingsSetTakesEffectOnTheLiveEngine) {
  std::string token = Publish("Chats", "/chats", "Production and Sandbox", "localhost");
  std::string big(2000, 'x');
  {
    WsClient c;
    ASSERT_TRUE(c.Connect(static_cast<uint16_t>(std::stoi(e1_port_)), "/chats/1.0.0/rooms/room1",
                          {"Authorization: Bearer " + token}));
    auto welcome = c.ReadMessage();
    ASSERT_TRUE(welcome.has_value());
    ASSERT_TRUE(c.SendText(big));
    EXPECT_TRUE(c.QuietFor(300)) << "a 2000-byte message is within the 16 MiB default";
  }
  std::string out = CtlOk({"settings", "set", "--env", "Production and Sandbox", "max_message_bytes=1KiB"});
  EXPECT_NE(out.find("max_message_bytes\t1KiB\t(default 16MiB)"), std::string::npos) << out;
  WsClient c;
  ASSERT_TRUE(c.Connect(static_cast<uint16_t>(std::stoi(e1_port_)), "/chats/1.0.0/rooms/room1",
                        {"Authorization: Bearer " + token}));
  ASSERT_TRUE(c.ReadMessage().has_value());  // the welcome
  ASSERT_TRUE(c.SendText(big));
  auto close = c.ReadMessage();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->opcode, 0x8);
  EXPECT_EQ(ParseClose(close->payload).code, 1009);
}

// A count-only plan (policy create --count-only) counts every event but never drops one.
TEST_F(AgentEnvironments, CountOnlyPlanNeverDrops) {
  std::string out = CtlOk({"policy", "create", "CountOnly", "--events", "2", "--unit", "minute", "--unit-count", "10",
                           "--count-only"});
  EXPECT_EQ(out, "Created policy CountOnly: Allows 2 events per 10 minutes (count only: never drops)");
  std::string token = Publish("Chats", "/chats", "Production and Sandbox", "localhost", "CountOnly");
  auto a = Wscat("ws://127.0.0.1:" + e1_port_ + "/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(a->WaitForOutput("You joined room1!", kTimeoutMs)) << a->output();
  auto b = Wscat("ws://127.0.0.1:" + e1_port_ + "/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(b->WaitForOutput("You joined room1!", kTimeoutMs)) << b->output();
  for (const char* m : {"first", "second", "third", "fourth"}) {
    ASSERT_TRUE(a->WriteStdin(std::string(m) + "\n"));
    ASSERT_TRUE(b->WaitForOutput(m, kTimeoutMs)) << b->output();
  }
  EXPECT_EQ(a->output().find("4003"), std::string::npos) << a->output();
  EXPECT_NE(CtlOk({"status", "-o", "json"}).find("\"throttled_frames\": \"0\""), std::string::npos);
}

// API-level policies attach and detach from the CLI, and a subscription's plan changes, with the
// engine enforcing each on the next revision / at once.
TEST_F(AgentEnvironments, PoliciesFromTheCommandLineReachTheEngine) {
  std::string token = Publish("Chats", "/chats", "Production and Sandbox", "localhost");
  // Two clients in `room` (room1 or room2: the backend's rooms); a says hello, then "one more".
  // True when that one was throttled out with WSO2's message (and never reached b).
  auto throttled = [&](const std::string& room) {
    auto a = Wscat("ws://127.0.0.1:" + e1_port_ + "/chats/1.0.0/rooms/" + room, token);
    EXPECT_TRUE(a->WaitForOutput("You joined " + room + "!", kTimeoutMs)) << a->output();
    auto b = Wscat("ws://127.0.0.1:" + e1_port_ + "/chats/1.0.0/rooms/" + room, token);
    EXPECT_TRUE(b->WaitForOutput("You joined " + room + "!", kTimeoutMs)) << b->output();
    EXPECT_TRUE(a->WriteStdin("hello\n"));
    EXPECT_TRUE(b->WaitForOutput("hello", kTimeoutMs)) << b->output();
    EXPECT_TRUE(a->WriteStdin("one more\n"));
    bool dropped = a->WaitForOutput("Error code: 4003 reason: Websocket frame throttled out", 1500);
    EXPECT_EQ(b->output().find("one more") == std::string::npos, dropped) << b->output();
    return dropped;
  };
  CtlOk({"policy", "create", "ApiTiny", "--level", "api", "--events", "4", "--unit", "hour"});
  CtlOk({"api", "update", "Chats:1.0.0", "--policy", "ApiTiny"});
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0"}).find("API policy: ApiTiny"), std::string::npos);
  CtlOk({"revision", "create", "Chats:1.0.0"});
  CtlOk({"revision", "deploy", "Chats:1.0.0", "2"});
  EXPECT_TRUE(throttled("room1")) << "the API-level policy (4 events an hour) is used up";
  CtlOk({"api", "update", "Chats:1.0.0", "--no-policy"});
  EXPECT_EQ(CtlOk({"api", "get", "Chats:1.0.0"}).find("API policy"), std::string::npos);
  CtlOk({"revision", "create", "Chats:1.0.0"});
  CtlOk({"revision", "deploy", "Chats:1.0.0", "3"});
  EXPECT_FALSE(throttled("room2")) << "detached: nothing limits the API";
  // The subscription moves from AsyncGold to a 4-an-hour plan: it has used more than that already.
  CtlOk({"policy", "create", "Tiny", "--events", "4", "--unit", "hour"});
  CtlOk({"api", "plans", "Chats:1.0.0", "AsyncGold", "Tiny"});
  std::string subs = CtlOk({"subscription", "list"});
  std::string id = subs.substr(subs.rfind('\t') + 1);
  std::string out = CtlOk({"subscription", "update", id, "--plan", "Tiny"});
  EXPECT_EQ(out, "Subscription " + id + " is on plan Tiny");
  EXPECT_TRUE(throttled("room1"));
}

// --- needs the engine side of issue 12 (cfg-engine's branch) ---

// The default environment's default vhost (localhost) serves any Host.
TEST_F(AgentEnvironments, DefaultVhostServesAnyHost) {
  std::string token = Publish("Chats", "/chats", "Production and Sandbox", "localhost");
  auto c = Wscat("ws://127.0.0.1:" + e1_port_ + "/chats/1.0.0/notifications", token, "gw.example.com");
  ASSERT_TRUE(c->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << c->output();
}

// `cert set` for a vhost is the certificate a wss client with that SNI sees.
TEST_F(AgentEnvironments, CertSetIsWhatWssClientsSee) {
  std::string cert = dir_ + "/gw-cert.pem", key = dir_ + "/gw-key.pem";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj "
                         "/CN=gw.example.test -addext subjectAltName=DNS:gw.example.test -keyout " +
                         key + " -out " + cert + " 2>/dev/null")
                            .c_str()),
            0);
  std::string out = CtlOk({"cert", "set", "--env", "Edge", "--vhost", "gw.example.test", "--cert", cert, "--key", key});
  EXPECT_NE(out.find("Certificate set: Edge\tgw.example.test\tCN=gw.example.test"), std::string::npos) << out;
  EXPECT_NE(CtlOk({"cert", "list"}).find("gw.example.test\tCN=gw.example.test\tSANs gw.example.test"),
            std::string::npos);
  auto subject = [&](const std::string& sni) {
    Subprocess s({"/bin/sh", "-c",
                  "openssl s_client -connect 127.0.0.1:" + e2_wss_port_ + " -servername " + sni +
                      " </dev/null 2>/dev/null | openssl x509 -noout -subject"});
    s.Wait(kTimeoutMs);
    return s.output();
  };
  EXPECT_NE(subject("gw.example.test").find("CN = gw.example.test"), std::string::npos);
  EXPECT_NE(subject("other.test").find("CN = localhost"), std::string::npos);  // the engine's default
}

// api update --max-message-size overrides the environment's max_message_bytes for that API.
TEST_F(AgentEnvironments, ApiMaxMessageSizeOverridesTheEnvironment) {
  std::string token = Publish("Chats", "/chats", "Production and Sandbox", "localhost");
  CtlOk({"settings", "set", "max_message_bytes=1KiB"});
  CtlOk({"api", "update", "Chats:1.0.0", "--max-message-size", "4KiB"});
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0"}).find("max message size: 4KiB"), std::string::npos);
  CtlOk({"revision", "create", "Chats:1.0.0"});
  CtlOk({"revision", "deploy", "Chats:1.0.0", "2"});
  WsClient c;
  ASSERT_TRUE(c.Connect(static_cast<uint16_t>(std::stoi(e1_port_)), "/chats/1.0.0/rooms/room1",
                        {"Authorization: Bearer " + token}));
  ASSERT_TRUE(c.ReadMessage().has_value());
  ASSERT_TRUE(c.SendText(std::string(2000, 'x')));
  EXPECT_TRUE(c.QuietFor(300)) << "2000 bytes is within the API's 4 KiB";
  ASSERT_TRUE(c.SendText(std::string(5000, 'x')));
  auto close = c.ReadMessage();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(ParseClose(close->payload).code, 1009);
}

}  // namespace
