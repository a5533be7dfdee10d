// File: tests/unit/engine/server/loop_test.cc
//
// The shard loop as a state machine, driven through FakeRing (completions by hand) and
// FakeClock: the paths a real kernel produces only under load (a multishot's last completion
// without F_MORE, a full submission queue, stale generations, ENOBUFS), deterministically.
#include "tests/unit/engine/server/loop_fixture.h"

namespace wsgate::engine::server {
namespace {
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

}  // namespace
}  // namespace wsgate::engine::server
