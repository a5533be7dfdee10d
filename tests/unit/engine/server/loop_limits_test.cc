// File: tests/unit/engine/server/loop_limits_test.cc
//
// The shard loop's bounds and timers, through FakeRing and FakeClock: backpressure by bytes and by
// buffers held, handshake and keepalive deadlines, pings
// and ping floods, engine frames in order, buffer refcounts, ENOBUFS on a small ring, tiny
// frames and tiny TLS records.
#include "tests/unit/engine/server/loop_fixture.h"

namespace wsgate::engine::server {
namespace {

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
  EXPECT_GE(pushed, 60);  // about queue_bytes (1 MiB) of 16 KiB buffers
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


// Found on review (it failed before the fix): the ping-flood close marks the client close_seen from inside Scan(); the scanner
// keeps going over the rest of the same read, so data frames after the 101st ping still reach
// the backend -- after the 1001 close frame the engine just queued toward it.
TEST_F(LoopTest, NothingFromAPingFlooderReachesTheBackendAfterItsClose) {
  Pair p = Relay();
  std::string flood;
  for (int i = 0; i < 101; ++i) flood += ClientFrame(ws::kPing, "");
  flood += ClientFrame(ws::kText, "after-the-flood");
  ring_.Push(ring_.Recv(p.client_recv, flood, true));
  Run();
  const size_t sends = ring_.Count(Kind::kSendmsg, kOpSendBackend);
  std::string to_backend = CompleteSend(kOpSendBackend);
  // Whatever was queued behind the first send, if a second one started (else the first one's
  // buffers are freed already: it must not be read again).
  if (ring_.Count(Kind::kSendmsg, kOpSendBackend) > sends) to_backend += CompleteSend(kOpSendBackend);
  size_t close_at = to_backend.find('\x88');
  ASSERT_NE(close_at, std::string::npos);
  size_t text_at = to_backend.find(ClientFrame(ws::kText, "after-the-flood"));
  EXPECT_EQ(text_at, std::string::npos) << "a data frame reached the backend after our close frame (close at "
                                        << close_at << ", text at " << text_at << ")";
  EXPECT_EQ(loop_->stats().client_to_backend.frames, 0u);
}

// One client that does not read must not pin every receive buffer of the shard: each small
// backend message holds a whole 16 KiB ring buffer, so backpressure weighs a queue by the
// buffers it pins as well as by its bytes (3 per message here), and pauses the backend once
// they pass queue_bytes (64 buffers), not when the shard has run dry.
TEST_F(LoopTest, TinyMessagesToAClientThatDoesNotReadPauseTheBackendByBuffersHeld) {
  Pair p = Relay();
  ring_.Push(ring_.Recv(p.backend_recv, ws::EncodeFrame(ws::kText, "x"), true));
  Run();  // a send to the client is now in flight and never completes (the client does not read)
  size_t cancels = ring_.Count(Kind::kCancel);
  int pushed = 0;
  while (ring_.Count(Kind::kCancel) == cancels && pushed < 250) {
    ring_.Push(ring_.Recv(p.backend_recv, ws::EncodeFrame(ws::kText, "y"), true));
    Run();
    ++pushed;
  }
  EXPECT_GT(ring_.Count(Kind::kCancel), cancels) << "the backend was never paused";
  EXPECT_LE(pushed, 70) << "paused only after " << pushed << " buffers were pinned by " << pushed * 3 << " bytes";
}

// Found on review (it failed before the fix): BufferPool::refs_ is uint16_t. With --buffer-size above 128 KiB a single recv can
// hold more than 65535 forwarded ranges (2-byte empty frames from the backend): the count wraps
// and the buffer is recycled to the kernel while queued segments still point into it.
struct BigBuffers {
  BigBuffers() { g_ring_buffers = 8; g_ring_buffer_size = 1u << 20; }
  ~BigBuffers() { g_ring_buffers = 256; g_ring_buffer_size = 16384; }
};
class BigBufferLoopTest : public BigBuffers, public LoopTest {};

TEST_F(BigBufferLoopTest, AMiBBufferOfTinyFramesKeepsItsReferenceCount) {
  Pair p = Relay();
  ASSERT_EQ(ring_.buffers_out(), 0u);
  std::string frames;
  for (size_t i = 0; i < (1u << 20) / 2; ++i) frames += std::string("\x81\x00", 2);
  ring_.Push(ring_.Recv(p.backend_recv, frames, true));
  Run();
  auto send = ring_.Last(Kind::kSendmsg, kOpSendClient);  // in flight, points into the buffer
  ASSERT_TRUE(send);
  EXPECT_EQ(ring_.buffers_out(), 1u) << "the recv buffer went back to the kernel with "
                                     << (1u << 19) << " segments still queued on it";
  // The kernel reuses it for the next recv (here: another backend message) ...
  ring_.Push(ring_.Recv(p.backend_recv, std::string(64, 'E'), true));
  // ... and the bytes the client gets are not the ones the backend sent.
  std::string first = FakeRing::Bytes(*send);
  EXPECT_EQ(first.substr(0, 4), std::string("\x81\x00\x81\x00", 4)) << "client would be sent: " << first.substr(0, 8);
}


// Found on review (it failed before the fix): a backend paused by backpressure stays paused when the client it was paused for is
// lost: its recv is never armed again, so its close reply cannot be read and the connection
// lingers to the close timeout.
TEST_F(LoopTest, APausedBackendIsResumedWhenItsClientIsLost) {
  Pair p = Relay();
  std::string big = ws::EncodeFrame(ws::kText, std::string(16000, 'a'));
  ring_.Push(ring_.Recv(p.backend_recv, big, true));
  Run();
  auto stuck = ring_.Last(Kind::kSendmsg, kOpSendClient);  // never completes: the client does not read
  ASSERT_TRUE(stuck);
  for (int i = 0; i < 70 && ring_.Count(Kind::kCancel) == 0; ++i) {
    ring_.Push(ring_.Recv(p.backend_recv, big, true));
    Run();
  }
  ASSERT_GT(ring_.Count(Kind::kCancel), 0u) << "never paused";
  CompleteCancels();
  ring_.Push(FakeRing::Done(p.backend_recv, -ECANCELED));  // the pause landed
  Run();
  size_t backend_recvs = ring_.Count(Kind::kRecv, kOpRecvBackend);
  ring_.Push(FakeRing::Done(stuck->tag, -ECONNRESET));  // the client is gone
  Run();
  std::string close = CompleteSend(kOpSendBackend);
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(static_cast<uint8_t>(close[0]), 0x88);
  EXPECT_GT(ring_.Count(Kind::kRecv, kOpRecvBackend), backend_recvs)
      << "the backend's recv is still cancelled: its close reply is never read";
  // The backend's close reply is read, and the connection ends at once, not at the close timeout.
  ring_.Push(ring_.Recv(ring_.Last(Kind::kRecv, kOpRecvBackend)->tag, ws::EncodeFrame(ws::kClose, ws::ClosePayload(1001, "")), true));
  Run();
  EXPECT_EQ(loop_->stats().active_connections, 0u) << "not shut down after both sides were done";
  CompleteCancels();  // the kernel ends both recvs the shutdown cancelled
  ring_.Push(FakeRing::Done(p.client_recv, -ECANCELED));
  ring_.Push(FakeRing::Done(ring_.Last(Kind::kRecv, kOpRecvBackend)->tag, -ECANCELED));
  Run();
  EXPECT_EQ(loop_->live_connections(), 0u);
}

// Found on review (it failed before the fix): with --buffers 64 (the CLI allows 16..32768) ResumeStarved never runs: its guard
// is buffers_out() + 64 >= buffer_count(), always true, so one ENOBUFS ends a recv for good.
struct SmallRing {
  SmallRing() { g_ring_buffers = 64; }
  ~SmallRing() { g_ring_buffers = 256; }
};
class SmallRingLoopTest : public SmallRing, public LoopTest {};
TEST_F(SmallRingLoopTest, ENOBUFSResumesWithASmallRing) {
  Pair p = Relay();
  ASSERT_EQ(ring_.buffers_out(), 0u);
  size_t recvs = ring_.Count(Kind::kRecv, kOpRecvClient);
  ring_.Push(FakeRing::Done(p.client_recv, -ENOBUFS));
  Run();
  for (int i = 0; i < 10; ++i) { clock_.Advance(100); Run(); }
  EXPECT_EQ(ring_.Count(Kind::kRecv, kOpRecvClient), recvs + 1) << "all 64 buffers free, recv never re-armed";
}


// Found on review (it failed before the fix): Inject() puts a frame straight into the queue whenever the feeding stream is at a
// boundary, even when older engine frames still wait in `pending`: a keepalive ping that waited
// for the end of a backend frame goes out after the close frame that followed that frame.
TEST_F(LoopTest, EngineFramesKeepTheirOrderBehindPendingOnes) {
  Pair p = Relay();
  std::string frame = ws::EncodeFrame(ws::kText, std::string(1000, 'a'));
  ring_.Push(ring_.Recv(p.backend_recv, frame.substr(0, 500), true));  // half a frame
  Run();
  std::string to_client = CompleteSend(kOpSendClient);
  size_t sends_done = ring_.Count(Kind::kSendmsg, kOpSendClient);
  clock_.Advance(30'100);  // keepalive ping due: waits in `pending` for the frame's end
  Run();
  ring_.Push(ring_.Recv(p.backend_recv, frame.substr(500) + ws::EncodeFrame(ws::kClose, ws::ClosePayload(1000, "")), true));
  Run();
  size_t completed = sends_done;
  while (ring_.Count(Kind::kSendmsg, kOpSendClient) > completed) {  // each new send completed once
    completed = ring_.Count(Kind::kSendmsg, kOpSendClient);
    to_client += CompleteSend(kOpSendClient);
  }
  size_t close_at = to_client.find(ws::EncodeFrame(ws::kClose, ws::ClosePayload(1000, "")));
  size_t ping_at = to_client.find(ws::EncodeFrame(ws::kPing, "wsgate"));
  ASSERT_NE(close_at, std::string::npos);
  ASSERT_NE(ping_at, std::string::npos);
  EXPECT_LT(ping_at, close_at) << "a ping frame after the close frame";
}


// Found on review (it failed before the fix): every forwarded frame is two Segments (header, payload), never merged with the
// previous range of the same buffer: one 16 KiB read of 1-byte client frames becomes ~4.7k
// segments (~225 KB of Segment structs) and ~146 sendmsg round trips toward the backend.
// Found on review: after the engine's own close (drain, expiry, revocation) the backend's data
// still reached the client until the close handshake ended.
TEST_F(LoopTest, NoDataFollowsTheEnginesOwnClose) {
  Pair p = Relay();
  loop_->BeginDrain(5000);
  Run();
  clock_.Advance(2'600);  // the drain spreads its closes over the first half of its window
  Run();
  std::string close = CompleteSend(kOpSendClient);
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(static_cast<uint8_t>(close[0]), 0x88);
  size_t sends = ring_.Count(Kind::kSendmsg, kOpSendClient);
  ring_.Push(ring_.Recv(p.backend_recv, ws::EncodeFrame(ws::kText, "after the close"), true));
  Run();
  EXPECT_EQ(ring_.Count(Kind::kSendmsg, kOpSendClient), sends) << "data went out after our close frame";
}

TEST_F(LoopTest, TinyFramesOfOneReadTravelAsOneSegment) {
  Pair p = Relay();
  std::string tiny;
  while (tiny.size() + 7 <= 16384) tiny += ClientFrame(ws::kBinary, "z");
  ring_.Push(ring_.Recv(p.client_recv, tiny, true));
  Run();
  size_t before = ring_.Count(Kind::kSendmsg, kOpSendBackend);
  size_t sends = 0, bytes = 0;
  while (bytes < tiny.size() && sends < 10000) {
    bytes += CompleteSend(kOpSendBackend).size();
    ++sends;
  }
  EXPECT_LE(sends, 4u) << sends << " sendmsg calls to relay one 16 KiB read of " << tiny.size() / 7 << " frames";
  (void)before;
}


// Found on review (it failed before the fix): a wss client's every TLS record is decrypted into its own 16 KiB pool buffer
// (OnCiphertext: TakePool per SSL_read), pinned by the forwarded segments until the backend
// send drains them; the pool grows without bound and never shrinks. Backpressure counts
// plaintext bytes only. One 16 KiB read of tiny records costs megabytes.
TEST(LoopTls, TinyTlsRecordsShareAPoolBuffer) {
  char tmpl[] = "/tmp/review-tls-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_TRUE(tls::WriteSelfSignedCertificate(dir + "/a.crt", dir + "/a.key", {"localhost"}).ok());
  auto server = tls::ServerTlsContext::Create({{"", dir + "/a.crt", dir + "/a.key"}});
  ASSERT_TRUE(server.ok());
  auto client_ctx = tls::ClientTlsContext::Create(dir + "/a.crt", false);
  ASSERT_TRUE(client_ctx.ok());

  v1::Snapshot s;
  s.set_version(1);
  s.set_agent_id("test");
  s.add_vhosts()->set_name("localhost");
  auto* api = s.add_apis();
  api->set_id("api-echo"); api->set_name("Echo"); api->set_context("/echo"); api->set_version("1.0.0");
  api->set_state(v1::PUBLISHED); api->add_vhosts("localhost");
  api->mutable_production_endpoint()->set_url("ws://backend.test:9000");
  auto* topic = api->add_topics();
  topic->set_name("/notifications"); topic->set_url_mapping("/notifications"); topic->set_unsecured(true);
  auto compiled = config::Compile(s, testing::ResolveToLoopback);
  ASSERT_TRUE(compiled.ok());
  std::shared_ptr<const config::Snapshot> snap = *compiled;
  const_cast<config::Snapshot&>(*snap).server_tls = *server;

  FakeRing ring(256);
  FakeClock clock;
  throttle::Registry registry;
  ShardOptions options;
  options.throttle = &registry;
  Loop loop(options, LoopFds{1000, 1001, -1}, ring, clock);
  ASSERT_TRUE(loop.Init(snap).ok());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ring.Push(FakeRing::Done(io::Tag{kOpAcceptTls, 0, 1}, sv[1], true));
  loop.RunOnce(0);
  io::Tag crecv = ring.Last(Kind::kRecv, kOpRecvClient)->tag;
  tls::TlsSession c((*client_ctx)->NewSsl("localhost"), false);
  c.Connect();
  std::string plain_from_gw;
  size_t client_sends_done = 0;
  auto pump = [&] {
    for (int round = 0; round < 50; ++round) {
      bool any = false;
      std::string out;
      c.TakeOutput(&out);
      for (size_t i = 0; i < out.size(); i += 16384) {
        ring.Push(ring.Recv(crecv, out.substr(i, 16384), true));
        loop.RunOnce(0);
        any = true;
      }
      while (ring.Count(Kind::kSendmsg, kOpSendClient) > client_sends_done) {
        client_sends_done = ring.Count(Kind::kSendmsg, kOpSendClient);
        auto send = ring.Last(Kind::kSendmsg, kOpSendClient);
        std::string bytes = FakeRing::Bytes(*send);
        ring.Push(FakeRing::Done(send->tag, static_cast<int>(bytes.size())));
        loop.RunOnce(0);
        c.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
        uint8_t buf[16384]; size_t n;
        while (c.Read(buf, sizeof(buf), &n) == tls::TlsSession::kData) plain_from_gw.append(reinterpret_cast<char*>(buf), n);
        any = true;
      }
      if (!any) return;
    }
  };
  pump();
  ASSERT_TRUE(c.handshake_done()) << c.error();
  ASSERT_TRUE(c.Write(reinterpret_cast<const uint8_t*>(kUpgrade), strlen(kUpgrade)));
  pump();
  auto connect = ring.Last(Kind::kConnect);
  ASSERT_TRUE(connect);
  ring.Push(FakeRing::Done(connect->tag, 0));
  loop.RunOnce(0);
  auto up = ring.Last(Kind::kSendmsg, kOpSendBackend);
  std::string request = FakeRing::Bytes(*up);
  ring.Push(FakeRing::Done(up->tag, static_cast<int>(request.size())));
  loop.RunOnce(0);
  size_t k = request.find("Sec-WebSocket-Key: ");
  std::string key = request.substr(k + 19, request.find("\r\n", k) - k - 19);
  io::Tag brecv = ring.Last(Kind::kRecv, kOpRecvBackend)->tag;
  ring.Push(ring.Recv(brecv, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: " + ws::AcceptKey(key) + "\r\n\r\n", true));
  loop.RunOnce(0);
  pump();
  ASSERT_EQ(plain_from_gw.rfind("HTTP/1.1 101", 0), 0u) << plain_from_gw;

  // The relay: one client read of ~16 KiB holding one tiny frame per TLS record.
  std::string wire;
  size_t frames = 0;
  while (wire.size() < 16000) {
    std::string f = ClientFrame(ws::kBinary, "z");
    ASSERT_TRUE(c.Write(reinterpret_cast<const uint8_t*>(f.data()), f.size()));
    c.TakeOutput(&wire);
    ++frames;
  }
  size_t heap_before = mallinfo2().uordblks;
  ring.Push(ring.Recv(crecv, wire.substr(0, 16384), true));
  loop.RunOnce(0);
  size_t grown = mallinfo2().uordblks - heap_before;
  EXPECT_LT(grown, size_t{1} << 20) << "one 16 KiB read of " << frames << " records grew the heap by "
                                     << grown / 1024 << " KiB";
  ::close(sv[0]);
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

}  // namespace
}  // namespace wsgate::engine::server
