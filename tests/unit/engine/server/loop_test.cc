// File: tests/unit/engine/server/loop_test.cc
//
// The shard loop as a state machine, driven through FakeRing (completions by hand) and
// FakeClock: the paths a real kernel produces only under load (a multishot's last completion
// without F_MORE, a full submission queue, stale generations, ENOBUFS), deterministically.
#include "engine/server/loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "engine/config/compile.h"
#include "engine/ws/frame.h"
#include "engine/ws/handshake.h"
#include "tests/support/fake_ring.h"
#include "tests/support/loopback_resolver.h"

namespace wsgate::engine::server {
namespace {

using testing::FakeClock;
using testing::FakeRing;
using Kind = FakeRing::Kind;

constexpr char kUpgrade[] =
    "GET /echo/1.0.0/notifications HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

std::string ClientFrame(uint8_t opcode, std::string_view payload) {
  const uint8_t mask[4] = {1, 2, 3, 4};
  return ws::EncodeFrame(opcode, payload, mask);
}

// The payload of one whole frame, unmasked.
std::string Payload(const std::string& frame) {
  ws::FrameHeader h;
  int n = ws::ParseFrameHeader(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), &h);
  if (n <= 0) return "";
  std::string payload = frame.substr(static_cast<size_t>(n), h.payload_length);
  if (h.masked) ws::ApplyMask(reinterpret_cast<uint8_t*>(payload.data()), payload.size(), h.mask);
  return payload;
}

class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Snapshot s;
    s.set_version(1);
    s.set_agent_id("test");
    s.add_vhosts()->set_name("localhost");
    auto* api = s.add_apis();
    api->set_id("api-echo");
    api->set_name("Echo");
    api->set_context("/echo");
    api->set_version("1.0.0");
    api->set_state(v1::PUBLISHED);
    api->add_vhosts("localhost");
    api->mutable_production_endpoint()->set_url("ws://backend.test:9000");
    auto* topic = api->add_topics();
    topic->set_name("/notifications");
    topic->set_url_mapping("/notifications");
    topic->set_unsecured(true);
    auto compiled = config::Compile(s, testing::ResolveToLoopback);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    snapshot_ = *compiled;
    options_.throttle = &registry_;
    options_.max_connections = 100;
    loop_ = std::make_unique<Loop>(options_, LoopFds{/*listen=*/1000, -1, -1}, ring_, clock_);
    ASSERT_TRUE(loop_->Init(snapshot_).ok());
    ASSERT_EQ(ring_.Count(Kind::kAccept), 1u);
  }
  void TearDown() override {
    loop_.reset();
    for (int fd : peers_) ::close(fd);
  }

  void Run() { loop_->RunOnce(0); }
  // The kernel answers every cancel the loop asked for (ENOENT: the target already ended).
  void CompleteCancels() {
    for (; cancels_done_ < ring_.ops.size(); ++cancels_done_)
      if (ring_.ops[cancels_done_].kind == Kind::kCancel) ring_.Push(FakeRing::Done(ring_.ops[cancels_done_].tag, -ENOENT));
    Run();
  }

  struct Pair {
    io::Tag client_recv, backend_recv;
    int client_peer = -1;  // the test's end of the client socket
  };

  // A client accepted on a socketpair; returns its recv tag.
  io::Tag Accept(Pair* p) {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    peers_.push_back(sv[0]);
    p->client_peer = sv[0];
    ring_.Push(FakeRing::Done(io::Tag{kOpAccept, 0, 0}, sv[1], /*more=*/true));
    Run();
    auto recv = ring_.Last(Kind::kRecv, kOpRecvClient);
    EXPECT_TRUE(recv && recv->fd == sv[1]);
    return recv ? recv->tag : io::Tag{};
  }

  // Completes the send in flight toward `op`'s side, returning its bytes.
  std::string CompleteSend(uint8_t op) {
    auto send = ring_.Last(Kind::kSendmsg, op);
    EXPECT_TRUE(send.has_value());
    if (!send) return "";
    std::string bytes = FakeRing::Bytes(*send);
    ring_.Push(FakeRing::Done(send->tag, static_cast<int>(bytes.size())));
    Run();
    return bytes;
  }

  // Accept → request → connect → the backend's 101 → our 101: a relaying pair.
  Pair Relay() {
    Pair p;
    p.client_recv = Accept(&p);
    ring_.Push(ring_.Recv(p.client_recv, kUpgrade, /*more=*/true));
    Run();
    auto connect = ring_.Last(Kind::kConnect);
    EXPECT_TRUE(connect.has_value());
    if (!connect) return p;
    ring_.Push(FakeRing::Done(connect->tag, 0));
    Run();
    std::string request = CompleteSend(kOpSendBackend);
    EXPECT_EQ(request.rfind("GET /notifications HTTP/1.1\r\n", 0), 0u) << request;
    size_t k = request.find("Sec-WebSocket-Key: ");
    std::string key = request.substr(k + 19, request.find("\r\n", k) - k - 19);
    p.backend_recv = ring_.Last(Kind::kRecv, kOpRecvBackend)->tag;
    ring_.Push(ring_.Recv(p.backend_recv,
                          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: " + ws::AcceptKey(key) + "\r\n\r\n",
                          true));
    Run();
    std::string ours = CompleteSend(kOpSendClient);
    EXPECT_EQ(ours.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << ours;
    return p;
  }

  FakeRing ring_{256};
  FakeClock clock_;
  throttle::Registry registry_;
  ShardOptions options_;
  std::shared_ptr<const config::Snapshot> snapshot_;
  std::unique_ptr<Loop> loop_;
  std::vector<int> peers_;
  size_t cancels_done_ = 0;
};

