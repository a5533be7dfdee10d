// End-to-end test of a two-host deployment (issue 19): each "host" is a network namespace
// (tests/support/netns.h) running its own wsgate-agent and wsgate-engine; both agents keep their
// catalog in one PostgreSQL and both engines count quotas in one Redis, served from the test's
// namespace at 10.231.11.1, as a shared database and cache on a network are. The chat backend
// listens there too.
//
//   host a (10.231.11.2): agent A (admin 9400, OAuth2 9401) → engine A (ws 9099)
//   host b (10.231.12.2): agent B (admin 9400, OAuth2 9401) → engine B (ws 9099)
//   shared (10.231.11.1): PostgreSQL, Redis, chat-backend
//
// An API created and deployed through agent A is served by engine B (agent B reads the shared
// catalog), a token agent A issued works on engine B (signing keys are in the catalog), a user
// made through agent A signs in to agent B, a plan of 20 events shared by both engines admits at
// most limit + engines × lease = 20 + 2 × 2 across them, when Redis dies both engines fall back
// to counting limit / 2 locally (--quota-fallback fail-local) and say so, and a token revoked
// through agent B closes its socket on engine A with 4001 (agent A hears of it from PostgreSQL).
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/local_server.h"
#include "tests/support/netns.h"
#include "tests/support/postgres_server.h"
#include "tests/support/redis_server.h"
#include "tests/support/subprocess.h"
#include "tests/support/ws_client.h"

