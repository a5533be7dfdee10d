// File: tests/unit/engine/server/loop_fixture.h
//
// The fixture the shard-loop unit tests share: a Loop over FakeRing and FakeClock, one Echo API
// on an unsecured topic, and helpers that drive a connection to the relay by hand
// (Accept → request → connect → the backend's 101 → our 101) and complete its sends.
#pragma once

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
#include "engine/tls/tls.h"
#include <malloc.h>

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

unsigned g_ring_buffers = 256;
unsigned g_ring_buffer_size = 16384;

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
    options_.max_connections = 1000;  // the idle-memory test holds 256
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
    EXPECT_TRUE(recv && (recv->fixed || recv->fd == sv[1]));  // a fixed-file index with direct descriptors
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

  FakeRing ring_{g_ring_buffers, g_ring_buffer_size};
  FakeClock clock_;
  throttle::Registry registry_;
  ShardOptions options_;
  std::shared_ptr<const config::Snapshot> snapshot_;
  std::unique_ptr<Loop> loop_;
  std::vector<int> peers_;
  size_t cancels_done_ = 0;
};

}  // namespace
}  // namespace wsgate::engine::server
