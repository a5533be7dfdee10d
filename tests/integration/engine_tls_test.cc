// Integration tests for wss: the engine terminating TLS (BoringSSL in the shard loop) in front of
// the chat backend, and wss:// backends with certificate verification.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "engine/tls/tls.h"
#include "engine/ws/frame.h"
#include "engine/ws/handshake.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/ws_client_tls.h"

namespace wsgate::testing {
namespace {

// A wss backend for one connection: TLS with its own certificate, answers the upgrade, then
// echoes every message back (server frames, unmasked).
class TlsEchoBackend {
 public:
  TlsEchoBackend(const std::string& cert, const std::string& key) {
    auto ctx = engine::tls::ServerTlsContext::Create({{"", cert, key}});
    if (!ctx.ok()) std::abort();
    ctx_ = *ctx;
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 8);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsEchoBackend() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      timeval tv{5, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      engine::tls::TlsSession s(ctx_->NewSsl(), true);
      std::string in, plain;
      bool upgraded = false;
      auto flush = [&] {
        std::string out;
        s.TakeOutput(&out);
        if (!out.empty()) send(c, out.data(), out.size(), MSG_NOSIGNAL);
      };
      while (true) {
        char buf[16384];
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        s.Feed(reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n));
        uint8_t p[16384];
        size_t got;
        engine::tls::TlsSession::Result r;
        while ((r = s.Read(p, sizeof(p), &got)) == engine::tls::TlsSession::kData) plain.append(reinterpret_cast<char*>(p), got);
        flush();
        if (r == engine::tls::TlsSession::kError) break;
        if (!upgraded) {
          size_t end = plain.find("\r\n\r\n");
          if (end == std::string::npos) continue;
          size_t k = plain.find("Sec-WebSocket-Key: ");
          std::string key = plain.substr(k + 19, plain.find("\r\n", k) - k - 19);
          std::string resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: " + engine::ws::AcceptKey(key) + "\r\n\r\n";
          s.Write(reinterpret_cast<const uint8_t*>(resp.data()), resp.size());
          flush();
          plain.erase(0, end + 4);
          upgraded = true;
        }
        // Echo complete client frames back unmasked.
        while (true) {
          engine::ws::FrameHeader h;
          int hl = engine::ws::ParseFrameHeader(reinterpret_cast<const uint8_t*>(plain.data()), plain.size(), &h);
          if (hl <= 0 || plain.size() < hl + h.payload_length) break;
          std::string payload = plain.substr(static_cast<size_t>(hl), h.payload_length);
          engine::ws::ApplyMask(reinterpret_cast<uint8_t*>(payload.data()), payload.size(), h.mask);
          std::string frame = engine::ws::EncodeFrame(h.opcode, payload);
          s.Write(reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
          flush();
          plain.erase(0, hl + h.payload_length);
        }
      }
      close(c);
    }
  }

  std::shared_ptr<engine::tls::ServerTlsContext> ctx_;
  int fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class EngineTlsTest : public EngineFixture {
 protected:
  // Every ciphertext byte in its own send(), and frames split across 3-byte records.
  static TlsClientOptions SplitRecords() {
    TlsClientOptions split;
    split.send_chunk = 1;
    split.record_chunk = 3;
    return split;
  }
  // A wss client through the engine, verifying the engine's certificate.
  std::unique_ptr<WsClient> WssJoin(const std::string& path, const std::string& welcome, TlsClientOptions options = {}) {
    auto c = std::make_unique<WsClient>();
    // Generous read timeout: a split-records client sends every byte in its own syscall, which
    // is slow on a loaded 2-core CI machine (not an engine stall).
    EXPECT_TRUE(c->ConnectTcp(wss_port(), 30000));
    if (options.ca_file.empty()) options.ca_file = CertFile();
    std::string error;
    EXPECT_TRUE(StartTls(*c, options, &error)) << error;
    EXPECT_TRUE(c->Upgrade(wss_port(), path, {Bearer(Token())})) << c->response();
    if (!welcome.empty()) ExpectWelcome(*c, path, welcome);
    return c;
  }
};

// The walkthrough itself over wss is in engine_transport_test.cc (once per transport).
TEST_F(EngineTlsTest, WsAndWssClientsShareARoom) {
  auto a = WssJoin("/chats/1.0.0/rooms/room1", "You joined room1!");
  // A ws client and a wss client share the room.
  WsClient plain;
  ASSERT_TRUE(plain.Connect(engine_port(), "/chats/1.0.0/rooms/room1", {Bearer(Token())}));
  EXPECT_EQ(plain.ReadMessage()->payload, "You joined room1!");
  ASSERT_TRUE(plain.SendText("mixed"));
  EXPECT_EQ(a->ReadMessage()->payload, "mixed");
}

// The throttle notice is an engine-originated frame: over wss it must be encrypted into the
// client's stream like any relayed one.
TEST_F(EngineTlsTest, ThrottleNoticeReachesAWssClient) {
  v1::Snapshot s = BaseSnapshot(2);
  AddPolicy(s, "Tiny", 3);
  s.mutable_subscriptions(0)->set_plan("Tiny");
  Apply(s);
  auto a = WssJoin("/chats/1.0.0/rooms/room1", "You joined room1!");  // event 1
  ASSERT_TRUE(a->SendText("x"));                                      // event 2 (alone in the room)
  ASSERT_TRUE(a->SendText("y"));                                      // event 3
  ASSERT_TRUE(a->SendText("z"));                                      // dropped
  auto m = a->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "Error code: 4003 reason: Websocket frame throttled out");
  ASSERT_TRUE(a->SendFrame(0x9, "alive"));
  auto pong = a->ReadFrame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 0xA);
}

