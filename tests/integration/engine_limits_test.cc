// Integration tests for the engine's limits and failure paths under a real kernel: a completion
// queue small enough to overflow, the connection limit, ping floods, and
// TLS sessions that fail or stall. Each says what a client sees. (The descriptor limit is an
// e2e test: io_uring accepts do not see a limit lowered inside a running process.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "engine/ws/frame.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/process_stats.h"
#include "tests/support/ws_client.h"

namespace wsgate::testing {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// Waits until the engine holds no client socket and no receive buffer.
engine::server::ShardStats WaitIdle(engine::server::Server& engine) {
  engine::server::ShardStats s;
  for (int i = 0; i < 400; ++i) {
    s = engine.CollectStats();
    if (s.open_sockets == 0 && s.buffers_in_use == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return s;
}

// One shard with an 8-entry submission queue and a 16-entry completion queue: every burst below
// overflows it, the way a preempted shard thread under a connect storm does with the defaults.
class TinyRingTest : public EngineFixture {
 protected:
  void SetUp() override {
    shards_ = 1;
    ring_entries_ = 8;
    cq_entries_ = 16;
    EngineFixture::SetUp();
  }
};

TEST_F(TinyRingTest, EveryClientGetsAnAnswerAndNoDescriptorLeaks) {
  // A backend of its own, to kill mid-test.
  tools::chat::ServerOptions bo;
  bo.bind_address = "127.0.0.1";
  bo.port = 0;
  auto backend = std::make_unique<tools::chat::ChatServer>(bo);
  ASSERT_TRUE(backend->Listen().ok());
  std::thread backend_thread([&] { (void)backend->Run(); });
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://127.0.0.1:" + std::to_string(backend->port()));
  Apply(s);
  int fds_before = CountOpenFds();
  std::string token = Token();

  constexpr int kClients = 60;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    auto c = std::make_unique<WsClient>();
    ASSERT_TRUE(c->Connect(engine_port(), "/chats/1.0.0/rooms/room1", {Bearer(token)})) << i << c->response();
    clients.push_back(std::move(c));
  }
  // The backend shuts down: sixty closes at once (far more completions than the queue holds).
  backend->Stop();
  backend_thread.join();
  backend.reset();
  for (auto& c : clients) {
    std::optional<WsFrame> f;
    do f = c->ReadFrame();
    while (f && f->opcode != 0x8);
    ASSERT_TRUE(f) << "a client was never told its backend is gone";
    EXPECT_EQ(engine::ws::ParseClosePayload(f->payload).code, 1001);  // the backend's own close, relayed
  }
  // Every client answers in the same instant: the closes arrive as a burst too.
  for (auto& c : clients) ASSERT_TRUE(c->SendClose(1001));
  for (auto& c : clients) EXPECT_TRUE(c->WaitForEof());
  clients.clear();
  // New clients, all at once: each gets an answer (502: the backend is gone), none hangs.
  std::vector<std::unique_ptr<WsClient>> late;
  for (int i = 0; i < kClients; ++i) {
    auto c = std::make_unique<WsClient>();
    ASSERT_TRUE(c->ConnectTcp(engine_port()));
    ASSERT_TRUE(c->SendRaw("GET /chats/1.0.0/notifications HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " + token + "\r\n\r\n"));
    late.push_back(std::move(c));
  }
  for (auto& c : late) {
    std::string seen;
    EXPECT_TRUE(c->WaitForEof(&seen));
    EXPECT_EQ(seen.rfind("HTTP/1.1 502 Bad Gateway\r\n", 0), 0u) << seen.substr(0, 80);
  }
  late.clear();
  engine::server::ShardStats stats = WaitIdle(*engine_);
  EXPECT_EQ(stats.open_sockets, 0u);
  EXPECT_EQ(stats.active_connections, 0u);
  EXPECT_LE(CountOpenFds(), fds_before);
  std::printf("tiny ring: %llu completions overflowed, %llu moved to the backlog\n",
              static_cast<unsigned long long>(stats.cq_overflows), static_cast<unsigned long long>(stats.cq_backlogged));
}

class LimitsTest : public EngineFixture {
 protected:
  void SetUp() override {
    shards_ = 1;
    max_connections_ = 5;
    EngineFixture::SetUp();
  }
};

TEST_F(LimitsTest, PastMaxConnectionsClientsGet503WithRetryAfter) {
  std::vector<std::unique_ptr<WsClient>> held = HoldTcpClients(5);
  WsClient extra;
  ASSERT_TRUE(extra.ConnectTcp(engine_port()));
  std::string seen;
  EXPECT_TRUE(extra.WaitForEof(&seen));
  EXPECT_EQ(seen.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << seen;
  EXPECT_NE(seen.find("Retry-After: 1\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("connection limit"), std::string::npos) << seen;
  EXPECT_EQ(engine_->CollectStats().refused_connections, 1u);
  held.clear();
  EXPECT_EQ(WaitIdle(*engine_).open_sockets, 0u);
  WsClient ok;  // room again
  EXPECT_TRUE(ok.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << ok.response();
}

class PingFloodTest : public EngineFixture {};

TEST_F(PingFloodTest, AClientThatFloodsPingsIsClosedWith1008AndMemoryStaysFlat) {
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << c.response();
  ExpectWelcome(c, "/chats/1.0.0/notifications", "Subscribed to notifications!");
  std::string flood;
  for (int i = 0; i < 2000; ++i) {
    const uint8_t mask[4] = {9, 8, 7, 6};
    flood += engine::ws::EncodeFrame(engine::ws::kPing, std::string(125, 'p'), mask);
  }
  ASSERT_TRUE(c.SendRaw(flood));
  std::optional<WsFrame> f;
  do f = c.ReadFrame();
  while (f && f->opcode != 0x8);
  ASSERT_TRUE(f);
  EXPECT_EQ(engine::ws::ParseClosePayload(f->payload).code, 1008);
  EXPECT_EQ(engine::ws::ParseClosePayload(f->payload).reason, "too many pings");
  EXPECT_EQ(engine_->CollectStats().ping_flood_closes, 1u);
}

TEST_F(PingFloodTest, PingsWithinTheLimitAreEachAnswered) {
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << c.response();
  ExpectWelcome(c, "/chats/1.0.0/notifications", "Subscribed to notifications!");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.SendFrame(engine::ws::kPing, "n" + std::to_string(i)));
    auto pong = c.ReadFrame();
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->opcode, engine::ws::kPong);
    EXPECT_EQ(pong->payload, "n" + std::to_string(i));
  }
}

class DrainTest : public EngineFixture {};

// After a drain the shards' loops end; a push then must fail at once, not wait forever for
// shards that will never run it (holding the apply lock, so status reads hung too).
TEST_F(DrainTest, APushAfterADrainIsRefusedAtOnce) {
  engine_->Drain(0);
  engine_->Wait();
  auto start = Clock::now();
  auto r = engine_->Apply(BaseSnapshot(5));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_LT(MsSince(start), 1000);
  EXPECT_TRUE(engine_->draining());
}

class WssFailureTest : public EngineFixture {};

TEST_F(WssFailureTest, ABrokenTlsHandshakeGetsAnAlertBeforeTheClose) {
  WsClient garbage;
  ASSERT_TRUE(garbage.ConnectTcp(wss_port()));
  // A ClientHello record header whose body is nonsense.
  ASSERT_TRUE(garbage.SendRaw(std::string("\x16\x03\x01\x00\x20", 5) + std::string(32, '\x01')));
  std::string seen;
  EXPECT_TRUE(garbage.WaitForEof(&seen));
  ASSERT_GE(seen.size(), 7u) << "no TLS alert before the close";
  EXPECT_EQ(static_cast<uint8_t>(seen[0]), 0x15) << "the first record is not an alert";
  EXPECT_EQ(static_cast<uint8_t>(seen[5]), 2) << "not a fatal alert";
  EXPECT_GE(engine_->CollectStats().tls_failures, 1u);
}

TEST_F(WssFailureTest, AStalledTlsHandshakeEndsAtTheHandshakeTimeout) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_handshake_timeout_ms(1000);
  Apply(s);
  WsClient silent;
  auto start = Clock::now();
  ASSERT_TRUE(silent.ConnectTcp(wss_port()));
  EXPECT_TRUE(silent.WaitForEof());
  int64_t took = MsSince(start);
  // The tick is 100 ms; before, a stalled TLS client waited another 5 s for a 408 it could
  // never be sent.
  EXPECT_GE(took, 900);
  EXPECT_LE(took, 2500);
}

}  // namespace
}  // namespace wsgate::testing
