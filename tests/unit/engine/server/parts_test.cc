// File: tests/unit/engine/server/parts_test.cc
//
// The shard's building blocks on their own: the timer wheel, the connection table, the send
// queue.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/server/conn_table.h"
#include "engine/server/segment_queue.h"
#include "engine/server/timer_wheel.h"

namespace wsgate::engine::server {
namespace {

TEST(TimerWheel, FiresWhatIsDueInOrderAndNothingEarly) {
  TimerWheel wheel(100, 8, 0);
  TimerNode a, b, c;
  a.owner = 1;
  b.owner = 2;
  c.owner = 3;
  wheel.Schedule(a, 250);
  wheel.Schedule(b, 120);
  wheel.Schedule(c, 5000);  // past one revolution (800 ms): waits for its round
  std::vector<uint32_t> fired;
  auto record = [&](TimerNode& n) { fired.push_back(n.owner); };
  wheel.Advance(99, record);
  EXPECT_TRUE(fired.empty());
  wheel.Advance(199, record);  // b is due, but its tick has not passed yet: at most 100 ms late
  EXPECT_TRUE(fired.empty());
  wheel.Advance(200, record);
  EXPECT_EQ(fired, std::vector<uint32_t>({2}));
  wheel.Advance(1000, record);
  EXPECT_EQ(fired, std::vector<uint32_t>({2, 1}));
  EXPECT_FALSE(a.linked());
  EXPECT_TRUE(c.linked());
  wheel.Advance(4999, record);
  EXPECT_EQ(fired.size(), 2u);
  wheel.Advance(5100, record);
  EXPECT_EQ(fired, std::vector<uint32_t>({2, 1, 3}));
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, RescheduleCancelAndPastDeadlines) {
  TimerWheel wheel(100, 1024, 10'000);
  TimerNode n;
  int fired = 0;
  auto count = [&](TimerNode&) { ++fired; };
  wheel.Schedule(n, 9'000);  // already past: fires at the next advance, never in a passed slot
  wheel.Advance(10'100, count);
  EXPECT_EQ(fired, 1);
  wheel.Schedule(n, 20'000);
  wheel.ScheduleNoLater(n, 30'000);  // later: ignored
  EXPECT_EQ(n.due_ms(), 20'000);
  wheel.ScheduleNoLater(n, 15'000);  // sooner: moved
  EXPECT_EQ(n.due_ms(), 15'000);
  wheel.Cancel(n);
  wheel.Advance(40'000, count);
  EXPECT_EQ(fired, 1);
  // A callback may schedule its own node again; it fires on a later advance, not this one.
  wheel.Schedule(n, 40'050);
  wheel.Advance(40'100, [&](TimerNode& t) {
    ++fired;
    wheel.Schedule(t, 40'100);
  });
  EXPECT_EQ(fired, 2);
  wheel.Advance(40'200, count);
  EXPECT_EQ(fired, 3);
}

// An advance can land in a timer's tick before the timer is due (completions arrive at any
// time): the timer must fire at the next advance past its deadline, not a revolution later
// (1024 x 100 ms: a pong timeout of 300 ms that took 102 s).
TEST(TimerWheel, ATimerFiresOnceItsTickHasPassedWhateverTheAdvancesInBetween) {
  TimerWheel wheel(100, 1024, 1'000);
  TimerNode n;
  int fired = 0;
  auto count = [&](TimerNode&) { ++fired; };
  wheel.Schedule(n, 1'550);
  wheel.Advance(1'520, count);  // in its tick, before it is due
  EXPECT_EQ(fired, 0);
  wheel.Advance(1'560, count);  // due, but its tick has not passed: costs nothing yet
  EXPECT_EQ(fired, 0);
  wheel.Advance(1'600, count);  // the tick has passed: fired, 50 ms late (at most 100)
  EXPECT_EQ(fired, 1);
  // An advance inside a tick the wheel already handled must not skip that tick's later timers
  // (the bug the TSan pass found: a 300 ms pong timeout that fired a revolution, 102 s, late).
  wheel.Schedule(n, 1'750);
  wheel.Advance(1'710, count);
  wheel.Advance(1'790, count);
  EXPECT_EQ(fired, 1);
  wheel.Advance(1'800, count);
  EXPECT_EQ(fired, 2);
  // A timer due in the tick the wheel was made in.
  TimerWheel fresh(100, 1024, 2'000);
  fresh.Schedule(n, 2'050);
  fresh.Advance(2'099, count);
  EXPECT_EQ(fired, 2);
  fresh.Advance(2'100, count);
  EXPECT_EQ(fired, 3);
}

TEST(TimerWheel, AdvanceCostsTheSlotsPassedNotTheTimersWaiting) {
  TimerWheel wheel(100, 1024, 0);
  std::vector<TimerNode> nodes(10000);
  for (auto& n : nodes) wheel.Schedule(n, 60'000);
  int fired = 0;
  for (int64_t t = 100; t < 60'000; t += 100) wheel.Advance(t, [&](TimerNode&) { ++fired; });
  EXPECT_EQ(fired, 0);
  wheel.Advance(60'100, [&](TimerNode&) { ++fired; });
  EXPECT_EQ(fired, 10000);
}

TEST(ConnTable, GenerationsMakeOldTagsStale) {
  ConnTable table;
  Conn* c = table.Allocate(10);
  ASSERT_NE(c, nullptr);
  c->phase = Phase::kRequest;
  io::Tag tag{1, c->generation, c->slot};
  EXPECT_EQ(table.Lookup(tag), c);
  c->phase = Phase::kFree;
  table.Release(*c);
  EXPECT_EQ(table.Lookup(tag), nullptr);
  Conn* again = table.Allocate(10);
  EXPECT_EQ(again, c);  // the slot is reused...
  again->phase = Phase::kRequest;
  EXPECT_EQ(table.Lookup(tag), nullptr);  // ...but the old tag no longer reaches it
  EXPECT_EQ(table.Lookup(io::Tag{1, again->generation, again->slot}), again);
  EXPECT_EQ(table.live(), 1u);
}

TEST(ConnTable, RefusesPastTheLimit) {
  ConnTable table;
  ASSERT_NE(table.Allocate(2), nullptr);
  ASSERT_NE(table.Allocate(2), nullptr);
  EXPECT_EQ(table.Allocate(2), nullptr);
}

TEST(ConnTableDeathTest, ASlotReleasedTwiceStopsTheProcess) {
  ConnTable table;
  Conn* c = table.Allocate(10);
  table.Release(*c);
  EXPECT_DEATH(table.Release(*c), "released twice");
}

TEST(ConnTableDeathTest, ALiveConnectionCannotBeReleased) {
  ConnTable table;
  Conn* c = table.Allocate(10);
  c->phase = Phase::kRelay;
  EXPECT_DEATH(table.Release(*c), "still live");
}

// A send in flight points at the bytes of the queue's first segments; growing the queue moves
// the segments, so heap-held bytes must stay where they were (the shard copies small ones).
TEST(SegmentQueue, GrowingKeepsOrderAndHeapBytesInPlace) {
  SegmentQueue<std::string> q;
  q.push_back(std::string(100, 'a'));
  const char* first = q.front().data();
  for (int i = 0; i < 1000; ++i) q.push_back(std::to_string(i));
  EXPECT_EQ(q.front().data(), first);
  EXPECT_EQ(q.size(), 1001u);
  q.pop_front();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(q.front(), std::to_string(i));
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
  q.push_back("x");
  q.push_back("y");
  q.pop_back();
  EXPECT_EQ(q.back(), "x");
}

}  // namespace
}  // namespace wsgate::engine::server
