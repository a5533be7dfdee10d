// Direct descriptors (issue 20): the fixed-file index allocator, and the shard loop over a ring
// with a fixed-file table — sockets installed at accept and connect, every op naming the index
// with the fixed flag, shutdown in the ring, and an index given back only when the ring's close
// of it has completed (never reused while an op may still name it). Fallbacks: a full table or
// a refused install keeps the regular descriptor; a close that cannot be queued empties the
// entry at once.
#include "tests/unit/engine/server/loop_fixture.h"

#include <set>

#include "engine/server/fixed_slots.h"

namespace wsgate::engine::server {
namespace {

TEST(FixedSlots, HandsOutEveryIndexOnceThenRefuses) {
  FixedSlots slots(3);
  EXPECT_EQ(slots.capacity(), 3u);
  std::set<int> got;
  for (int i = 0; i < 3; ++i) got.insert(slots.Take());
  EXPECT_EQ(got, (std::set<int>{0, 1, 2}));
  EXPECT_EQ(slots.in_use(), 3u);
  EXPECT_EQ(slots.Take(), -1);
  slots.Release(1);
  EXPECT_EQ(slots.in_use(), 2u);
  EXPECT_EQ(slots.Take(), 1);  // the index given back is the one reused
  EXPECT_EQ(slots.Take(), -1);
}

TEST(FixedSlots, AFreshTableStartsAtIndexZeroAndAnEmptyOneHasNothing) {
  FixedSlots slots(2);
  EXPECT_EQ(slots.Take(), 0);
  EXPECT_EQ(slots.Take(), 1);
  FixedSlots none;
  EXPECT_EQ(none.capacity(), 0u);
  EXPECT_EQ(none.Take(), -1);
  slots.Reset(1);
  EXPECT_EQ(slots.in_use(), 0u);
  EXPECT_EQ(slots.Take(), 0);
}

TEST(FixedSlotsDeathTest, AnIndexReleasedTwiceStopsTheProcess) {
  FixedSlots slots(2);
  int i = slots.Take();
  slots.Release(static_cast<unsigned>(i));
  EXPECT_DEATH(slots.Release(static_cast<unsigned>(i)), "fixed-file index released twice");
  EXPECT_DEATH(slots.Release(7), "outside the table");
}

class DirectLoopTest : public LoopTest {
 protected:
  void SetUp() override {
    ring_.SetFixedFiles(table_size_);
    LoopTest::SetUp();
  }
  // Accepts a client on a socketpair; returns the recv op the loop armed for it.
  FakeRing::Op AcceptRaw(int* accepted_fd = nullptr) {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    peers_.push_back(sv[0]);
    if (accepted_fd != nullptr) *accepted_fd = sv[1];
    ring_.Push(FakeRing::Done(io::Tag{kOpAccept, 0, 0}, sv[1], /*more=*/true));
    Run();
    return *ring_.Last(Kind::kRecv, kOpRecvClient);
  }
  // The client leaves during its request: the recv ends with EOF, the loop shuts the socket
  // down in the ring; the shutdown's completion frees the connection, which closes the entry.
  void ClientLeaves(const FakeRing::Op& recv) {
    size_t shutdowns = ring_.Count(Kind::kShutdown);
    ring_.Push(FakeRing::Done(recv.tag, 0));
    Run();
    ASSERT_EQ(ring_.Count(Kind::kShutdown), shutdowns + 1);
    auto shut = ring_.Last(Kind::kShutdown);
    EXPECT_TRUE(shut->fixed);
    EXPECT_EQ(shut->fd, recv.fd);
    EXPECT_EQ(ring_.Count(Kind::kCloseDirect), closes_);  // nothing closed while the shutdown is in flight
    ring_.Push(FakeRing::Done(shut->tag, 0));
    Run();
    ASSERT_EQ(ring_.Count(Kind::kCloseDirect), ++closes_);
    EXPECT_EQ(ring_.Last(Kind::kCloseDirect)->fd, recv.fd);
  }
  unsigned table_size_ = 4;
  size_t closes_ = 0;
};

TEST_F(DirectLoopTest, ARelayingPairUsesFixedFilesForEveryOp) {
  Pair p = Relay();
  auto client_recv = ring_.Last(Kind::kRecv, kOpRecvClient);
  auto backend_recv = ring_.Last(Kind::kRecv, kOpRecvBackend);
  auto connect = ring_.Last(Kind::kConnect);
  auto to_client = ring_.Last(Kind::kSendmsg, kOpSendClient);
  auto to_backend = ring_.Last(Kind::kSendmsg, kOpSendBackend);
  for (const auto* op : {&client_recv, &backend_recv, &connect, &to_client, &to_backend}) {
    ASSERT_TRUE(op->has_value());
    EXPECT_TRUE((*op)->fixed);
  }
  EXPECT_EQ(client_recv->fd, 0);
  EXPECT_EQ(backend_recv->fd, 1);
  EXPECT_EQ(connect->fd, 1);
  EXPECT_GE(ring_.installed[0], 0);  // the accepted descriptor went into the table...
  EXPECT_GE(ring_.installed[1], 0);  // ... and so did the backend's socket
  EXPECT_EQ(loop_->stats().direct_sockets, 2u);
  // A frame relayed as before.
  ring_.Push(ring_.Recv(p.client_recv, ClientFrame(ws::kText, "hi"), true));
  Run();
  EXPECT_EQ(Payload(CompleteSend(kOpSendBackend)), "hi");
}

TEST_F(DirectLoopTest, AnIndexIsReusedOnlyAfterItsCloseCompleted) {
  FakeRing::Op first = AcceptRaw();
  ASSERT_TRUE(first.fixed);
  ASSERT_EQ(first.fd, 0);
  ClientLeaves(first);
  // Index 0's close is still in flight: the next client gets another index.
  FakeRing::Op second = AcceptRaw();
  EXPECT_TRUE(second.fixed);
  EXPECT_EQ(second.fd, 1);
  ring_.Push(FakeRing::Done(ring_.Last(Kind::kCloseDirect)->tag, 0));
  Run();
  FakeRing::Op third = AcceptRaw();
  EXPECT_TRUE(third.fixed);
  EXPECT_EQ(third.fd, 0);  // given back by the completed close
  EXPECT_EQ(loop_->stats().direct_sockets, 2u);
}

TEST_F(DirectLoopTest, AFullTableKeepsARegularDescriptor) {
  std::vector<FakeRing::Op> direct;
  for (unsigned i = 0; i < table_size_; ++i) direct.push_back(AcceptRaw());
  for (const auto& op : direct) EXPECT_TRUE(op.fixed);
  int fd = -1;
  FakeRing::Op regular = AcceptRaw(&fd);
  EXPECT_FALSE(regular.fixed);
  EXPECT_EQ(regular.fd, fd);
  EXPECT_EQ(loop_->stats().direct_table_full, 1u);
  EXPECT_EQ(loop_->stats().direct_sockets, table_size_);
  // A regular descriptor is shut down and closed as before, outside the ring.
  size_t shutdowns = ring_.Count(Kind::kShutdown);
  ring_.Push(FakeRing::Done(regular.tag, 0));
  Run();
  EXPECT_EQ(ring_.Count(Kind::kShutdown), shutdowns);
  EXPECT_EQ(ring_.Count(Kind::kCloseDirect), 0u);
  EXPECT_EQ(loop_->live_connections(), table_size_);
}

TEST_F(DirectLoopTest, ARefusedInstallKeepsARegularDescriptor) {
  ring_.refuse_install = true;
  int fd = -1;
  FakeRing::Op op = AcceptRaw(&fd);
  EXPECT_FALSE(op.fixed);
  EXPECT_EQ(op.fd, fd);
  EXPECT_EQ(loop_->stats().direct_install_errors, 1u);
  ring_.refuse_install = false;
  EXPECT_TRUE(AcceptRaw().fixed);
  EXPECT_EQ(AcceptRaw().fd, 1);  // the refused install gave its index back
}

TEST_F(DirectLoopTest, ACloseTheQueueCannotTakeEmptiesTheEntryAtOnce) {
  FakeRing::Op first = AcceptRaw();
  ring_.Push(FakeRing::Done(first.tag, 0));
  Run();
  auto shut = ring_.Last(Kind::kShutdown);
  ASSERT_TRUE(shut.has_value());
  ring_.refuse = 1;  // the close_direct the free prepares
  ring_.Push(FakeRing::Done(shut->tag, 0));
  Run();
  EXPECT_EQ(ring_.Count(Kind::kCloseDirect), 0u);
  EXPECT_EQ(ring_.installed[0], -1);
  EXPECT_EQ(loop_->stats().ops_not_queued, 1u);
  EXPECT_EQ(AcceptRaw().fd, 0);  // reusable at once
}

TEST_F(DirectLoopTest, AShutdownTheQueueCannotTakeStillEndsTheConnection) {
  FakeRing::Op first = AcceptRaw();
  ring_.refuse = 1;  // the shutdown
  ring_.Push(FakeRing::Done(first.tag, 0));
  Run();
  EXPECT_EQ(ring_.Count(Kind::kShutdown), 0u);
  // Nothing in flight: freed at once, its entry closed in the ring.
  EXPECT_EQ(loop_->live_connections(), 0u);
  ASSERT_EQ(ring_.Count(Kind::kCloseDirect), 1u);
  ring_.Push(FakeRing::Done(ring_.Last(Kind::kCloseDirect)->tag, 0));
  Run();
  EXPECT_EQ(AcceptRaw().fd, 0);
}

// Issue 20's memory target: the heap an idle relaying connection holds (mallinfo2: in use, and
// mmapped chunks), measured as the growth from 128 to 256
// connections so per-shard fixed costs drop out.
TEST_F(LoopTest, AnIdleRelayingConnectionHoldsAtMostTwoKibOfHeap) {
  constexpr int kHalf = 128;  // a multiple of ConnTable's chunk
  peers_.reserve(4 * kHalf);
  auto relay = [&] {  // what the fake ring records is the test's memory, not the loop's
    Relay();
    ring_.ops.clear();
    ring_.ops.shrink_to_fit();
  };
  for (int i = 0; i < kHalf; ++i) relay();
  auto heap = [] {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
  };
  size_t half = heap();
  for (int i = 0; i < kHalf; ++i) relay();
  size_t per = (heap() - half) / kHalf;
  EXPECT_EQ(loop_->stats().active_connections, 2u * kHalf);
  EXPECT_LE(per, 2048u) << "bytes per idle connection; sizeof(Conn) " << sizeof(Conn);
  std::printf("heap per idle relaying connection: %zu bytes (sizeof(Conn) %zu)\n", per, sizeof(Conn));
}

}  // namespace
}  // namespace wsgate::engine::server
