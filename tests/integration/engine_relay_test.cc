// Integration tests for the engine: the real io_uring Server in-process, the real chat backend
// behind it, real sockets in front. Covers the handshake status matrix, protocol violations,
// pushes that revoke or undeploy, throttling, churn, slow readers, liveness. The walkthrough,
// relay integrity and close propagation run once per transport in engine_transport_test.cc.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "engine/ws/frame.h"
#include "engine/ws/handshake.h"
#include "tests/support/dropping_backend.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/process_stats.h"
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

TEST_F(EngineRelayTest, RevocationPushClosesLiveSocketsWith4001) {
  auto listener = Join("/chats/1.0.0/notifications", "Subscribed to notifications!");
  v1::Snapshot s = BaseSnapshot(2);
  s.add_revoked_tokens()->set_jti("jti-1");
  auto r = engine_->Apply(s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->connections_closed, 1u);
  // Even a listen-only client is closed (better than WSO2, which waits for the next client frame).
  auto f = listener->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  auto close = ParseClose(f->payload);
  EXPECT_EQ(close.code, 4001);
  EXPECT_EQ(close.reason, "Invalid Credentials Connection closed!");
  // A stale push (same agent, older version) changes nothing.
  auto again = engine_->Apply(BaseSnapshot(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->applied_version, 2u);
}

TEST_F(EngineRelayTest, UndeployClosesWith1012AndConfigPushDuringTrafficDropsNothing) {
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto b = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  std::atomic<bool> done{false};
  std::thread pusher([&] {
    for (uint64_t v = 2; !done; ++v) Apply(BaseSnapshot(v));
  });
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(a->SendText("msg " + std::to_string(i)));
    auto m = b->ReadMessage();
    ASSERT_TRUE(m) << i;
    ASSERT_EQ(m->payload, "msg " + std::to_string(i));
  }
  done = true;
  pusher.join();
  v1::Snapshot empty;
  empty.set_version(100000);
  empty.set_agent_id("test-agent");
  empty.mutable_settings()->set_drain_timeout_ms(1000);  // the closes spread over its first half
  Apply(empty);
  for (auto* c : {a.get(), b.get()}) {
    std::optional<WsFrame> f;
    do f = c->ReadFrame();
    while (f && f->opcode != 0x8);
    ASSERT_TRUE(f);
    auto info = ParseClose(f->payload);
    EXPECT_EQ(info.code, 1012);  // issue 15: like a drain, spread, so its clients do not reconnect at once
    EXPECT_EQ(std::string(info.reason), "API undeployed");
  }
}

// The control plane's calls arrive on several gRPC threads at once: pushes, stats and status
// reads race each other and the relay on the shards (what the TSan pass of tools/test.sh is
// there to check). Every message still arrives, in order; the applied version never goes back.
TEST_F(EngineRelayTest, ConcurrentPushesStatsAndStatusReadsWhileRelaying) {
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto b = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto c = Join("/chats/1.0.0/rooms/room2", "You joined room2!");
  auto d = Join("/chats/1.0.0/rooms/room2", "You joined room2!");
  std::atomic<bool> done{false};
  std::atomic<uint64_t> last_pushed{1};
  std::thread pusher([&] {
    for (uint64_t v = 2; !done; ++v) {
      auto r = engine_->Apply(BaseSnapshot(v));
      EXPECT_TRUE(r.ok()) << r.status();
      last_pushed = v;
    }
  });
  std::thread stats([&] {
    while (!done) EXPECT_EQ(engine_->CollectStats().active_connections, 4u);
  });
  std::thread status([&] {
    uint64_t seen = 0;
    while (!done) {
      uint64_t v = engine_->applied_version();
      EXPECT_GE(v, seen);
      seen = v;
      EXPECT_EQ(engine_->agent_id(), "test-agent");
      EXPECT_FALSE(engine_->draining());
    }
  });
  for (int i = 0; i < 200; ++i) {
    std::string m = "msg " + std::to_string(i);
    ASSERT_TRUE(a->SendText(m + " in room1"));
    ASSERT_TRUE(c->SendText(m + " in room2"));
    auto got_b = b->ReadMessage();
    ASSERT_TRUE(got_b) << i;
    ASSERT_EQ(got_b->payload, m + " in room1");
    auto got_d = d->ReadMessage();
    ASSERT_TRUE(got_d) << i;
    ASSERT_EQ(got_d->payload, m + " in room2");
  }
  done = true;
  pusher.join();
  stats.join();
  status.join();
  EXPECT_GT(last_pushed.load(), 1u);
  EXPECT_EQ(engine_->applied_version(), last_pushed.load());
  EXPECT_EQ(engine_->CollectStats().active_connections, 4u);
}

