// End-to-end test of the catalog on PostgreSQL (issue 19 item 1): wsgate-agent with
// `--catalog postgres://…` on a private PostgreSQL (tests/support/postgres_server.h) through the
// walkthrough's steps with wsgatectl and a client through the engine; everything survives an agent
// restart (the data directory holds no catalog.db); bad or unreachable --catalog targets are
// named, with what to do, and exit without a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/agent_stack.h"
#include "tests/support/http_get.h"
#include "tests/support/postgres_server.h"

namespace wsgate::testing {
namespace {

class AgentPostgres : public AgentStack {
 protected:
  void SetUp() override {
    if (PostgresServer::BinDir().empty()) GTEST_SKIP() << PostgresServer::kMissing;
    pg_ = std::make_unique<PostgresServer>();
    ASSERT_TRUE(pg_->Start()) << pg_->error();
    uri_ = pg_->CreateDatabase("wsgate");
    ASSERT_FALSE(uri_.empty()) << pg_->error();
    agent_args_ = {"--catalog", uri_};
    AgentStack::SetUp();
  }
  void TearDown() override {
    if (!pg_) return;
    AgentStack::TearDown();
    pg_.reset();
  }
  // Milliseconds one wsgatectl call takes (the agent's commit included).
  int64_t TimedMs(std::vector<std::string> args) {
    auto start = std::chrono::steady_clock::now();
    CtlOk(std::move(args));
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  }

  std::unique_ptr<PostgresServer> pg_;
  std::string uri_;
};

TEST_F(AgentPostgres, WalkthroughOnAPostgresCatalogSurvivesAnAgentRestart) {
  std::string token = Walkthrough();
  auto notifications = Wscat("/chats/1.0.0/notifications", token);
  ASSERT_TRUE(notifications->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << notifications->output();
  auto room = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(room->WaitForOutput("You joined room1!", kTimeoutMs)) << room->output();
  EXPECT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs));
  EXPECT_NE(access((dir_ + "/data/catalog.db").c_str(), F_OK), 0) << "the catalog is in PostgreSQL, not the data dir";

  // A second API, timed: create and deploy on PostgreSQL (wsgatectl's whole call).
  int64_t create_ms = TimedMs({"api", "create", "Echo", "--context", "/echo", "--version", "1.0.0", "--endpoint",
                               "ws://localhost:" + backend_port_});
  CtlOk({"api", "plans", "Echo:1.0.0", "AsyncGold"});
  CtlOk({"api", "lifecycle", "Echo:1.0.0", "Publish"});
  CtlOk({"revision", "create", "Echo:1.0.0"});
  int64_t deploy_ms = TimedMs({"revision", "deploy", "Echo:1.0.0", "1", "--env", "Production and Sandbox", "--vhost", "localhost"});
  std::printf("postgres catalog: api create %lld ms, revision deploy %lld ms (wsgatectl calls)\n",
              static_cast<long long>(create_ms), static_cast<long long>(deploy_ms));

