// Integration tests for the engine settings of issue 12, with the real Server: a pushed snapshot's
// limits reach connections that are already open (max_message_bytes, ping_interval_ms), an API's
// own max_message_bytes overrides the engine-wide one, an endpoint's connect_timeout_ms overrides
// upstream_connect_timeout_ms, and settings.max_connections caps the whole engine across shards.
#include <unistd.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/support/engine_fixture.h"
#include "tests/support/ws_client.h"

namespace wsgate::testing {
namespace {

class EngineSettingsTest : public EngineFixture {
 protected:
  std::unique_ptr<WsClient> Join(const std::string& path, const std::string& welcome) {
    auto c = std::make_unique<WsClient>();
    EXPECT_TRUE(c->Connect(engine_port(), path, {Bearer(Token())})) << c->response();
    ExpectWelcome(*c, path, welcome);
    return c;
  }
  // The close code the engine sends `c` next (0: no close frame came).
  static int NextCloseCode(WsClient& c) {
    for (int i = 0; i < 10; ++i) {
      auto f = c.ReadFrame();
      if (!f) return 0;
      if (f->opcode == 0x8) return ParseClose(f->payload).code;
    }
    return 0;
  }
};

TEST_F(EngineSettingsTest, ASmallerMaxMessageSizeReachesOpenConnections) {
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto b = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  ASSERT_TRUE(a->SendText(std::string(5000, 'x')));  // fine under the default 16 MiB
  auto m = b->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload.size(), 5000u);

  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_max_message_bytes(1000);
  Apply(s);
  ASSERT_TRUE(a->SendText(std::string(900, 'y')));  // still under the new limit: relayed
  m = b->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload.size(), 900u);
  ASSERT_TRUE(a->SendText(std::string(1001, 'z')));  // over it, on a connection opened before the push
  EXPECT_EQ(NextCloseCode(*a), 1009);

  // A larger limit is taken by open connections too.
  s = BaseSnapshot(3);
  s.mutable_settings()->set_max_message_bytes(100000);
  Apply(s);
  ASSERT_TRUE(b->SendText(std::string(50000, 'w')));
  auto c = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  ASSERT_TRUE(b->SendText(std::string(60000, 'v')));
  m = c->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload.size(), 60000u);
}

TEST_F(EngineSettingsTest, AnApisOwnMaxMessageSizeWinsOverTheEngineWideOne) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_max_message_bytes(1 << 20);
  s.mutable_apis(0)->set_max_message_bytes(500);
  Apply(s);
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  ASSERT_TRUE(a->SendText(std::string(501, 'x')));
  EXPECT_EQ(NextCloseCode(*a), 1009);

  s = BaseSnapshot(3);  // the override removed: the engine-wide 16 MiB again, live
  auto b = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto c = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  Apply(s);
  ASSERT_TRUE(b->SendText(std::string(2000, 'y')));
  auto m = c->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload.size(), 2000u);
}

TEST_F(EngineSettingsTest, AShorterPingIntervalReachesOpenConnections) {
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_ping_interval_ms(1000);  // the default is 30 s
  Apply(s);
  auto start = std::chrono::steady_clock::now();
  auto f = a->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x9);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(EngineSettingsTest, AnEndpointsConnectTimeoutWinsOverTheEngineWideOne) {
  uint16_t port = 0;
  int silent = SilentListener(&port);  // TCP connects, but no 101 ever comes
  v1::Snapshot s = BaseSnapshot(2);
  auto* ep = s.mutable_apis(0)->mutable_production_endpoint();
  ep->set_url("ws://127.0.0.1:" + std::to_string(port));
  ep->set_connect_timeout_ms(300);
  s.mutable_settings()->set_upstream_connect_timeout_ms(20000);
  Apply(s);
  auto start = std::chrono::steady_clock::now();
  WsClient c;
  EXPECT_FALSE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
  EXPECT_EQ(c.status(), 504) << c.response();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  close(silent);
}

class EngineWideLimitTest : public EngineFixture {
 protected:
  void SetUp() override {
    shards_ = 2;
    EngineFixture::SetUp();
  }
};

TEST_F(EngineWideLimitTest, MaxConnectionsCapsAllShardsTogether) {
  ASSERT_EQ(engine_->shard_count(), 2);
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_max_connections(3);
  Apply(s);
  // Each shard alone would take many more (the per-shard limit is derived from the fd limit).
  ASSERT_GT(engine_->max_connections_per_shard(), 3);
  std::vector<std::unique_ptr<WsClient>> held = HoldTcpClients(3);
  // Whichever shard the kernel hands them to, the next clients are refused.
  for (int i = 0; i < 4; ++i) {
    WsClient extra;
    ASSERT_TRUE(extra.ConnectTcp(engine_port()));
    std::string seen;
    EXPECT_TRUE(extra.WaitForEof(&seen));
    EXPECT_EQ(seen.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << seen;
    EXPECT_NE(seen.find("Retry-After: 1\r\n"), std::string::npos) << seen;
  }
  EXPECT_EQ(engine_->CollectStats().refused_connections, 4u);
  // A freed place is taken again; relaying clients count like any other.
  held.pop_back();
  for (int i = 0; i < 400 && engine_->CollectStats().open_sockets > 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  WsClient ok;
  EXPECT_TRUE(ok.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << ok.response();
  WsClient over;
  EXPECT_FALSE(over.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
  EXPECT_EQ(over.status(), 503) << over.response();
  // Raising the cap lets more in at once.
  s = BaseSnapshot(3);
  s.mutable_settings()->set_max_connections(10);
  Apply(s);
  WsClient more;
  EXPECT_TRUE(more.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << more.response();
}

}  // namespace
}  // namespace wsgate::testing
