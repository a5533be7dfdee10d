// End-to-end test of direct descriptors (issue 20): wsgate-engine started under a descriptor
// limit (prlimit 256:256, hard, so the engine cannot raise it) that regular descriptors cap at
// (256 − 64) / 2 = 96 proxied connections for the process, holds 240 — its sockets live in its
// two shards' io_uring fixed-file tables, each bounded by the limit on its own, and what the
// full tables cannot take in regular descriptors — and every one still relays a message. When the clients leave, every fixed-file entry is closed in the ring
// (the direct-socket gauge returns to 0) and the engine drains and exits cleanly.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_get.h"
#include "tests/support/subprocess.h"
#include "tests/support/ws_client.h"

namespace {

using wsgate::testing::HttpGet;
using wsgate::testing::Subprocess;
using wsgate::testing::WsClient;

uint16_t NumberAfter(Subprocess& p, const std::string& prefix, size_t from = 0) {
  const std::string& out = p.output();
  size_t at = out.find(prefix, from);
  return at == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(out.substr(at + prefix.size())));
}

// The value of an unlabelled sample in a Prometheus exposition, or -1.
double Metric(uint16_t admin_port, const std::string& name) {
  wsgate::testing::HttpReply r = HttpGet(admin_port, "/metrics");
  size_t at = r.body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atof(r.body.c_str() + at + name.size() + 2);
}

TEST(EngineDirectDescriptors, HoldsMoreProxiedConnectionsThanItsDescriptorLimitAllows) {
  // > 96, what 256 descriptors allow two per connection; ~120 per shard stays clear of the
  // overload threshold (85 % of the derived 176 per shard answers 503).
  constexpr int kClients = 240;
  char tmpl[] = "/tmp/wsgate-e2e-direct-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  Subprocess backend({WSGATE_CHAT_BACKEND, "--port", "0", "--bind", "127.0.0.1", "--echo"});
  ASSERT_TRUE(backend.WaitForOutput("Notifications on:", 10000)) << backend.output();
  uint16_t backend_port = NumberAfter(backend, "ws://localhost:");
  ASSERT_NE(backend_port, 0) << backend.output();
  std::ofstream(dir + "/echo.textproto")
      << "version: 1 agent_id: \"e2e\"\n"
         "vhosts { name: \"localhost\" aliases: \"127.0.0.1\" }\n"
         "apis { id: \"echo\" name: \"Echo\" context: \"/echo\" version: \"1.0.0\" state: PUBLISHED vhosts: \"localhost\"\n"
         "  production_endpoint { url: \"ws://127.0.0.1:"
      << backend_port << "\" }\n  topics { name: \"/x\" url_mapping: \"/x\" unsecured: true } }\n";
  Subprocess engine({"/usr/bin/prlimit", "--nofile=256:256", WSGATE_ENGINE, "--config", dir + "/echo.textproto",
                     "--ws-listen", "127.0.0.1:0", "--wss-listen", "", "--shards", "2", "--control",
                     "unix:" + dir + "/engine.sock", "--admin-listen", "127.0.0.1:0", "--drain-timeout-ms", "2000"});
  ASSERT_TRUE(engine.WaitForOutput("listening for ws", 10000)) << engine.output();
  uint16_t ws_port = NumberAfter(engine, "(port ", engine.output().find("listening for ws"));
  uint16_t admin_port = NumberAfter(engine, "(admin port ");
  ASSERT_NE(ws_port, 0) << engine.output();
  ASSERT_NE(admin_port, 0) << engine.output();
  // The derived limit counts the fixed-file tables: ((256 − 64) / 2 + 256) / 2 per shard.
  EXPECT_NE(engine.output().find("max connections per shard: 176 (descriptor limit 256, 2 shards, fixed-file table 256 each)"),
            std::string::npos)
      << engine.output();

  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    auto c = std::make_unique<WsClient>();
    ASSERT_TRUE(c->Connect(ws_port, "/echo/1.0.0/x")) << "client " << i << ": " << c->response() << engine.output();
    clients.push_back(std::move(c));
  }
  EXPECT_EQ(Metric(admin_port, "wsgate_engine_active_connections"), kClients);
  // 480 sockets: the two tables (256 entries each) take them, more than the whole descriptor
  // limit; what one shard's full table could not take went to regular descriptors, counted.
  double direct = Metric(admin_port, "wsgate_engine_direct_sockets");
  double overflowed = Metric(admin_port, "wsgate_engine_direct_table_full_total");
  EXPECT_GT(direct, 256);
  EXPECT_LE(direct, 512);
  EXPECT_EQ(direct + overflowed, 2 * kClients);
  // Every one of them still relays, both ways.
  for (int i = 0; i < kClients; ++i) {
    std::string text = "message " + std::to_string(i);
    ASSERT_TRUE(clients[static_cast<size_t>(i)]->SendText(text));
    auto echo = clients[static_cast<size_t>(i)]->ReadMessage();
    ASSERT_TRUE(echo.has_value()) << "client " << i;
    EXPECT_EQ(echo->payload, text);
  }
  clients.clear();
  // Every entry closed in the ring once its connection ended.
  double left = -1;
  for (int i = 0; i < 50 && (left = Metric(admin_port, "wsgate_engine_direct_sockets")) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(left, 0);
  EXPECT_EQ(Metric(admin_port, "wsgate_engine_open_sockets"), 0);
  // And serving again at full size: the indexes came back.
  auto again = std::make_unique<WsClient>();
  ASSERT_TRUE(again->Connect(ws_port, "/echo/1.0.0/x")) << again->response();
  ASSERT_TRUE(again->SendText("again"));
  auto echo = again->ReadMessage();
  ASSERT_TRUE(echo.has_value());
  EXPECT_EQ(echo->payload, "again");
  again.reset();
  engine.Signal(SIGTERM);
  EXPECT_EQ(engine.Wait(5000), 0) << engine.output();
  EXPECT_EQ(engine.output().find("direct descriptors are off"), std::string::npos) << engine.output();
  std::string cmd = "rm -rf " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

TEST(EngineDirectDescriptors, AFixedFileTableAboveTheDescriptorLimitIsRefusedNamingTheFlag) {
  char tmpl[] = "/tmp/wsgate-e2e-direct-flag-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  Subprocess engine({"/usr/bin/prlimit", "--nofile=256:256", WSGATE_ENGINE, "--ws-listen", "127.0.0.1:0", "--wss-listen",
                     "", "--shards", "1", "--fixed-files", "300", "--control", "unix:" + dir + "/engine.sock",
                     "--admin-listen", ""});
  EXPECT_EQ(engine.Wait(10000), 1) << engine.output();
  EXPECT_NE(engine.output().find("--fixed-files 300: above the descriptor limit 256 (each fixed-file table is bounded by it)"),
            std::string::npos)
      << engine.output();
  std::string cmd = "rm -rf " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