  // Restart the agent on the same database: the APIs, the subscription and the keys are there,
  // a new token works through the engine, and the engine is brought back up to date.
  agent_.reset();
  StartAgent();
  EXPECT_NE(CtlOk({"api", "list"}).find("Chats:1.0.0"), std::string::npos);
  EXPECT_NE(CtlOk({"revision", "list", "Echo:1.0.0"}).find("deployed to Production and Sandbox"), std::string::npos);
  EXPECT_NE(CtlOk({"subscription", "list"}).find("AsyncGold"), std::string::npos);
  std::string again = CtlOk({"token", "ChatApp", "--type", "PRODUCTION"});
  auto second = Wscat("/chats/1.0.0/notifications", again);
  EXPECT_TRUE(second->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << second->output();
  std::string status = CtlOk({"status", "-o", "json"});
  EXPECT_NE(status.find("\"lag\": \"0\""), std::string::npos) << status;

  // A failed mutation changes nothing on PostgreSQL either.
  std::string out;
  EXPECT_EQ(Ctl({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint", "ws://h"}, &out), 1);
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
}

// Issue 19 item 2: a second host's agent and engine on the same catalog. What is changed through
// agent A reaches agent B's engine within a second (LISTEN/NOTIFY), and A's tokens work there.
TEST_F(AgentPostgres, AChangeThroughOneAgentReachesTheOtherAgentsEngineWithinASecond) {
  Subprocess engine2({WSGATE_ENGINE, "--control", "unix:" + dir_ + "/engine2.sock", "--ws-listen", "127.0.0.1:0",
                      "--shards", "1", "--admin-listen", "127.0.0.1:0"});
  size_t at = 0, admin_at = 0;
  int ws2 = PortAfter(engine2, "(port ", &at);
  int admin2 = PortAfter(engine2, "(admin port ", &admin_at);
  ASSERT_GT(ws2, 0) << engine2.output();
  ASSERT_GT(admin2, 0) << engine2.output();
  Subprocess agent2({WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data2", "--engine",
                     "unix:" + dir_ + "/engine2.sock", "--admin-listen", "127.0.0.1:0", "--token-listen", "127.0.0.1:0",
                     "--catalog", uri_});
  ASSERT_TRUE(agent2.WaitForOutput("admin API on", kTimeoutMs)) << agent2.output();

  std::string token = Walkthrough();  // through agent A
  Subprocess client({WSGATE_WSCAT, "--no-color", "-c", "ws://127.0.0.1:" + std::to_string(ws2) + "/chats/1.0.0/notifications",
                     "-H", "Authorization: Bearer " + token});
  EXPECT_TRUE(client.WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << client.output();

  CtlOk({"api", "create", "Echo", "--context", "/echo", "--version", "1.0.0", "--endpoint", "ws://localhost:" + backend_port_});
  CtlOk({"api", "plans", "Echo:1.0.0", "AsyncGold"});
  CtlOk({"api", "lifecycle", "Echo:1.0.0", "Publish"});
  CtlOk({"revision", "create", "Echo:1.0.0"});
  ASSERT_EQ(HttpGet(static_cast<uint16_t>(admin2), "/config_dump").body.find("/echo"), std::string::npos);
  auto start = std::chrono::steady_clock::now();
  CtlOk({"revision", "deploy", "Echo:1.0.0", "1", "--env", "Production and Sandbox", "--vhost", "localhost", "--no-wait"});
  bool served = false;
  while (!served && std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
    served = HttpGet(static_cast<uint16_t>(admin2), "/config_dump").body.find("/echo") != std::string::npos;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(served) << "agent B's engine never got the deployment made through agent A";
  EXPECT_LT(ms, 1000) << "from A's commit to B's engine";
  std::printf("deploy through agent A served by agent B's engine after %lld ms\n", static_cast<long long>(ms));
}

// Runs wsgate-agent with `catalog`; its exit code and output.
int AgentWithCatalog(const std::string& catalog, std::string* out) {
  std::string dir = "/tmp/wsgate-pg-flag-" + std::to_string(getpid());
  Subprocess agent({WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--engine", "", "--data-dir", dir, "--admin-listen",
                    "127.0.0.1:0", "--token-listen", "127.0.0.1:0", "--catalog", catalog});
  int code = agent.Wait(kTimeoutMs);
  *out = agent.output();
  std::system(("rm -rf " + dir).c_str());
  return code;
}

TEST(AgentCatalogFlag, BadAndUnreachableTargetsAreNamed) {
  std::string out;
  EXPECT_EQ(AgentWithCatalog("mysql://db/x", &out), 2);
  EXPECT_NE(out.find("--catalog: 'mysql://db/x' is neither sqlite:PATH nor postgres://USER@HOST:PORT/DB"),
            std::string::npos)
      << out;
  EXPECT_EQ(AgentWithCatalog("postgres://wsgate:secret@127.0.0.1:1/catalog", &out), 1);
  EXPECT_NE(out.find("--catalog postgres://wsgate:***@127.0.0.1:1/catalog: cannot connect to the PostgreSQL catalog"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("is PostgreSQL running there"), std::string::npos) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos) << "the password is never printed: " << out;
  EXPECT_EQ(AgentWithCatalog("postgres://127.0.0.1:1/db?nosuchoption=1", &out), 1);
  EXPECT_NE(out.find("--catalog: 'postgres://127.0.0.1:1/db?nosuchoption=1' is not a PostgreSQL URI"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace wsgate::testing
