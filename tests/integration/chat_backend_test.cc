// Integration tests for the chat backend: the real ChatServer in-process on 127.0.0.1:0, driven
// by real sockets. Covers the handshake matrix, the walkthrough's strings and fan-out, protocol
// behaviour inherited from the Node "ws" library, large messages, many clients, and shutdown.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "tests/support/process_stats.h"
#include "tests/support/ws_client.h"
#include "tools/chat-backend/chat_server.h"

namespace wsgate::tools::chat {
namespace {

using wsgate::testing::CountOpenFds;
using wsgate::testing::ParseClose;
using wsgate::testing::WsClient;

class ChatBackendTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = {}) {
    options.bind_address = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<ChatServer>(options);
    ASSERT_TRUE(server_->Listen().ok());
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      thread_.join();
      EXPECT_TRUE(run_status_.ok()) << run_status_;
    }
  }
  uint16_t port() const { return server_->port(); }

  // Connects and consumes the welcome message.
  std::unique_ptr<WsClient> Join(const std::string& target, const std::string& welcome) {
    auto c = std::make_unique<WsClient>();
    EXPECT_TRUE(c->Connect(port(), target)) << c->response();
    auto m = c->ReadMessage();
    EXPECT_TRUE(m.has_value());
    if (m) {
      EXPECT_EQ(m->payload, welcome);
    }
    return c;
  }

  std::unique_ptr<ChatServer> server_;
  std::thread thread_;
  absl::Status run_status_;
};

TEST_F(ChatBackendTest, WalkthroughStringsAndFanOut) {
  Start();
  auto notif = Join("/notifications", "Subscribed to notifications!");
  auto a = Join("/rooms?room=room1", "You joined room1!");
  EXPECT_EQ(notif->ReadMessage()->payload, "Someone joined room1!");
  auto b = Join("/rooms?room=room1", "You joined room1!");
  EXPECT_EQ(notif->ReadMessage()->payload, "Someone joined room1!");
  auto other = Join("/rooms?room=room2", "You joined room2!");
  EXPECT_EQ(notif->ReadMessage()->payload, "Someone joined room2!");
  auto common = Join("/rooms?room=common", "You joined the common room!");
  EXPECT_EQ(notif->ReadMessage()->payload, "Someone joined the common room!");

  ASSERT_TRUE(a->SendText("hello from a"));
  auto got = b->ReadMessage();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->opcode, 0x1);
  EXPECT_EQ(got->payload, "hello from a");
  ASSERT_TRUE(b->SendText("hello from b"));
  EXPECT_EQ(a->ReadMessage()->payload, "hello from b");
  // No echo to the sender, nothing across rooms, no chat on notifications.
  EXPECT_TRUE(a->QuietFor(200));
  EXPECT_TRUE(other->QuietFor(0));
  EXPECT_TRUE(common->QuietFor(0));
  EXPECT_TRUE(notif->QuietFor(0));
  // A notifications client's message reaches the other notifications clients only.
  auto notif2 = Join("/notifications", "Subscribed to notifications!");
  ASSERT_TRUE(notif2->SendText("psst"));
  EXPECT_EQ(notif->ReadMessage()->payload, "psst");
  EXPECT_TRUE(a->QuietFor(200));
  // Leaving sends no notice.
  b->Close();
  EXPECT_TRUE(notif->QuietFor(200));
}

TEST_F(ChatBackendTest, BinaryAndFragmentedMessagesKeepTypeAndBoundaries) {
  Start();
  auto a = Join("/rooms?room=room2", "You joined room2!");
  auto b = Join("/rooms?room=room2", "You joined room2!");
  std::string bin("\x00\x01\xff\xfe", 4);
  ASSERT_TRUE(a->SendBinary(bin));
  auto m = b->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->opcode, 0x2);
  EXPECT_EQ(m->payload, bin);
  // Three fragments with a ping in between arrive as one text message.
  ASSERT_TRUE(a->SendFrame(0x1, "frag", false));
  ASSERT_TRUE(a->SendFrame(0x9, "p"));
  ASSERT_TRUE(a->SendFrame(0x0, "ment", false));
  ASSERT_TRUE(a->SendFrame(0x0, "ed", true));
  auto pong = a->ReadFrame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 0xA);
  EXPECT_EQ(pong->payload, "p");
  auto f = b->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->fin);
  EXPECT_EQ(f->opcode, 0x1);
  EXPECT_EQ(f->payload, "fragmented");
  // An empty message is still a message.
  ASSERT_TRUE(a->SendText(""));
  auto empty = b->ReadMessage();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->payload, "");
}

