// Unit tests for engine/throttle: policy compilation, the packed window+count counter, the
// per-connection Limits across levels, and exactness under two threads (shards share counters).
#include "engine/throttle/throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace wsgate::engine::throttle {
namespace {

v1::ThrottlePolicy Proto(uint64_t events, v1::TimeUnit unit, uint32_t unit_count = 1, bool stop = true) {
  v1::ThrottlePolicy p;
  p.set_name("P");
  p.set_events(events);
  p.set_unit(unit);
  p.set_unit_count(unit_count);
  p.set_stop_on_quota_reach(stop);
  return p;
}

TEST(CompilePolicyTest, WindowsAndDefaults) {
  auto gold = CompilePolicy(Proto(50000, v1::DAY));
  ASSERT_TRUE(gold.ok());
  EXPECT_EQ(gold->events, 50000u);
  EXPECT_EQ(gold->window_s, 86400);
  EXPECT_TRUE(gold->stop_on_quota_reach);
  EXPECT_EQ(CompilePolicy(Proto(5, v1::MINUTE, 10))->window_s, 600);
  EXPECT_EQ(CompilePolicy(Proto(5, v1::SECOND, 0))->window_s, 1);  // unit_count 0 means 1
  EXPECT_EQ(CompilePolicy(Proto(5, v1::MONTH))->window_s, 30 * 86400);
  EXPECT_EQ(CompilePolicy(Proto(5, v1::HOUR))->window_s, 3600);
  v1::ThrottlePolicy unlimited;
  unlimited.set_name("AsyncUnlimited");
  unlimited.set_unlimited(true);
  auto u = CompilePolicy(unlimited);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->unlimited);
}

TEST(CompilePolicyTest, ErrorsNameTheField) {
  auto zero = CompilePolicy(Proto(0, v1::DAY));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(), "events: must be > 0 (or set unlimited, or max_connections for a connection-only policy)");
  auto no_unit = CompilePolicy(Proto(10, v1::TIME_UNIT_UNSPECIFIED));
  ASSERT_FALSE(no_unit.ok());
  EXPECT_EQ(no_unit.status().message(), "unit: must be SECOND, MINUTE, HOUR, DAY or MONTH");
  EXPECT_FALSE(CompilePolicy(Proto(uint64_t{1} << 41, v1::DAY)).ok());
  EXPECT_FALSE(CompilePolicy(Proto(1, v1::MONTH, 1000)).ok());
}

TEST(CounterTest, CountsUpToTheLimitThenRefusesUntilTheNextWindow) {
  Counter c;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(c.TryAdd(7, 3)) << i;
  EXPECT_FALSE(c.TryAdd(7, 3));
  EXPECT_EQ(c.Count(7), 3u);
  EXPECT_TRUE(c.TryAdd(8, 3));  // a new window starts from zero
  EXPECT_EQ(c.Count(8), 1u);
  EXPECT_EQ(c.Count(7), 0u);
  EXPECT_FALSE(c.TryAdd(9, 0));  // a zero limit never admits
  c.Add(8);
  EXPECT_EQ(c.Count(8), 2u);
  c.Remove(8);
  EXPECT_EQ(c.Count(8), 1u);
  c.Remove(7);  // a window the counter has left: nothing to take back
  EXPECT_EQ(c.Count(8), 1u);
  c.Remove(8);
  c.Remove(8);  // never below zero
  EXPECT_EQ(c.Count(8), 0u);
}

TEST(CounterTest, WindowNumbersBeyondTwentyFourBitsStillSeparateAdjacentWindows) {
  Counter c;
  const uint64_t w = (uint64_t{1} << 30) + 5;  // SECOND windows today are ~2^31
  EXPECT_TRUE(c.TryAdd(w, 1));
  EXPECT_FALSE(c.TryAdd(w, 1));
  EXPECT_TRUE(c.TryAdd(w + 1, 1));
}

TEST(LimitsTest, UnlimitedPoliciesAreLeftOut) {
  Registry r;
  Limits l;
  Policy unlimited{"AsyncUnlimited", true, 0, 86400, true};
  l.Add(unlimited, r.Get("sub:s1"));
  EXPECT_TRUE(l.empty());
  EXPECT_TRUE(l.Admit(0));
}

TEST(LimitsTest, TheTightestStopPolicyDecidesAndARefusalLeavesNothingCounted) {
  Registry r;
  Policy plan{"Plan", false, 5, 86400, true};
  Policy app{"App", false, 3, 60, true};
  Policy api{"Api", false, 100, 86400, false};  // counts, never stops
  Limits l;
  l.Add(plan, r.Get("sub:s1"));
  l.Add(app, r.Get("app:a1"));
  l.Add(api, r.Get("api:x"));
  EXPECT_EQ(l.size(), 3);
  const int64_t t = 1'700'000'000;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l.Admit(t)) << i;
  EXPECT_FALSE(l.Admit(t));  // the application's 3 per minute
  EXPECT_EQ(r.Get("sub:s1")->Count(t / 86400), 3u);  // the refused event was taken back
  EXPECT_EQ(r.Get("app:a1")->Count(t / 60), 3u);
  EXPECT_EQ(r.Get("api:x")->Count(t / 86400), 3u);
  // A minute later the application window is fresh; the plan has 2 left for the day.
  EXPECT_TRUE(l.Admit(t + 60));
  EXPECT_TRUE(l.Admit(t + 60));
  EXPECT_FALSE(l.Admit(t + 60));  // the plan's 5 per day
  // Continuation frames of an admitted message are counted even past the limit.
  l.Count(t + 60);
  EXPECT_EQ(r.Get("sub:s1")->Count(t / 86400), 6u);
}

TEST(LimitsTest, ConnectionsOfOneSubscriptionShareItsCounter) {
  Registry r;
  Policy plan{"Plan", false, 4, 86400, true};
  Limits a, b;
  a.Add(plan, r.Get("sub:s1"));
  b.Add(plan, r.Get("sub:s1"));
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(a.Admit(100));
  EXPECT_TRUE(b.Admit(100));
  EXPECT_TRUE(a.Admit(100));
  EXPECT_TRUE(b.Admit(100));
  EXPECT_FALSE(a.Admit(100));
  EXPECT_FALSE(b.Admit(100));
}

// Shards admit against the same counter at once: exactly `limit` events get through.
TEST(LimitsTest, ExactUnderConcurrency) {
  Registry r;
  Policy plan{"Plan", false, 100000, 86400, true};
  std::atomic<int> admitted{0};
  auto worker = [&] {
    Limits l;
    l.Add(plan, r.Get("sub:shared"));
    int mine = 0;
    for (int i = 0; i < 80000; ++i) mine += l.Admit(5) ? 1 : 0;
    admitted += mine;
  };
  std::thread t1(worker), t2(worker);
  t1.join();
  t2.join();
  EXPECT_EQ(admitted.load(), 100000);
  EXPECT_EQ(r.Get("sub:shared")->Count(0), 100000u);
}

}  // namespace
}  // namespace wsgate::engine::throttle