TEST_F(LoopTest, RelaysBothWaysAndClosesCleanly) {
  Pair p = Relay();
  ASSERT_EQ(loop_->live_connections(), 1u);
  ring_.Push(ring_.Recv(p.client_recv, ClientFrame(ws::kText, "hello"), true));
  Run();
  EXPECT_EQ(CompleteSend(kOpSendBackend), ClientFrame(ws::kText, "hello"));  // forwarded unchanged, mask and all
  ring_.Push(ring_.Recv(p.backend_recv, ws::EncodeFrame(ws::kText, "hi"), true));
  Run();
  EXPECT_EQ(CompleteSend(kOpSendClient), ws::EncodeFrame(ws::kText, "hi"));
  EXPECT_EQ(loop_->stats().client_to_backend.frames, 1u);
  EXPECT_EQ(loop_->stats().backend_to_client.frames, 1u);
}

// The safety-defects issue's double free: a multishot recv's last completion (no F_MORE, as on
// a completion-queue overflow) carries the client's close after the backend is already gone.
// Before the lifetime rule the slot was freed two or three times mid-stack and later accepts
// shared one Conn; now it is freed once, at the end of the completion.
TEST_F(LoopTest, CloseInALastRecvCompletionAfterTheBackendIsGoneFreesTheSlotOnce) {
  Pair p = Relay();
  ring_.Push(FakeRing::Done(p.backend_recv, 0));  // the backend's EOF
  Run();
  std::string close = CompleteSend(kOpSendClient);
  ASSERT_GE(close.size(), 4u);
  EXPECT_EQ(static_cast<uint8_t>(close[0]), 0x88);
  EXPECT_EQ(ws::ParseClosePayload(Payload(close)).code, 1011);
  EXPECT_EQ(loop_->live_connections(), 1u);  // waiting for the client's answer

  size_t recvs_before = ring_.Count(Kind::kRecv, kOpRecvClient);
  ring_.Push(ring_.Recv(p.client_recv, ClientFrame(ws::kClose, ws::ClosePayload(1011, "")), /*more=*/false));
  Run();
  EXPECT_EQ(loop_->live_connections(), 0u);
  EXPECT_EQ(loop_->stats().open_sockets, 0u);
  EXPECT_EQ(loop_->stats().active_connections, 0u);
  EXPECT_EQ(ring_.Count(Kind::kRecv, kOpRecvClient), recvs_before) << "a recv was re-armed on a closed connection";
  EXPECT_EQ(ring_.buffers_out(), 0u);

  // Later clients each get their own connection, and both relay.
  Pair a = Relay();
  Pair b = Relay();
  EXPECT_EQ(loop_->live_connections(), 2u);
  EXPECT_NE(a.client_recv.slot, b.client_recv.slot);
  ring_.Push(ring_.Recv(b.client_recv, ClientFrame(ws::kText, "b"), true));
  Run();
  EXPECT_EQ(CompleteSend(kOpSendBackend), ClientFrame(ws::kText, "b"));
}

TEST_F(LoopTest, AStaleCompletionIsIgnoredAndItsBufferGoesBack) {
  Pair p = Relay();
  ring_.Push(FakeRing::Done(p.backend_recv, 0));
  Run();
  CompleteSend(kOpSendClient);
  ring_.Push(ring_.Recv(p.client_recv, ClientFrame(ws::kClose, ""), false));
  Run();
  ASSERT_EQ(loop_->live_connections(), 0u);
  Pair next = Relay();  // reuses the slot with a new generation
  ASSERT_EQ(next.client_recv.slot, p.client_recv.slot);
  ASSERT_NE(next.client_recv.generation, p.client_recv.generation);
  uint64_t recycled = ring_.recycled;
  ring_.Push(ring_.Recv(p.client_recv, ClientFrame(ws::kText, "ghost"), true));  // the old generation
  Run();
  EXPECT_EQ(loop_->stats().stale_completions, 1u);
  EXPECT_EQ(ring_.recycled, recycled + 1);
  EXPECT_EQ(ring_.Count(Kind::kSendmsg, kOpSendBackend), 2u) << "the ghost frame reached a backend";
}