// WSO2's event-count throttling: every data frame in both directions counts against the
// subscription's plan (shared by all of the subscription's connections, on every shard); a
// message over the limit is dropped, the client gets "Error code: 4003 reason: Websocket frame
// throttled out" and the connection stays open; a push that changes the plan applies to live
// connections without resetting the count; a policy that does not stop only counts.
TEST_F(EngineRelayTest, ThrottledMessagesAreDroppedWith4003AndTheConnectionStaysOpen) {
  auto with_plan = [&](uint64_t version, uint64_t events) {
    v1::Snapshot s = BaseSnapshot(version);
    AddPolicy(s, "Tiny", events)->set_level(v1::SUBSCRIPTION);
    AddPolicy(s, "CountOnly", 1, /*stop=*/false)->set_level(v1::APPLICATION);  // counts, never drops
    auto* unlimited = s.add_throttle_policies();
    unlimited->set_name("AsyncUnlimited");
    unlimited->set_unlimited(true);
    s.mutable_subscriptions(0)->set_plan("Tiny");
    s.mutable_applications(0)->set_throttle_policy("CountOnly");
    s.mutable_apis(0)->set_throttle_policy("AsyncUnlimited");
    return s;
  };
  const std::string kThrottled = "Error code: 4003 reason: Websocket frame throttled out";
  Apply(with_plan(2, 6));
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");  // event 1 (the welcome text)
  auto b = Join("/chats/1.0.0/rooms/room1", "You joined room1!");  // event 2
  for (std::string m : {"m1", "m2"}) {  // events 3-6: a → backend, backend → b
    ASSERT_TRUE(a->SendText(m));
    auto got = b->ReadMessage();
    ASSERT_TRUE(got) << m;
    EXPECT_EQ(got->payload, m);
  }
  // The plan is used up: a's next message is dropped and a hears why; b hears nothing.
  ASSERT_TRUE(a->SendText("m3"));
  auto notice = a->ReadMessage();
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->opcode, 0x1);
  EXPECT_EQ(notice->payload, kThrottled);
  EXPECT_TRUE(b->QuietFor(200));
  // Still open: control frames are never throttled.
  ASSERT_TRUE(a->SendFrame(0x9, "still-there"));
  auto pong = a->ReadFrame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 0xA);
  EXPECT_EQ(pong->payload, "still-there");
  auto stats = engine_->CollectStats();
  EXPECT_EQ(stats.client_to_backend.throttled_frames, 1u);
  EXPECT_EQ(stats.backend_to_client.throttled_frames, 0u);

  // A bigger plan reaches the live connections; the 6 events already counted stay counted.
  Apply(with_plan(3, 9));
  ASSERT_TRUE(a->SendText("m4"));  // events 7 and 8
  auto m4 = b->ReadMessage();
  ASSERT_TRUE(m4);
  EXPECT_EQ(m4->payload, "m4");
  // Event 9 is a's next message; its copy to b would be the 10th: b gets the notice instead.
  ASSERT_TRUE(a->SendText("m5"));
  auto replaced = b->ReadMessage();
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->payload, kThrottled);
  EXPECT_TRUE(a->QuietFor(200));
  stats = engine_->CollectStats();
  EXPECT_EQ(stats.backend_to_client.throttled_frames, 1u);
  EXPECT_EQ(stats.client_to_backend.frames, 4u);  // m1, m2, m4, m5 (m3 was dropped)
}