TEST_F(ChatBackendTest, LargeMessageReachesEveryPeer) {
  Start();
  auto a = Join("/rooms?room=common", "You joined the common room!");
  auto b = Join("/rooms?room=common", "You joined the common room!");
  auto c = Join("/rooms?room=common", "You joined the common room!");
  std::string big(20 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  std::thread sender([&] { ASSERT_TRUE(a->SendBinary(big)); });
  auto mb = b->ReadMessage();
  auto mc = c->ReadMessage();
  sender.join();
  ASSERT_TRUE(mb && mc);
  EXPECT_TRUE(mb->payload == big);
  EXPECT_TRUE(mc->payload == big);
}

TEST_F(ChatBackendTest, HundredsOfClientsInOneRoom) {
  Start();
  constexpr int kClients = 300;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(Join("/rooms?room=common", "You joined the common room!"));
  ASSERT_TRUE(clients[7]->SendText("to everyone"));
  for (int i = 0; i < kClients; ++i) {
    if (i == 7) continue;
    auto m = clients[i]->ReadMessage();
    ASSERT_TRUE(m) << "client " << i;
    EXPECT_EQ(m->payload, "to everyone");
  }
  EXPECT_TRUE(clients[7]->QuietFor(100));
}

TEST_F(ChatBackendTest, SubprotocolFirstOfferIsEchoed) {
  Start();
  WsClient c;
  ASSERT_TRUE(c.Connect(port(), "/notifications", {"Sec-WebSocket-Protocol: stomp, wamp"}));
  EXPECT_NE(c.response().find("Sec-WebSocket-Protocol: stomp\r\n"), std::string::npos) << c.response();
  WsClient plain;
  ASSERT_TRUE(plain.Connect(port(), "/notifications"));
  EXPECT_EQ(plain.response().find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST_F(ChatBackendTest, CloseIsEchoedThenTheConnectionEnds) {
  Start();
  auto a = Join("/rooms?room=room1", "You joined room1!");
  ASSERT_TRUE(a->SendClose(4321, "bye"));
  auto f = a->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(ParseClose(f->payload).code, 4321);
  EXPECT_TRUE(a->WaitForEof());
}

TEST_F(ChatBackendTest, InvalidUtf8TextClosesWith1007) {
  Start();
  auto a = Join("/rooms?room=room1", "You joined room1!");
  auto b = Join("/rooms?room=room1", "You joined room1!");
  ASSERT_TRUE(a->SendText("bad \xc0\xaf"));
  auto f = a->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(ParseClose(f->payload).code, 1007);
  EXPECT_TRUE(b->QuietFor(200));  // nothing relayed
}

TEST_F(ChatBackendTest, OversizedMessageClosesWith1009) {
  ServerOptions options;
  options.max_payload_bytes = 1024;
  Start(options);
  auto a = Join("/rooms?room=room1", "You joined room1!");
  ASSERT_TRUE(a->SendText(std::string(2048, 'x')));
  auto f = a->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(ParseClose(f->payload).code, 1009);
}

TEST_F(ChatBackendTest, UnknownRoomClosesTcpWithoutAResponse) {
  Start();
  for (const char* target : {"/rooms?room=room3", "/rooms", "/rooms?room=room1&room=room1"}) {
    WsClient c;
    ASSERT_TRUE(c.ConnectTcp(port()));
    ASSERT_TRUE(c.SendRaw(std::string("GET ") + target +
                          " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    std::string seen;
    EXPECT_TRUE(c.WaitForEof(&seen)) << target;
    EXPECT_EQ(seen, "") << target;
  }
}

TEST_F(ChatBackendTest, UnknownPathIsNeverAnswered) {
  Start();
  WsClient c;
  ASSERT_TRUE(c.ConnectTcp(port()));
  ASSERT_TRUE(c.SendRaw("GET /notifications/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  EXPECT_TRUE(c.QuietFor(300));
}

TEST_F(ChatBackendTest, StrictHttpAnswers404And426) {
  ServerOptions options;
  options.strict_http = true;
  Start(options);
  WsClient room;
  EXPECT_FALSE(room.Connect(port(), "/rooms?room=room9"));
  EXPECT_EQ(room.status(), 404);
  WsClient path;
  EXPECT_FALSE(path.Connect(port(), "/nope"));
  EXPECT_EQ(path.status(), 404);
  WsClient plain;
  ASSERT_TRUE(plain.ConnectTcp(port()));
  ASSERT_TRUE(plain.Handshake("GET /notifications HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(plain.status(), 426);
}

TEST_F(ChatBackendTest, BadUpgradeOnAKnownPathIs400) {
  Start();
  WsClient c;
  ASSERT_TRUE(c.ConnectTcp(port()));
  ASSERT_TRUE(c.Handshake("GET /notifications HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"));
  EXPECT_EQ(c.status(), 400);
  EXPECT_NE(c.response().find("Bad Request"), std::string::npos);
  EXPECT_TRUE(c.WaitForEof());
  WsClient garbage;
  ASSERT_TRUE(garbage.ConnectTcp(port()));
  ASSERT_TRUE(garbage.Handshake("BLAH\n\n"));
  EXPECT_EQ(garbage.status(), 400);
}

TEST_F(ChatBackendTest, FramesSentWithTheRequestAreNotLost) {
  Start();
  auto b = Join("/rooms?room=room1", "You joined room1!");
  WsClient a;
  ASSERT_TRUE(a.ConnectTcp(port()));
  // The request and a masked "early" text frame in one write.
  std::string frame = std::string("\x81\x85\x01\x02\x03\x04", 6);
  std::string text = "early";
  for (size_t i = 0; i < text.size(); ++i) frame.push_back(static_cast<char>(text[i] ^ "\x01\x02\x03\x04"[i & 3]));
  ASSERT_TRUE(a.Handshake("GET /rooms?room=room1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
                          frame));
  EXPECT_EQ(a.status(), 101);
  auto m = b->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "early");
}

TEST_F(ChatBackendTest, EchoModeEchoesToTheSenderOnly) {
  ServerOptions options;
  options.echo = true;
  Start(options);
  WsClient a, b;
  ASSERT_TRUE(a.Connect(port(), "/any/path"));
  ASSERT_TRUE(b.Connect(port(), "/any/path"));
  ASSERT_TRUE(a.SendBinary("ping 1"));
  auto m = a.ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->opcode, 0x2);
  EXPECT_EQ(m->payload, "ping 1");
  EXPECT_TRUE(b.QuietFor(200));
}

TEST_F(ChatBackendTest, StopClosesClientsWith1001) {
  Start();
  auto a = Join("/rooms?room=room1", "You joined room1!");
  server_->Stop();
  auto f = a->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(ParseClose(f->payload).code, 1001);
  ASSERT_TRUE(a->SendClose(1001));
  thread_.join();
  server_.reset();
  EXPECT_TRUE(a->WaitForEof());
}

TEST_F(ChatBackendTest, ConnectDisconnectChurnLeaksNoFds) {
  Start();
  // Warm up lazily created fds (none expected, but be fair to the measurement).
  { auto w = Join("/notifications", "Subscribed to notifications!"); }
  int before = CountOpenFds();
  for (int i = 0; i < 500; ++i) {
    WsClient c;
    ASSERT_TRUE(c.Connect(port(), i % 2 ? "/notifications" : "/rooms?room=room2"));
    if (i % 3 == 0) c.SendClose(1000);
  }
  // Held and refused connections too.
  for (int i = 0; i < 50; ++i) {
    WsClient c;
    ASSERT_TRUE(c.ConnectTcp(port()));
    c.SendRaw("GET /unknown HTTP/1.1\r\n\r\n");
  }
  // The server notices the closes asynchronously; give it a moment.
  int after = 0;
  for (int tries = 0; tries < 100; ++tries) {
    after = CountOpenFds();
    if (after <= before) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LE(after, before);
  // stats() is only meaningful once Run() has returned (it reads the loop's own counters).
  server_->Stop();
  thread_.join();
  EXPECT_TRUE(run_status_.ok()) << run_status_;
  EXPECT_EQ(server_->stats().upgraded, 501u);
  server_.reset();  // TearDown has nothing left to stop
}

}  // namespace
}  // namespace wsgate::tools::chat