TEST_F(LoopTest, AFullSubmissionQueueFailsTheConnectionAndLosesNothing) {
  Pair p;
  io::Tag recv = Accept(&p);
  ring_.Push(ring_.Recv(recv, kUpgrade, true));
  ring_.refuse = 1;  // the connect cannot be queued
  Run();
  EXPECT_EQ(loop_->stats().ops_not_queued, 1u);
  std::string answer = CompleteSend(kOpSendClient);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << answer;
  // The client recv is still armed: the shutdown ends it, then the slot is free.
  ring_.Push(FakeRing::Done(recv, 0));
  Run();
  CompleteCancels();  // of the connect that never started
  EXPECT_EQ(loop_->live_connections(), 0u);
  EXPECT_EQ(loop_->stats().open_sockets, 0u);

  // A send that cannot be queued in the relay fails that side: the backend gets a close.
  Pair q = Relay();
  ring_.Push(ring_.Recv(q.backend_recv, ws::EncodeFrame(ws::kText, "x"), true));
  ring_.refuse = 1;
  Run();
  EXPECT_EQ(loop_->stats().ops_not_queued, 2u);
  std::string close = CompleteSend(kOpSendBackend);
  ASSERT_GE(close.size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>(close[0]), 0x88);
}

TEST_F(LoopTest, ARecvThatCannotBeReArmedLosesThatSideCleanly) {
  Pair p = Relay();
  // The backend's multishot ends with data (as on a completion-queue overflow): an unsolicited
  // pong, which needs no answer, so re-arming the recv is the only op — and the submission
  // queue stays full.
  ring_.refuse = 1;
  ring_.Push(ring_.Recv(p.backend_recv, ws::EncodeFrame(ws::kPong, "late"), /*more=*/false));
  Run();
  EXPECT_EQ(loop_->stats().ops_not_queued, 1u);
  std::string close = CompleteSend(kOpSendClient);  // the client is told: 1011
  EXPECT_EQ(ws::ParseClosePayload(Payload(close)).code, 1011);
  ring_.Push(ring_.Recv(p.client_recv, ClientFrame(ws::kClose, ws::ClosePayload(1011, "")), false));
  Run();
  EXPECT_EQ(loop_->live_connections(), 0u);
  EXPECT_EQ(ring_.buffers_out(), 0u);
}

// A client that does not read: past queue_bytes (1 MiB) toward it, the backend's recv is
// cancelled; once the queue drains below half, it is armed again. Nothing is lost.
TEST_F(LoopTest, BackpressurePausesTheBackendAndResumesIt) {
  Pair p = Relay();
  const std::string frame = ws::EncodeFrame(ws::kBinary, std::string(16000, 'b'));
  size_t backend_recvs = ring_.Count(Kind::kRecv, kOpRecvBackend);
  int pushed = 0;
  while (!ring_.Last(Kind::kCancel) && pushed < 100) {
    ring_.Push(ring_.Recv(p.backend_recv, frame, true));
    Run();
    ++pushed;
  }
  auto cancel = ring_.Last(Kind::kCancel);
  ASSERT_TRUE(cancel) << "no pause after " << pushed << " frames";
  EXPECT_EQ(cancel->target.op, kOpRecvBackend);
  EXPECT_GT(static_cast<size_t>(pushed) * frame.size(), size_t{1} << 20);
  // The kernel ends the recv and answers the cancel.
  ring_.Push(FakeRing::Done(p.backend_recv, -ECANCELED));
  ring_.Push(FakeRing::Done(cancel->tag, 0));
  Run();
  EXPECT_EQ(ring_.Count(Kind::kRecv, kOpRecvBackend), backend_recvs) << "re-armed while paused";
  // The client reads: every byte arrives in order, and the backend is read again.
  std::string delivered;
  for (int i = 0; i < 200 && ring_.Count(Kind::kRecv, kOpRecvBackend) == backend_recvs; ++i)
    delivered += CompleteSend(kOpSendClient);
  EXPECT_EQ(ring_.Count(Kind::kRecv, kOpRecvBackend), backend_recvs + 1);
  for (int i = 0; i < 200 && delivered.size() < static_cast<size_t>(pushed) * frame.size(); ++i)
    delivered += CompleteSend(kOpSendClient);
  ASSERT_EQ(delivered.size(), static_cast<size_t>(pushed) * frame.size());
  for (int i = 0; i < pushed; ++i) ASSERT_EQ(delivered.compare(static_cast<size_t>(i) * frame.size(), frame.size(), frame), 0) << i;
  EXPECT_EQ(ring_.buffers_out(), 0u);
}

