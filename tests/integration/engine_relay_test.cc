// Integration tests for the engine: the real io_uring Server in-process, the real chat backend
// behind it, real sockets in front. Covers the handshake status matrix, subprotocols, backends
// that are down, silent or die, protocol violations, slowloris upgrades and unsafe paths. Pushes
// during traffic, throttling, churn and liveness are in engine_live_test.cc; the walkthrough,
// relay integrity and close propagation run once per transport in engine_transport_test.cc.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "engine/ws/frame.h"
#include "engine/ws/handshake.h"
#include "tests/support/recording_backend.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/ws_client.h"

namespace wsgate::testing {
namespace {

using engine::ws::ClosePayload;

class EngineRelayTest : public EngineFixture {
 protected:
};

TEST_F(EngineRelayTest, HandshakeStatusMatrix) {
  auto [s1, s1_head, b1] = Refuse("/chats/1.0.0/notifications", {});
  EXPECT_EQ(s1, 401);
  EXPECT_EQ(b1, "No Authorization Header or access_token query parameter present");
  EXPECT_EQ(Refuse("/chats/1.0.0/notifications", {"Authorization: Basic YWRtaW46YWRtaW4="}).status, 401);
  EXPECT_EQ(Refuse("/chats/1.0.0/notifications", {Bearer(Token("prod-key", -100))}).status, 401);
  EXPECT_EQ(Refuse("/chats/1.0.0/notifications", {Bearer(Token() + "x")}).status, 401);
  auto [s2, s2_head, b2] = Refuse("/nope/1.0.0/x", {Bearer(Token())});
  EXPECT_EQ(s2, 404);
  EXPECT_EQ(b2, "No matching API found to dispatch the request");
  auto [s3, s3_head, b3] = Refuse("/chats/1.0.0/unknown", {Bearer(Token())});
  EXPECT_EQ(s3, 404);
  EXPECT_EQ(b3, "No matching resource found to dispatch the request");
  // The sample backend closes TCP for an unknown room: a handshake failure, never a fake open.
  auto [s4, s4_head, b4] = Refuse("/chats/1.0.0/rooms/room9", {Bearer(Token())});
  EXPECT_EQ(s4, 502);
  EXPECT_NE(b4.find("Bad Gateway"), std::string::npos);
  // A sandbox key against an API with only a production endpoint.
  EXPECT_EQ(Refuse("/chats/1.0.0/notifications", {Bearer(Token("sand-key"))}).status, 503);

  WsClient v;
  ASSERT_TRUE(v.ConnectTcp(engine_port()));
  ASSERT_TRUE(v.Handshake("GET /chats/1.0.0/notifications HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 8\r\n\r\n"));
  EXPECT_EQ(v.status(), 426);
  EXPECT_NE(v.response().find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  WsClient post;
  ASSERT_TRUE(post.ConnectTcp(engine_port()));
  ASSERT_TRUE(post.Handshake("POST /chats/1.0.0/notifications HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  EXPECT_EQ(post.status(), 405);
  WsClient garbage;
  ASSERT_TRUE(garbage.ConnectTcp(engine_port()));
  ASSERT_TRUE(garbage.Handshake("GET / HTTP/1.1\nHost: x\n\n"));
  EXPECT_EQ(garbage.status(), 400);
  EXPECT_TRUE(garbage.WaitForEof());

  auto stats = engine_->CollectStats();
  EXPECT_GE(stats.handshake_failures[401], 4u);
  EXPECT_GE(stats.handshake_failures[404], 2u);
  EXPECT_GE(stats.handshake_failures[502], 1u);
}

TEST_F(EngineRelayTest, SubprotocolChosenByTheBackendReachesTheClient) {
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications",
                        {Bearer(Token()), "Sec-WebSocket-Protocol: stomp, wamp"}))
      << c.response();
  // The chat backend (like Node's ws) picks the first offer.
  EXPECT_NE(c.response().find("Sec-WebSocket-Protocol: stomp\r\n"), std::string::npos) << c.response();
}

TEST_F(EngineRelayTest, BackendDownIs502Quickly) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://127.0.0.1:1");  // nothing listens
  Apply(s);
  auto start = std::chrono::steady_clock::now();
  WsClient c;
  EXPECT_FALSE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
  EXPECT_EQ(c.status(), 502);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(EngineRelayTest, SilentBackendIs504) {
  uint16_t port = 0;
  int silent = SilentListener(&port);
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://127.0.0.1:" + std::to_string(port));
  s.mutable_settings()->set_upstream_connect_timeout_ms(300);
  Apply(s);
  auto start = std::chrono::steady_clock::now();
  auto [status, status_head, body] = Refuse("/chats/1.0.0/notifications", {Bearer(Token())});
  EXPECT_EQ(status, 504);
  EXPECT_NE(body.find("Gateway Timeout"), std::string::npos) << body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  close(silent);
}

TEST_F(EngineRelayTest, ProtocolViolationsClose1002And1009) {
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  ASSERT_TRUE(a->SendFrame(0x1, "not masked", true, /*masked=*/false));
  auto f = a->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(ParseClose(f->payload).code, 1002);

  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_max_message_bytes(1000);
  Apply(s);
  auto b = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  ASSERT_TRUE(b->SendText(std::string(1001, 'x')));
  auto g = b->ReadFrame();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->opcode, 0x8);
  EXPECT_EQ(ParseClose(g->payload).code, 1009);
}

TEST_F(EngineRelayTest, BackendTcpDeathClosesTheClientWith1011) {
  RecordingBackend dropping(RecordingBackend::kDropAfterUpgrade);
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://127.0.0.1:" + std::to_string(dropping.port()));
  Apply(s);
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/rooms/r1?lang=en&access_token=" + Token(),
                        {"Sec-WebSocket-Protocol: stomp, wamp"}))
      << c.response();
  // What the backend was asked: the mapped URL with the client's other query parameters, a fresh
  // key, the subprotocols, X-Forwarded-For, and no credential.
  std::string req = dropping.WaitForRequest(0);
  EXPECT_EQ(req.rfind("GET /rooms?room=r1&lang=en HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Host: 127.0.0.1:" + std::to_string(dropping.port()) + "\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Sec-WebSocket-Protocol: stomp, wamp\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("X-Forwarded-For: 127.0.0.1\r\n"), std::string::npos) << req;
  EXPECT_EQ(req.find("access_token"), std::string::npos) << req;
  EXPECT_EQ(req.find("Authorization"), std::string::npos) << req;
  // The backend chose no subprotocol, so the client is told none.
  EXPECT_EQ(c.response().find("Sec-WebSocket-Protocol"), std::string::npos) << c.response();
  auto f = c.ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(ParseClose(f->payload).code, 1011);
  ASSERT_TRUE(c.SendClose(1011));  // the client answers the close, as RFC 6455 asks
  EXPECT_TRUE(c.WaitForEof());
}

TEST_F(EngineRelayTest, SlowlorisUpgradeGets408) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_handshake_timeout_ms(300);
  Apply(s);
  WsClient c;
  ASSERT_TRUE(c.ConnectTcp(engine_port()));
  ASSERT_TRUE(c.SendRaw("GET /chats/1.0.0/notifications HTTP/1.1\r\nHost: localhost\r\n"));  // and never finishes
  std::string seen;
  EXPECT_TRUE(c.WaitForEof(&seen));
  EXPECT_EQ(seen.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << seen;
}

// Issue #11, item 7: before its first config an engine answers 503 with a text body, not WSO2's
// 404 (which reads as "no such API"); after a push, 101 and 404 as usual. With a certificate
// too (its startup snapshot carries the certificate, and is still unconfigured).
TEST_F(EngineRelayTest, UnsafePathsAre400AndUriVarsReachTheBackendEncoded) {
  for (const char* path : {"/chats/1.0.0/../../admin", "/chats/1.0.0/rooms/%2e%2e", "/chats/1.0.0/rooms/..;",
                          "/chats/1.0.0/rooms/a%2fb", "/chats/1.0.0//notifications"}) {
    auto [status, status_head, body] = Refuse(path, {Bearer(Token())});
    EXPECT_EQ(status, 400) << path;
    EXPECT_EQ(body.rfind("Bad Request: the path contains ", 0), 0u) << path << ": " << body;
  }
  RecordingBackend dropping(RecordingBackend::kDropAfterUpgrade);
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://127.0.0.1:" + std::to_string(dropping.port()));
  Apply(s);
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/rooms/room1&room=common?lang=en", {Bearer(Token())}))
      << c.response();
  std::string req = dropping.WaitForRequest(0);
  EXPECT_EQ(req.rfind("GET /rooms?room=room1%26room%3Dcommon&lang=en HTTP/1.1\r\n", 0), 0u) << req;
}

// Issue #11, item 5: a second Host or Sec-WebSocket-Key is a 400, not "the first one wins".
TEST_F(EngineRelayTest, DuplicateHostOrKeyIs400) {
  const std::string head = "GET /chats/1.0.0/notifications HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n" + Bearer(Token()) + "\r\n";
  for (const std::string& extra : {std::string("Host: other.example\r\n"),
                                   std::string("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n")}) {
    WsClient c;
    ASSERT_TRUE(c.ConnectTcp(engine_port()));
    ASSERT_TRUE(c.Handshake(head + extra + "\r\n"));
    EXPECT_EQ(c.status(), 400) << extra;
    EXPECT_NE(c.response().find("Bad Request: more than one "), std::string::npos) << c.response();
  }
}

}  // namespace
}  // namespace wsgate::testing