TEST_F(EngineTlsTest, RecordBoundariesDoNotMatter) {
  auto a = WssJoin("/chats/1.0.0/rooms/room2", "You joined room2!", SplitRecords());
  auto b = WssJoin("/chats/1.0.0/rooms/room2", "You joined room2!");
  ASSERT_TRUE(a->SendText("one frame across many records"));
  auto first = b->ReadMessage();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->payload, "one frame across many records");
  // Many frames in one record (one SendRaw of ten frames, one TLS write).
  static const uint8_t kMask[4] = {9, 8, 7, 6};
  std::string many;
  for (int i = 0; i < 10; ++i) many += engine::ws::EncodeFrame(engine::ws::kText, "m" + std::to_string(i), kMask);
  ASSERT_TRUE(b->SendRaw(many));
  for (int i = 0; i < 10; ++i) {
    auto m = a->ReadMessage();
    ASSERT_TRUE(m) << i;
    EXPECT_EQ(m->payload, "m" + std::to_string(i));
  }
}

TEST_F(EngineTlsTest, ManySplitRecordMessagesArriveIntact) {
  auto a = WssJoin("/chats/1.0.0/rooms/room1", "You joined room1!", SplitRecords());
  auto b = WssJoin("/chats/1.0.0/rooms/room1", "You joined room1!");
  for (int i = 0; i < 100; ++i) {
    std::string text = "message number " + std::to_string(i) + " split into tiny records";
    ASSERT_TRUE(a->SendText(text));
    auto m = b->ReadMessage();
    ASSERT_TRUE(m) << i;
    ASSERT_EQ(m->payload, text);
  }
}

TEST_F(EngineTlsTest, SixteenMiBMessagesOverTls) {
  auto a = WssJoin("/chats/1.0.0/rooms/common", "You joined the common room!");
  auto b = WssJoin("/chats/1.0.0/rooms/common", "You joined the common room!");
  std::string big((16 << 20) - 64, 'x');
  for (size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>('a' + i % 26);
  std::thread sender([&] { ASSERT_TRUE(a->SendBinary(big)); });
  auto m = b->ReadMessage();
  sender.join();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->payload == big);
}

TEST_F(EngineTlsTest, ManyConcurrentTlsHandshakes) {
  constexpr int kThreads = 4, kEach = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  std::string token = Token();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        WsClient c;
        if (!c.ConnectTcp(wss_port())) continue;
        TlsClientOptions o;
        o.ca_file = CertFile();
        std::string error;
        if (!StartTls(c, o, &error)) continue;
        if (!c.Upgrade(wss_port(), "/chats/1.0.0/notifications", {Bearer(token)})) continue;
        auto m = c.ReadMessage();
        if (m && m->payload == "Subscribed to notifications!") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
}