// Topic direction rights (Topic.publish / Topic.subscribe): a subscribe-only topic takes no
// client messages — each run of drops is answered with one WSO2-style notice and the connection
// stays open — and a publish-only topic passes no backend messages. Dropped frames are counted,
// not throttled.
TEST_F(EngineRelayTest, DirectionRightsDropFramesTheTopicDoesNotAllow) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_topics(0)->set_publish(false);  // /notifications: subscribe only
  s.mutable_apis(0)->mutable_topics(0)->set_subscribe(true);
  Apply(s);
  const std::string kNotice = "Error code: 4002 reason: User NOT authorized to publish to this topic";
  auto listener = Join("/chats/1.0.0/notifications", "Subscribed to notifications!");  // backend -> client passes
  ASSERT_TRUE(listener->SendText("one"));
  ASSERT_TRUE(listener->SendText("two"));
  auto notice = listener->ReadMessage();
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->opcode, 0x1);
  EXPECT_EQ(notice->payload, kNotice);
  ASSERT_TRUE(listener->SendFrame(0x9, "open?"));  // still open; control frames are not data
  auto pong = listener->ReadFrame();
  ASSERT_TRUE(pong);
  // "two" may or may not have been coalesced into the first notice; nothing else arrives.
  if (pong->opcode == 0x1) {
    EXPECT_EQ(pong->payload, kNotice);
    pong = listener->ReadFrame();
    ASSERT_TRUE(pong);
  }
  EXPECT_EQ(pong->opcode, 0xA);
  auto stats = engine_->CollectStats();
  EXPECT_EQ(stats.client_to_backend.denied_frames, 2u);
  EXPECT_EQ(stats.client_to_backend.frames, 0u);
  EXPECT_EQ(stats.client_to_backend.throttled_frames, 0u);
  // Per connection too (conn get, the access log's denied_frames), and the shard totals are the
  // per-API counters' sums.
  engine::server::ConnFilter notifications;
  notifications.topic = "/notifications";
  auto page = engine_->ListConnections(notifications, "", 10);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->connections.size(), 1u);
  EXPECT_EQ(page->connections[0].client_to_backend.denied_frames, 2u);
  EXPECT_EQ(page->connections[0].client_to_backend.frames, 0u);
  engine::server::DirectionCounters summed;
  for (const auto& [id, api] : stats.apis) summed.Add(api->client_to_backend);
  EXPECT_EQ(summed.denied_frames, stats.client_to_backend.denied_frames);

  // /rooms/{roomID} publish only: its clients' messages reach the room, nothing reaches them.
  s = BaseSnapshot(3);
  s.mutable_apis(0)->mutable_topics(1)->set_publish(true);
  s.mutable_apis(0)->mutable_topics(1)->set_subscribe(false);
  Apply(s);
  WsClient sender, member;
  ASSERT_TRUE(sender.Connect(engine_port(), "/chats/1.0.0/rooms/room1", {Bearer(Token())})) << sender.response();
  ASSERT_TRUE(member.Connect(engine_port(), "/chats/1.0.0/rooms/room1", {Bearer(Token())})) << member.response();
  EXPECT_TRUE(sender.QuietFor(200));  // the welcomes were dropped
  EXPECT_TRUE(member.QuietFor(50));
  uint64_t denied_before = engine_->CollectStats().backend_to_client.denied_frames;
  EXPECT_GE(denied_before, 2u);
  ASSERT_TRUE(sender.SendText("hello"));  // reaches the backend, whose broadcast to member is dropped
  EXPECT_TRUE(member.QuietFor(300));
  stats = engine_->CollectStats();
  EXPECT_EQ(stats.client_to_backend.frames, 1u);
  EXPECT_GT(stats.backend_to_client.denied_frames, denied_before);
}