namespace wsgate::testing {
namespace {

constexpr int kHostTimeoutMs = 20000;

// The word after `label` in `out` (the credential `user create` prints).
std::string After(const std::string& out, const std::string& label) {
  size_t at = out.find(label);
  if (at == std::string::npos) return "";
  at += label.size();
  return out.substr(at, out.find_first_of(" \n", at) - at);
}

// One simulated host: its namespace, data directory, agent and engine.
struct Host {
  std::unique_ptr<NetNamespace> ns;
  std::string dir;
  std::unique_ptr<Subprocess> engine, agent;
};

class MultiHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why; !NetNamespace::Available(&why)) GTEST_SKIP() << why;
    if (PostgresServer::BinDir().empty()) GTEST_SKIP() << PostgresServer::kMissing;
    if (RedisServer::Binary().empty()) GTEST_SKIP() << "redis-server is not installed (tools/setup.sh installs it)";
    for (int i = 0; i < 2; ++i) {
      hosts_[i].ns = std::make_unique<NetNamespace>(11 + i);
      ASSERT_TRUE(hosts_[i].ns->ok()) << hosts_[i].ns->error();
      hosts_[i].dir = MakeTempDir("wsgate-host-");
      ASSERT_FALSE(hosts_[i].dir.empty());
    }
    shared_ip_ = hosts_[0].ns->outside_ip();
    pg_.ListenAlsoOn(shared_ip_, "10.231.0.0/16");
    ASSERT_TRUE(pg_.Start()) << pg_.error();
    std::string uri = pg_.CreateDatabase("cluster");
    ASSERT_FALSE(uri.empty()) << pg_.error();
    catalog_ = "postgres://postgres@" + shared_ip_ + ":" + std::to_string(pg_.port()) + "/cluster";
    redis_.ListenAlsoOn(shared_ip_);
    ASSERT_TRUE(redis_.Start()) << redis_.error();
    backend_ = std::make_unique<Subprocess>(std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0", "--bind", shared_ip_});
    size_t at = 0;
    backend_port_ = std::to_string(backend_->NumberAfter("Notifications on: ws://localhost:", kHostTimeoutMs, &at));
    ASSERT_NE(backend_port_, "0") << backend_->output();
  }
  void TearDown() override {
    for (Host& h : hosts_) {
      h.agent.reset();
      h.engine.reset();
      RemoveTree(h.dir);
    }
  }
  void StartEngine(Host& h) {
    h.engine = std::make_unique<Subprocess>(h.ns->Wrap(
        {WSGATE_ENGINE, "--control", "unix:" + h.dir + "/engine.sock", "--ws-listen", h.ns->inside_ip() + ":9099",
         "--wss-listen", "", "--shards", "2", "--admin-listen", "127.0.0.1:9102", "--quota-store",
         "redis://" + shared_ip_ + ":" + std::to_string(redis_.port()), "--quota-engines", "2", "--quota-max-lease", "2",
         "--quota-fallback", "fail-local"}));
    ASSERT_TRUE(h.engine->WaitForOutput("listening for ws on " + h.ns->inside_ip() + ":9099", kHostTimeoutMs))
        << h.engine->output();
  }
  void StartAgent(Host& h) {
    h.agent = std::make_unique<Subprocess>(h.ns->Wrap(
        {WSGATE_AGENT, "--catalog", catalog_, "--data-dir", h.dir + "/data", "--engine", "unix:" + h.dir + "/engine.sock",
         "--admin-listen", h.ns->inside_ip() + ":9400", "--token-listen", h.ns->inside_ip() + ":9401", "--insecure-listen",
         "--console-listen", "off", "--metrics-listen", "127.0.0.1:0"}));
    ASSERT_TRUE(h.agent->WaitForOutput("(port 9401)", kHostTimeoutMs)) << h.agent->output();
  }
  // wsgatectl against host h's agent, as `credential` ("": h's admin.token).
  int Ctl(Host& h, std::vector<std::string> args, const std::string& credential, std::string* out) {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", h.ns->inside_ip() + ":9400", "--data-dir", h.dir + "/data"});
    std::vector<std::string> env;
    if (!credential.empty()) env.push_back("WSGATE_ADMIN_TOKEN=" + credential);
    Subprocess p(args, env);
    int code = p.Wait(kHostTimeoutMs);
    *out = p.output();
    while (!out->empty() && out->back() == '\n') out->pop_back();
    return code;
  }
  std::string CtlOk(Host& h, const std::vector<std::string>& args, const std::string& credential = "") {
    std::string out;
    EXPECT_EQ(Ctl(h, args, credential, &out), 0) << "wsgatectl " << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << out;
    return out;
  }
  // A WebSocket client of engine h alone in `room` (the welcome read: one event, backend to
  // client; alone, its messages come back to nobody, so each one is exactly one more event).
  std::unique_ptr<WsClient> Join(Host& h, const std::string& token, const std::string& room) {
    auto c = std::make_unique<WsClient>();
    EXPECT_TRUE(c->ConnectTcpTo(h.ns->inside_ip(), 9099, kHostTimeoutMs));
    EXPECT_TRUE(c->Upgrade(9099, "/chats/1.0.0/rooms/" + room, {"Authorization: Bearer " + token})) << c->response();
    auto welcome = c->ReadMessage();
    EXPECT_TRUE(welcome && welcome->payload == "You joined " + room + "!") << (welcome ? welcome->payload : "(nothing)");
    return c;
  }

  // The data frames engine h relayed, both directions summed (wsgate_engine_frames_total from
  // its admin listener, 127.0.0.1:9102 inside its namespace): the events its plans admitted.
  double FramesRelayed(Host& h) {
    std::string metrics;
    EXPECT_EQ(RunToEnd(h.ns->Wrap({"/usr/bin/curl", "-s", "--max-time", "5", "http://127.0.0.1:9102/metrics"}), kHostTimeoutMs,
                       &metrics),
              0);
    double sum = 0;
    for (size_t at = metrics.find("\nwsgate_engine_frames_total{"); at != std::string::npos;
         at = metrics.find("\nwsgate_engine_frames_total{", at + 1))
      sum += std::stod(metrics.substr(metrics.find("} ", at) + 2));
    return sum;
  }