TEST_F(EngineTlsTest, PlaintextAndGarbageOnTheWssPortCloseCleanly) {
  WsClient plain;
  ASSERT_TRUE(plain.ConnectTcp(wss_port()));
  ASSERT_TRUE(plain.SendRaw("GET /chats/1.0.0/notifications HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  EXPECT_TRUE(plain.WaitForEof());
  WsClient garbage;
  ASSERT_TRUE(garbage.ConnectTcp(wss_port()));
  ASSERT_TRUE(garbage.SendRaw(std::string("\x16\x03\x01\xff\xff garbage", 14)));
  EXPECT_TRUE(garbage.WaitForEof());
  // The engine is fine afterwards.
  WssJoin("/chats/1.0.0/notifications", "Subscribed to notifications!");
}

TEST_F(EngineTlsTest, BadCertificatesAreRefusedAndTheOldOneKeepsServing) {
  std::string dir = CertDir();
  ASSERT_TRUE(engine::tls::WriteSelfSignedCertificate(dir + "/expired.crt", dir + "/expired.key", {"localhost"}, -7200, -3600).ok());
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_vhosts(0)->mutable_tls()->set_cert_file(dir + "/expired.crt");
  s.mutable_vhosts(0)->mutable_tls()->set_key_file(dir + "/expired.key");
  auto r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("expired on"), absl::string_view::npos) << r.status();
  s.mutable_vhosts(0)->mutable_tls()->set_key_file(dir + "/backend.key");
  s.mutable_vhosts(0)->mutable_tls()->set_cert_file(dir + "/engine.crt");
  r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not match"), absl::string_view::npos) << r.status();
  EXPECT_EQ(engine_->applied_version(), 1u);
  WssJoin("/chats/1.0.0/notifications", "Subscribed to notifications!");
}

TEST_F(EngineTlsTest, CertificateReloadKeepsLiveConnections) {
  auto a = WssJoin("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto b = WssJoin("/chats/1.0.0/rooms/room1", "You joined room1!");
  // A push that gives the vhost its own certificate (SNI "localhost"): new handshakes get it;
  // sessions already open keep theirs and keep relaying.
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_vhosts(0)->mutable_tls()->set_cert_file(CertDir() + "/backend.crt");
  s.mutable_vhosts(0)->mutable_tls()->set_key_file(CertDir() + "/backend.key");
  Apply(s);
  ASSERT_TRUE(a->SendText("still here after the reload"));
  auto m = b->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "still here after the reload");
  TlsClientOptions trusts_new;
  trusts_new.ca_file = CertDir() + "/backend.crt";
  WssJoin("/chats/1.0.0/notifications", "Subscribed to notifications!", trusts_new);
}

// Session tickets: a second connection resumes the first one's session, and still does after a
// full config push rebuilt the server contexts (one key ring for the process,
// engine/tls/ticket_keys.h; BoringSSL's default key per SSL_CTX lost every ticket on a push).
TEST_F(EngineTlsTest, SessionsResumeAcrossConnectionsAndConfigPushes) {
  auto ctx = engine::tls::ClientTlsContext::Create(CertFile(), false);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  (*ctx)->EnableResumption();
  bool resumed = true;
  TlsClientOptions reuse;
  reuse.context = *ctx;
  reuse.resumed = &resumed;
  auto first = WssJoin("/chats/1.0.0/notifications", "Subscribed to notifications!", reuse);
  EXPECT_FALSE(resumed) << "nothing to resume yet";
  auto second = WssJoin("/chats/1.0.0/notifications", "Subscribed to notifications!", reuse);
  EXPECT_TRUE(resumed);
  v1::Snapshot s = BaseSnapshot(2);
  AddPolicy(s, "Roomy", 1000);  // a change: a full push, new server contexts
  s.mutable_subscriptions(0)->set_plan("Roomy");
  Apply(s);
  auto third = WssJoin("/chats/1.0.0/notifications", "Subscribed to notifications!", reuse);
  EXPECT_TRUE(resumed) << "the push must not lose the tickets";
  // Another client context has no session: a full handshake.
  auto fresh = WssJoin("/chats/1.0.0/notifications", "Subscribed to notifications!", TlsClientOptions{"localhost", CertFile(), 1 << 20, 16384, nullptr, &resumed});
  EXPECT_FALSE(resumed);
}

TEST_F(EngineTlsTest, WssBackendsAreVerified) {
  TlsEchoBackend backend(CertDir() + "/backend.crt", CertDir() + "/backend.key");
  // Trusting the backend's certificate: the handshake and relay work.
  v1::Snapshot s = BaseSnapshot(2);
  auto* ep = s.mutable_apis(0)->mutable_production_endpoint();
  ep->set_url("wss://localhost:" + std::to_string(backend.port()));
  ep->set_ca_file(CertDir() + "/backend.crt");
  Apply(s);
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << c.response();
  ASSERT_TRUE(c.SendText("echo over wss"));
  auto m = c.ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "echo over wss");
  c.Close();  // the test backend serves one connection at a time
  // Trusting another CA: 502, with the reason.
  ep->set_ca_file(CertFile());
  s.set_version(3);
  Apply(s);
  WsClient d;
  EXPECT_FALSE(d.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
  EXPECT_EQ(d.status(), 502);
  EXPECT_NE(d.response().find("certificate verify failed"), std::string::npos) << d.response();
}

}  // namespace
}  // namespace wsgate::testing
