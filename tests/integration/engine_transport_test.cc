// The relay, once per transport: the walkthrough, every message size up to 16 MiB, fragments,
// control frames and close propagation over ws (plaintext) and wss (TLS in the shard loop). A behaviour that
// differs between the two is a bug in the TLS glue, not in the relay.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/ws/frame.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/ws_client.h"
#include "tests/support/ws_client_tls.h"

namespace wsgate::testing {
namespace {

enum class Transport { kWs, kWss };

class TransportTest : public EngineFixture, public ::testing::WithParamInterface<Transport> {
 protected:
  // `header`: the token in Authorization; else the path carries it (?access_token=).
  std::unique_ptr<WsClient> Join(const std::string& path, const std::string& welcome, bool header = true) {
    auto c = std::make_unique<WsClient>();
    std::vector<std::string> headers;
    if (header) headers.push_back(Bearer(Token()));
    if (GetParam() == Transport::kWs) {
      EXPECT_TRUE(c->Connect(engine_port(), path, headers)) << c->response();
    } else {
      EXPECT_TRUE(c->ConnectTcp(wss_port(), 30000));
      TlsClientOptions options;
      options.ca_file = CertFile();
      std::string error;
      EXPECT_TRUE(StartTls(*c, options, &error)) << error;
      EXPECT_TRUE(c->Upgrade(wss_port(), path, headers)) << c->response();
    }
    if (!welcome.empty()) ExpectWelcome(*c, path, welcome);
    return c;
  }
};

TEST_P(TransportTest, Walkthrough) {
  auto notifications = Join("/chats/1.0.0/notifications", "Subscribed to notifications!");
  auto first = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  EXPECT_EQ(notifications->ReadMessage()->payload, "Someone joined room1!");
  auto second = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  EXPECT_EQ(notifications->ReadMessage()->payload, "Someone joined room1!");
  ASSERT_TRUE(first->SendText("hello from the first"));
  EXPECT_EQ(second->ReadMessage()->payload, "hello from the first");
  ASSERT_TRUE(second->SendText("and back"));
  EXPECT_EQ(first->ReadMessage()->payload, "and back");
  EXPECT_TRUE(first->QuietFor(200));
  EXPECT_TRUE(notifications->QuietFor(0));
  // The default-version URL and the query-string token work too.
  Join("/chats/rooms/room1?access_token=" + Token(), "You joined room1!", /*header=*/false);
}

TEST_P(TransportTest, EverySizeBothTypesFragmentsAndPings) {
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto b = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  for (size_t size : {size_t{0}, size_t{1}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}, size_t{1} << 20,
                      (size_t{16} << 20) - 64}) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 7 + size);
    uint8_t opcode = size % 2 ? 0x2 : 0x1;
    if (opcode == 0x1) payload.assign(size, 'x');
    std::thread sender([&] { ASSERT_TRUE(a->SendFrame(opcode, payload)); });
    auto m = b->ReadMessage();
    sender.join();
    ASSERT_TRUE(m) << size;
    EXPECT_EQ(m->opcode, opcode) << size;
    EXPECT_TRUE(m->payload == payload) << size;
  }
  // A ping between fragments is answered by the engine; the fragments make one message.
  ASSERT_TRUE(a->SendFrame(0x1, "frag", false));
  ASSERT_TRUE(a->SendFrame(0x9, "ping-payload"));
  ASSERT_TRUE(a->SendFrame(0x0, "mented", true));
  auto pong = a->ReadFrame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 0xA);
  EXPECT_EQ(pong->payload, "ping-payload");
  EXPECT_EQ(b->ReadMessage()->payload, "fragmented");
  auto stats = engine_->CollectStats();
  EXPECT_EQ(stats.active_connections, 2u);
  EXPECT_GE(stats.client_to_backend.frames, 10u);
  EXPECT_GE(stats.client_to_backend.bytes, size_t{17} << 20);
}

TEST_P(TransportTest, ClosePropagatesBothWays) {
  auto a = Join("/chats/1.0.0/rooms/common", "You joined the common room!");
  ASSERT_TRUE(a->SendClose(4321, "client bye"));
  auto f = a->ReadFrame();  // the backend echoes the code; the engine relays it back
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(engine::ws::ParseClosePayload(f->payload).code, 4321);
  EXPECT_TRUE(a->WaitForEof());
  auto b = Join("/chats/1.0.0/rooms/common", "You joined the common room!");
  backend_->Stop();  // backend-initiated: its 1001 reaches our client
  auto g = b->ReadFrame();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->opcode, 0x8);
  EXPECT_EQ(engine::ws::ParseClosePayload(g->payload).code, 1001);
  b->SendClose(1001);
  EXPECT_TRUE(b->WaitForEof());
  EXPECT_EQ(engine_->CollectStats().active_connections, 0u);
}

INSTANTIATE_TEST_SUITE_P(WsAndWss, TransportTest, ::testing::Values(Transport::kWs, Transport::kWss),
                         [](const ::testing::TestParamInfo<Transport>& param) {
                           return param.param == Transport::kWs ? "ws" : "wss";
                         });

}  // namespace
}  // namespace wsgate::testing