  // Through agent `h`: an operator user (its credential in *ops), the Chats API on the shared
  // backend with `plan` (created first when `events` > 0), published, deployed, and a
  // subscriber's token.
  std::string DeployChats(Host& h, const std::string& plan, int events, std::string* ops) {
    *ops = After(CtlOk(h, {"user", "create", "ops", "--role", "admin"}), "Credential: ");
    if (events > 0) CtlOk(h, {"policy", "create", plan, "--events", std::to_string(events), "--unit", "day"}, *ops);
    CtlOk(h, {"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
              "ws://" + shared_ip_ + ":" + backend_port_}, *ops);
    CtlOk(h, {"topic", "delete", "Chats:1.0.0", "/*"}, *ops);
    CtlOk(h, {"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}"}, *ops);
    CtlOk(h, {"api", "plans", "Chats:1.0.0", plan}, *ops);
    CtlOk(h, {"api", "lifecycle", "Chats:1.0.0", "Publish"}, *ops);
    CtlOk(h, {"revision", "create", "Chats:1.0.0"}, *ops);
    CtlOk(h, {"revision", "deploy", "Chats:1.0.0", "1"}, *ops);
    CtlOk(h, {"app", "create", "ChatApp"}, *ops);
    CtlOk(h, {"subscription", "create", "ChatApp", "Chats:1.0.0", "--plan", plan}, *ops);
    CtlOk(h, {"keys", "generate", "ChatApp", "--type", "PRODUCTION"}, *ops);
    std::string token = CtlOk(h, {"token", "ChatApp", "--type", "PRODUCTION"}, *ops);
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2) << token;
    return token;
  }
  // The next close frame `c` reads (data messages before it skipped); its code, or 0.
  static int CloseCode(WsClient& c) {
    std::optional<WsFrame> f;
    while ((f = c.ReadMessage()) && f->opcode != 0x8) {
    }
    return f ? ParseClose(f->payload).code : 0;
  }

  Host hosts_[2];
  PostgresServer pg_;
  RedisServer redis_;
  std::unique_ptr<Subprocess> backend_;
  std::string shared_ip_, catalog_, backend_port_;
};

TEST_F(MultiHost, TwoAgentsShareACatalogAndTwoEnginesShareAPlan) {
  Host& a = hosts_[0];
  Host& b = hosts_[1];
  StartEngine(a);
  StartEngine(b);
  StartAgent(a);

  // Host a: an operator user, the API with a plan of 20 events a day, a subscriber's token.
  std::string ops;
  std::string token = DeployChats(a, "Shared20", 20, &ops);
  ASSERT_FALSE(token.empty());

  // Host b joins: its agent reads the shared catalog, the operator's credential works there, and
  // its engine serves the API with agent A's token.
  StartAgent(b);
  EXPECT_NE(CtlOk(b, {"api", "list"}, ops).find("Chats"), std::string::npos);
  auto on_a = Join(a, token, "room1");  // event 1 of 20
  std::unique_ptr<WsClient> on_b;
  for (int i = 0; i < 50 && !on_b; ++i) {  // until agent B's first push reached engine B
    auto c = std::make_unique<WsClient>();
    if (c->ConnectTcpTo(b.ns->inside_ip(), 9099, kHostTimeoutMs) &&
        c->Upgrade(9099, "/chats/1.0.0/rooms/room2", {"Authorization: Bearer " + token}))
      on_b = std::move(c);
    else
      usleep(100000);
  }
  ASSERT_TRUE(on_b) << b.engine->output();
  auto welcome = on_b->ReadMessage();  // event 2
  ASSERT_TRUE(welcome && welcome->payload == "You joined room2!");

  // 30 messages, alternating engines: the cluster admits at most 20 + 2 engines × lease 2 events
  // in all (the two welcomes included); every refused one gets the 4003 notice on its own
  // connection.
  // Paced (20 ms apart): a shard admits one lease ahead of Redis, so a burst inside one Redis round
  // trip could be refused with budget left (an under-count, never an overshoot), which would
  // blur the bound this checks.
  for (int i = 0; i < 30; ++i) {
    WsClient& c = i % 2 == 0 ? *on_a : *on_b;
    ASSERT_TRUE(c.SendText("m" + std::to_string(i)));
    usleep(20000);
  }
  int notices = 0;
  for (WsClient* c : {on_a.get(), on_b.get()})
    while (auto m = c->ReadMessage()) {
      if (m->payload == "Error code: 4003 reason: Websocket frame throttled out") ++notices;
      if (c->QuietFor(500)) break;
    }
  EXPECT_GE(notices, 1) << "the clients are told when frames are dropped";
  // Shards publish their counters about once a second: read until two reads agree.
  double admitted = -1;
  for (int i = 0; i < 20; ++i) {
    usleep(1100000);
    double now = FramesRelayed(a) + FramesRelayed(b);
    if (now == admitted) break;
    admitted = now;
  }
  EXPECT_LE(admitted, 20 + 2 * 2);
  EXPECT_GE(admitted, 20) << "the plan's own 20 events are admitted";

  // Redis dies: both engines fall back to local counting and say so.
  redis_.Kill();
  ASSERT_TRUE(on_a->SendText("after redis"));
  ASSERT_TRUE(on_b->SendText("after redis"));
  for (Host* h : {&a, &b})
    EXPECT_TRUE(h->engine->WaitForOutput("falling back to fail-local (each limit / 2 on this engine)", kHostTimeoutMs))
        << h->engine->output();

  // A revocation through agent B reaches engine A through the catalog (agent A is notified and
  // pushes): both sockets of the token close with 4001.
  const auto revoked_at = std::chrono::steady_clock::now();
  CtlOk(b, {"token", "revoke", token}, ops);
  EXPECT_EQ(CloseCode(*on_b), 4001);
  EXPECT_EQ(CloseCode(*on_a), 4001);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - revoked_at);
  EXPECT_LT(took.count(), 5000) << "the issue asks for 1 s; 5 s leaves room for a loaded CI machine";
  std::printf("revocation through agent B closed engine A's socket after %lld ms\n", static_cast<long long>(took.count()));
}