TEST_F(EngineRelayTest, ChurnLeaksNoFdsAndNoMemory) {
  std::string token = Token();
  for (int i = 0; i < 1000; ++i) {  // warm up allocator pools and the connection table
    WsClient c;
    ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(token)})) << i;
  }
  int before = CountOpenFds();
  size_t rss_before = ResidentBytes();
  for (int i = 0; i < 10000; ++i) {
    WsClient c;
    ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(token)})) << i;
    if (i % 3 == 0) c.SendClose(1000);
    if (i % 50 == 0) {
      EXPECT_NE(Refuse("/chats/1.0.0/rooms/room9", {Bearer(token)}).status, 101);
    }
  }
  // The engine notices the last closes asynchronously: wait until it has let go of everything.
  int after = 0;
  engine::server::ShardStats stats;
  for (int tries = 0; tries < 200; ++tries) {
    after = CountOpenFds();
    stats = engine_->CollectStats();
    if (after <= before && stats.open_sockets == 0 && stats.buffers_in_use == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_LE(after, before);
  size_t rss_after = ResidentBytes();
  std::printf("churn: RSS %zu KiB before, %zu KiB after 10000 more connections\n", rss_before / 1024, rss_after / 1024);
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine holds freed memory on purpose, so RSS says nothing here; LeakSanitizer
  // checks for real leaks when this process exits.
  (void)rss_after;
#else
  EXPECT_LT(rss_after, rss_before + (size_t{8} << 20));  // engine + backend + client, all in this process
#endif
  EXPECT_EQ(stats.open_sockets, 0u);
  EXPECT_EQ(stats.buffers_in_use, 0u);
  EXPECT_GE(stats.total_connections, 11000u);
}

TEST_F(EngineRelayTest, SlowReaderKeepsEngineMemoryBounded) {
  auto a = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto b = Join("/chats/1.0.0/rooms/room1", "You joined room1!");  // never reads until the end
  timeval send_timeout{1, 0};
  setsockopt(a->fd(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  const std::string chunk(64 * 1024, 'q');
  int sent = 0;
  uint64_t peak = 0;
  for (; sent < 1024; ++sent) {  // up to 64 MiB while B reads nothing
    if (!a->SendBinary(chunk)) break;
    if (sent % 32 == 0) peak = std::max(peak, engine_->CollectStats().buffer_bytes_in_use);
  }
  peak = std::max(peak, engine_->CollectStats().buffer_bytes_in_use);
  // The queue toward B is capped at 1 MiB (settings.queue_bytes): past it the engine stops
  // reading from the backend. What it holds stays near that (plus the completions already posted
  // when the pause lands, and A's data in flight), whatever A sends.
  EXPECT_LE(peak, uint64_t{4} << 20) << "engine held " << peak << " bytes of receive buffers";
  EXPECT_GE(sent, 64);
  std::printf("slow reader: A sent %d x 64 KiB; engine peak receive-buffer bytes %llu\n", sent, static_cast<unsigned long long>(peak));
  // Nothing was lost: B now reads every message in order.
  for (int i = 0; i < sent; ++i) {
    auto m = b->ReadMessage();
    ASSERT_TRUE(m) << i;
    ASSERT_EQ(m->payload.size(), chunk.size()) << i;
  }
}

TEST_F(EngineRelayTest, BackendTcpDeathClosesTheClientWith1011) {
  DroppingBackend dropping;
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://127.0.0.1:" + std::to_string(dropping.port()));
  Apply(s);
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/rooms/r1?lang=en&access_token=" + Token(),
                        {"Sec-WebSocket-Protocol: stomp, wamp"}))
      << c.response();
  // What the backend was asked: the mapped URL with the client's other query parameters, a fresh
  // key, the subprotocols, X-Forwarded-For, and no credential.
  std::string req = dropping.request();
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

TEST_F(EngineRelayTest, IdleClientsArePingedAndDeadOnesClosed) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_ping_interval_ms(1000);  // the smallest allowed
  s.mutable_settings()->set_pong_timeout_ms(1000);
  Apply(s);
  auto alive = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto dead = Join("/chats/1.0.0/rooms/room2", "You joined room2!");
  auto ping = alive->ReadFrame();
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->opcode, 0x9);
  ASSERT_TRUE(alive->SendFrame(0xA, ping->payload));  // answer like a browser would
  auto dead_ping = dead->ReadFrame();  // never answered
  ASSERT_TRUE(dead_ping);
  EXPECT_EQ(dead_ping->opcode, 0x9);
  EXPECT_TRUE(dead->WaitForEof());  // half-open client: its resources are freed
  // The live one is pinged again and stays open.
  auto again = alive->ReadFrame();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->opcode, 0x9);
  ASSERT_TRUE(alive->SendFrame(0xA, again->payload));
  ASSERT_TRUE(alive->SendText("still here"));
  EXPECT_EQ(engine_->CollectStats().active_connections, 1u);
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
TEST_F(EngineRelayTest, NoConfigAnswers503ThenAPushServes) {
  for (bool with_certificate : {false, true}) {
    SCOPED_TRACE(with_certificate ? "with a certificate" : "without a certificate");
    engine::server::ServerOptions so;
    so.ws_listen = "127.0.0.1:0";
    if (with_certificate) {
      so.wss_listen = "127.0.0.1:0";
      so.tls = {CertFile(), KeyFile()};
    }
    so.shards = 1;
    so.buffer_count = 64;
    engine::server::Server bare(so);
    ASSERT_TRUE(bare.Start().ok());
    WsClient c;
    EXPECT_FALSE(c.Connect(bare.port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
    EXPECT_EQ(c.status(), 503) << c.response();
    EXPECT_NE(c.response().find("\r\n\r\nService Unavailable: the gateway has no configuration yet"),
              std::string::npos)
        << c.response();
    ASSERT_TRUE(bare.Apply(BaseSnapshot()).ok());
    WsClient ok;
    EXPECT_TRUE(ok.Connect(bare.port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << ok.response();
    WsClient missing;
    EXPECT_FALSE(missing.Connect(bare.port(), "/nope/1.0.0/x", {Bearer(Token())}));
    EXPECT_EQ(missing.status(), 404);
  }
}

// Issue #11, item 4: a path a backend could normalize elsewhere is a 400 naming the problem,
// and a {uri.var.X} value reaches the backend encoded for the query it lands in.
TEST_F(EngineRelayTest, UnsafePathsAre400AndUriVarsReachTheBackendEncoded) {
  for (const char* path : {"/chats/1.0.0/../../admin", "/chats/1.0.0/rooms/%2e%2e", "/chats/1.0.0/rooms/..;",
                          "/chats/1.0.0/rooms/a%2fb", "/chats/1.0.0//notifications"}) {
    auto [status, status_head, body] = Refuse(path, {Bearer(Token())});
    EXPECT_EQ(status, 400) << path;
    EXPECT_EQ(body.rfind("Bad Request: the path contains ", 0), 0u) << path << ": " << body;
  }
  DroppingBackend dropping;
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://127.0.0.1:" + std::to_string(dropping.port()));
  Apply(s);
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/rooms/room1&room=common?lang=en", {Bearer(Token())}))
      << c.response();
  std::string req = dropping.request();
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