TEST_F(LoopTest, ENOBUFSResumesTheRecvOnceBuffersAreBack) {
  Pair p = Relay();
  size_t recvs = ring_.Count(Kind::kRecv, kOpRecvClient);
  ring_.Push(FakeRing::Done(p.client_recv, -ENOBUFS));
  Run();
  EXPECT_EQ(loop_->stats().buffer_starvations, 1u);
  EXPECT_EQ(ring_.Count(Kind::kRecv, kOpRecvClient), recvs + 1);  // buffers were plentiful: re-armed at once
}

// A client that pings without reading gets one pong pending at most: the latest.
TEST_F(LoopTest, PingsAreAnsweredByOnePendingPongWithTheLatestPayload) {
  Pair p = Relay();
  ring_.Push(ring_.Recv(p.client_recv, ClientFrame(ws::kPing, "1"), true));
  Run();
  auto first = ring_.Last(Kind::kSendmsg, kOpSendClient);  // in flight: the client reads nothing
  ASSERT_TRUE(first);
  EXPECT_EQ(FakeRing::Bytes(*first), ws::EncodeFrame(ws::kPong, "1"));
  std::string many;
  for (int i = 2; i <= 50; ++i) many += ClientFrame(ws::kPing, std::to_string(i));
  ring_.Push(ring_.Recv(p.client_recv, many, true));
  Run();
  // When the send in flight completes, one pong follows: ping 50's (pings 2..49 folded into it).
  ring_.Push(FakeRing::Done(first->tag, static_cast<int>(FakeRing::Bytes(*first).size())));
  Run();
  EXPECT_EQ(CompleteSend(kOpSendClient), ws::EncodeFrame(ws::kPong, "50"));
  EXPECT_EQ(loop_->stats().pongs_coalesced, 48u);
  EXPECT_EQ(ring_.Count(Kind::kSendmsg, kOpSendClient), 3u);  // our 101, pong 1, pong 50
}

TEST_F(LoopTest, APingFloodIsClosedWith1008) {
  Pair p = Relay();
  std::string flood;
  for (int i = 0; i < 101; ++i) flood += ClientFrame(ws::kPing, "");
  ring_.Push(ring_.Recv(p.client_recv, flood, true));
  Run();
  std::string out = CompleteSend(kOpSendClient);
  // The pong for the pings before the limit, then the close.
  size_t close_at = out.find('\x88');
  ASSERT_NE(close_at, std::string::npos);
  EXPECT_EQ(ws::ParseClosePayload(Payload(out.substr(close_at))).code, 1008);
  EXPECT_EQ(loop_->stats().ping_flood_closes, 1u);
}

TEST_F(LoopTest, FramesAfterTheClientsCloseInTheSameReadAreNotRelayed) {
  Pair p = Relay();
  ring_.Push(ring_.Recv(p.client_recv, ClientFrame(ws::kClose, ws::ClosePayload(1000, "")) + ClientFrame(ws::kText, "late"), true));
  Run();
  std::string to_backend = CompleteSend(kOpSendBackend);
  EXPECT_EQ(static_cast<uint8_t>(to_backend[0]), 0x88);
  EXPECT_EQ(to_backend.find("late"), std::string::npos);
  EXPECT_EQ(loop_->stats().client_to_backend.frames, 0u);
}

TEST_F(LoopTest, TimersFireOnTheInjectedClock) {
  Pair p;
  io::Tag recv = Accept(&p);
  ring_.Push(ring_.Recv(recv, "GET /echo/1.0.0/notif", true));  // an incomplete request
  Run();
  clock_.Advance(9'900);
  Run();
  EXPECT_EQ(ring_.Count(Kind::kSendmsg, kOpSendClient), 0u);
  clock_.Advance(200);  // past the 10 s handshake timeout
  Run();
  std::string answer = CompleteSend(kOpSendClient);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << answer;
}

TEST_F(LoopTest, IdleClientsArePingedThenClosedOnPongTimeout) {
  Relay();
  clock_.Advance(30'100);  // ping_interval_ms
  Run();
  EXPECT_EQ(CompleteSend(kOpSendClient), ws::EncodeFrame(ws::kPing, "wsgate"));
  clock_.Advance(30'100);  // pong_timeout_ms
  Run();
  EXPECT_EQ(loop_->stats().pong_timeouts, 1u);
  std::string close = CompleteSend(kOpSendBackend);
  EXPECT_EQ(ws::ParseClosePayload(Payload(close)).code, 1001);
}

}  // namespace
}  // namespace wsgate::engine::server