// PostgreSQL restarts while engines serve: wsgatectl calls fail naming the catalog, live and new
// connections keep working, the agent is back once PostgreSQL is (and still hears other agents'
// commits: its watcher reconnected); an agent killed with SIGKILL right after acknowledging a
// change loses nothing.
TEST_F(MultiHost, AgentsRideOutAPostgresRestartAndAKillLosesNothingAcknowledged) {
  Host& a = hosts_[0];
  Host& b = hosts_[1];
  StartEngine(a);
  StartAgent(a);
  std::string ops;
  std::string token = DeployChats(a, "AsyncUnlimited", 0, &ops);
  ASSERT_FALSE(token.empty());
  auto alice = Join(a, token, "room1");

  pg_.Stop(/*fast=*/true);  // a restart, as systemctl restart postgresql does it
  std::string out;
  EXPECT_NE(Ctl(a, {"app", "create", "DuringOutage"}, ops, &out), 0);
  EXPECT_NE(out.find("catalog"), std::string::npos) << "the error names the catalog: " << out;
  auto bob = Join(a, token, "room1");  // a new connection while the catalog is down
  ASSERT_TRUE(bob->SendText("engines keep serving"));
  auto m = alice->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "engines keep serving");

  ASSERT_TRUE(pg_.Start()) << pg_.error();
  int code = 1;
  for (int i = 0; i < 50 && code != 0; ++i) {
    code = Ctl(a, {"app", "create", "AfterOutage"}, ops, &out);
    if (code != 0) usleep(200000);
  }
  EXPECT_EQ(code, 0) << "agent A is back once PostgreSQL is: " << out;

  // Agent A still hears the catalog: a revocation through agent B closes A's sockets.
  StartEngine(b);
  StartAgent(b);
  CtlOk(b, {"token", "revoke", token}, ops);
  EXPECT_EQ(CloseCode(*alice), 4001);
  EXPECT_EQ(CloseCode(*bob), 4001);

  // SIGKILL right after an acknowledged change: the change is there for every agent.
  CtlOk(a, {"app", "create", "AckedBeforeKill"}, ops);
  a.agent->Signal(SIGKILL);
  a.agent->Wait(kHostTimeoutMs);
  EXPECT_NE(CtlOk(b, {"app", "list"}, ops).find("AckedBeforeKill"), std::string::npos);
  StartAgent(a);
  EXPECT_NE(CtlOk(a, {"app", "list"}, ops).find("AckedBeforeKill"), std::string::npos);
}

}  // namespace
}  // namespace wsgate::testing
