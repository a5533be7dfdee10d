// Unit tests for cluster-wide quotas (issue 19 item 3) without Redis: the lease-size rule, the
// documented bound across engines sharing one (fake) store, credit while a refill is in flight,
// the fallback state machine (StoreHealth) and the quota client's fallback modes and recovery
// through a fake store and a fake clock, and the --quota-* flags.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "engine/quota/health.h"
#include "engine/quota/quota_client.h"
#include "engine/quota/store_url.h"
#include "engine/throttle/throttle.h"
#include "tests/support/fake_ring.h"
#include "tests/unit/engine/quota/fake_store.h"

namespace wsgate::engine::quota {
namespace {

using throttle::ClusterBound;
using throttle::ClusterQuota;
using throttle::LeaseParams;
using throttle::LeaseSize;
using throttle::QuotaMode;

TEST(LeaseSizeTest, AdaptsToTheRemainingBudgetWithinOneAndTheMaximum) {
  LeaseParams p{2, 4, 100};  // 2 engines, k = 4, at most 100
  EXPECT_EQ(LeaseSize(50000, p), 100u);  // clamp(50000 / 8) = 100
  EXPECT_EQ(LeaseSize(800, p), 100u);
  EXPECT_EQ(LeaseSize(400, p), 50u);
  EXPECT_EQ(LeaseSize(9, p), 2u);  // ceil(9 / 8)
  EXPECT_EQ(LeaseSize(8, p), 1u);
  EXPECT_EQ(LeaseSize(1, p), 1u);
  EXPECT_EQ(LeaseSize(0, p), 0u);  // nothing left: no lease
  EXPECT_EQ(LeaseSize(3, LeaseParams{1, 1, 100}), 3u);  // never more than what is left
  EXPECT_EQ(ClusterBound(1000, p), 1200u);
  EXPECT_EQ(throttle::FallbackLimit(1000, 3), 333u);
  EXPECT_EQ(throttle::FallbackLimit(1, 3), 1u);  // at least one
}

// One engine in the simulation: its counter, cluster quota, gate, client and a policy level.
struct SimEngine {
  SimEngine(const LeaseParams& params, std::shared_ptr<FakeStoreState> store, const common::Clock& clock,
            Fallback fallback = Fallback::kLocal)
      : quota(params) {
    QuotaOptions o;
    o.lease = params;
    o.fallback = fallback;
    client = std::make_unique<QuotaClient>(o, std::make_unique<FakeStore>(std::move(store)), &quota, clock);
    registry.set_cluster(&quota);
    throttle::Counter* c = registry.Get("sub:s1");
    limits.Add(policy, c, quota.Gate("sub:s1", 86400, c));
  }
  throttle::Policy policy{"Plan", false, 1000, 86400, true};
  throttle::Registry registry;
  ClusterQuota quota;
  std::unique_ptr<QuotaClient> client;
  throttle::Limits limits;
  uint64_t admitted = 0;
};

constexpr int64_t kNow = 1'800'000'000;

// E engines, one store, events spread over the engines, each engine's quota thread answering
// only every `lag` events (a refill in flight that long): events arriving meanwhile are admitted
// on credit. The total never passes limit + E × max_lease, and once every engine has been asked
// to its end, nothing is left unused (the store's counter reached the limit and the engines
// admitted at least the limit).
void RunBound(int engines, int lag, uint64_t max_lease) {
  testing::FakeClock clock;
  auto store = std::make_shared<FakeStoreState>();
  LeaseParams params{static_cast<uint32_t>(engines), 4, max_lease};
  std::vector<std::unique_ptr<SimEngine>> sim;
  for (int i = 0; i < engines; ++i) sim.push_back(std::make_unique<SimEngine>(params, store, clock));
  for (int round = 0; round < 4000; ++round) {
    for (auto& e : sim)
      if (e->limits.Admit(kNow)) ++e->admitted;
    if (round % lag == 0)
      for (auto& e : sim) e->client->Step(0);
  }
  for (int drain = 0; drain < 50; ++drain) {  // every refill answered, every engine asked again
    for (auto& e : sim) {
      e->client->Step(0);
      while (e->limits.Admit(kNow)) ++e->admitted;
    }
  }
  uint64_t total = 0;
  for (auto& e : sim) total += e->admitted;
  const uint64_t limit = sim[0]->policy.events;
  EXPECT_LE(total, ClusterBound(limit, params)) << engines << " engines, lag " << lag;
  EXPECT_GE(total, limit) << engines << " engines, lag " << lag;
  EXPECT_EQ(store->counters.begin()->second, limit);  // the store granted exactly the limit
  EXPECT_EQ(store->counters.begin()->first, "wsgate:quota:{sub:s1}:86400:1799971200");
}

TEST(ClusterBoundTest, TotalStaysWithinLimitPlusEnginesTimesLease) {
  for (int engines : {1, 2, 3, 8})
    for (int lag : {1, 7, 50, 400}) RunBound(engines, lag, 25);
  RunBound(2, 3, 1);
}

TEST(ClusterBoundTest, AnEmptyLeaseWithARefillInFlightAdmitsOnCreditUpToTheNextLease) {
  testing::FakeClock clock;
  auto store = std::make_shared<FakeStoreState>();
  LeaseParams params{2, 4, 10};
  SimEngine e(params, store, clock);
  // Before any answer the first lease is taken on credit: LeaseSize(1000) = 10 events.
  int first = 0;
  while (e.limits.Admit(kNow)) ++first;
  EXPECT_EQ(first, 10);
  EXPECT_EQ(store->takes, 0);  // nothing reached the store yet: the request is queued
  e.client->Step(0);           // granted 10 + the 10 owed, capped: 20; credit LeaseSize(980) = 10
  EXPECT_EQ(store->counters.begin()->second, 20u);
  int more = 0;
  while (e.limits.Admit(kNow)) ++more;
  EXPECT_EQ(more, 20);  // 10 granted unused + 10 on credit
}

TEST(ClusterBoundTest, NearTheLimitTheCreditShrinksAndAnExhaustedWindowStopsAsking) {
  testing::FakeClock clock;
  auto store = std::make_shared<FakeStoreState>();
  LeaseParams params{2, 4, 100};
  SimEngine a(params, store, clock), b(params, store, clock);
  a.policy.events = 40;
  b.policy.events = 40;
  a.limits.Clear();
  b.limits.Clear();
  for (SimEngine* e : {&a, &b}) {
    throttle::Counter* c = e->registry.Get("sub:s1");
    e->limits.Add(e->policy, c, e->quota.Gate("sub:s1", 86400, c));
  }
  uint64_t total = 0;
  for (int i = 0; i < 200; ++i) {
    total += a.limits.Admit(kNow) + b.limits.Admit(kNow);
    a.client->Step(0);
    b.client->Step(0);
  }
  EXPECT_GE(total, 40u);
  EXPECT_LE(total, 40u + 2 * LeaseSize(40, params));  // the adaptive bound: 2 × 5
  const int takes = store->takes;
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(a.limits.Admit(kNow));
    a.client->Step(0);
  }
  EXPECT_EQ(store->takes, takes);  // exhausted: no more round trips this window
  // The next window starts over.
  EXPECT_TRUE(a.limits.Admit(kNow + 86400));
}

// Real threads: two engines, each with its quota thread and two "shards" hammering one plan.
// No refill is ever lost (every lease the store gave is used) and the bound holds.
TEST(ClusterBoundTest, ThreadedShardsAndQuotaThreadsStayWithinTheBound) {
  auto store = std::make_shared<FakeStoreState>();
  LeaseParams params{2, 4, 20};
  std::vector<std::unique_ptr<SimEngine>> sim;
  for (int i = 0; i < 2; ++i)
    sim.push_back(std::make_unique<SimEngine>(params, store, common::SystemClock::Get()));
  for (auto& e : sim) {
    e->policy.events = 5000;
    e->limits.Clear();
    throttle::Counter* c = e->registry.Get("sub:s1");
    e->limits.Add(e->policy, c, e->quota.Gate("sub:s1", 86400, c));
    e->client->Start();
  }
  std::atomic<uint64_t> admitted{0};
  const int64_t now = common::SystemClock::Get().NowUnixS();
  auto shard = [&](SimEngine* e) {
    throttle::Limits l = e->limits;  // each shard has its connections' own Limits
    uint64_t mine = 0;
    for (int i = 0; i < 20000; ++i) {
      if (l.Admit(now)) ++mine;
      else std::this_thread::yield();
    }
    admitted += mine;
  };
  std::vector<std::thread> threads;
  for (auto& e : sim)
    for (int k = 0; k < 2; ++k) threads.emplace_back(shard, e.get());
  for (auto& t : threads) t.join();
  // Late grants arrive; every engine uses what it holds.
  for (int round = 0; round < 50; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    for (auto& e : sim)
      while (e->limits.Admit(now)) ++admitted;
  }
  for (auto& e : sim) e->client->Stop();
  EXPECT_GE(admitted.load(), 5000u);
  EXPECT_LE(admitted.load(), ClusterBound(5000, params));
}

TEST(StoreHealthTest, LostOnceBacksOffBoundedAndComesBackOnce) {
  StoreHealth h(1000);
  EXPECT_TRUE(h.MayTry(0));
  EXPECT_EQ(h.OnError(0), StoreHealth::Change::kLost);
  EXPECT_TRUE(h.down());
  EXPECT_FALSE(h.MayTry(99));
  EXPECT_TRUE(h.MayTry(100));
  EXPECT_EQ(h.OnError(100), StoreHealth::Change::kNone);  // still down: no second log line
  EXPECT_EQ(h.backoff_ms(), 200);
  EXPECT_EQ(h.OnError(300), StoreHealth::Change::kNone);
  EXPECT_EQ(h.backoff_ms(), 400);
  h.OnError(700);
  EXPECT_EQ(h.backoff_ms(), 800);
  h.OnError(1500);
  EXPECT_EQ(h.backoff_ms(), 1000);  // bounded
  h.OnError(2500);
  EXPECT_EQ(h.backoff_ms(), 1000);
  EXPECT_EQ(h.next_try_ms(), 3500);
  EXPECT_EQ(h.OnSuccess(), StoreHealth::Change::kBack);
  EXPECT_FALSE(h.down());
  EXPECT_EQ(h.OnSuccess(), StoreHealth::Change::kNone);
  EXPECT_EQ(h.OnError(5000), StoreHealth::Change::kLost);
  EXPECT_EQ(h.backoff_ms(), 100);  // a new outage starts from the first backoff
}

TEST(QuotaClientTest, FailLocalCountsLimitOverEnginesThenRecoversAndRepaysTheStore) {
  testing::FakeClock clock;
  auto store = std::make_shared<FakeStoreState>();
  LeaseParams params{4, 4, 100};
  SimEngine e(params, store, clock);
  store->down = true;
  EXPECT_TRUE(e.limits.Admit(kNow));  // credit; the refill fails: fallback
  e.client->Step(0);
  EXPECT_TRUE(e.client->down());
  EXPECT_EQ(e.quota.mode(), QuotaMode::kLocal);
  EXPECT_EQ(e.quota.stats().store_errors.load(), 1u);
  EXPECT_EQ(e.quota.stats().fallbacks.load(), 1u);
  int local = 1;
  while (e.limits.Admit(kNow)) ++local;
  EXPECT_EQ(local, 250);  // 1000 / 4 engines, the first event included
  // Retries wait for the backoff; a failed retry does not count a second fallback.
  const int pings = store->pings;
  e.client->Step(0);
  EXPECT_EQ(store->pings, pings);
  clock.Advance(100);
  e.client->Step(0);
  EXPECT_EQ(store->pings, pings + 1);
  EXPECT_EQ(e.quota.stats().fallbacks.load(), 1u);
  EXPECT_EQ(e.quota.stats().store_errors.load(), 2u);
  // Back: cluster mode; the 250 events counted locally are taken from the store first.
  store->down = false;
  clock.Advance(200);
  e.client->Step(0);
  EXPECT_FALSE(e.client->down());
  EXPECT_EQ(e.quota.mode(), QuotaMode::kCluster);
  EXPECT_FALSE(e.limits.Admit(kNow));  // owes 250: asks the store
  e.client->Step(0);
  EXPECT_GE(store->counters.begin()->second, 250u);
  EXPECT_TRUE(e.limits.Admit(kNow));
}

TEST(QuotaClientTest, FailOpenAdmitsAndFailClosedRefuses) {
  testing::FakeClock clock;
  auto store = std::make_shared<FakeStoreState>();
  store->down = true;
  LeaseParams params{2, 4, 5};
  SimEngine open(params, store, clock, Fallback::kOpen), closed(params, store, clock, Fallback::kClosed);
  for (SimEngine* e : {&open, &closed}) {
    e->limits.Admit(kNow);
    e->client->Step(0);
    EXPECT_TRUE(e->client->down());
  }
  EXPECT_EQ(open.quota.mode(), QuotaMode::kOpen);
  EXPECT_EQ(closed.quota.mode(), QuotaMode::kClosed);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(open.limits.Admit(kNow)) << i;  // past the 1000 limit
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(closed.limits.Admit(kNow));
  EXPECT_EQ(closed.quota.stats().fallback_refusals.load(), 10u);
}

TEST(QuotaClientTest, AnIdleEngineNoticesTheStoreGoingAndComingBackByPinging) {
  testing::FakeClock clock;
  auto store = std::make_shared<FakeStoreState>();
  SimEngine e(LeaseParams{2, 4, 5}, store, clock);
  e.client->Step(0);
  EXPECT_EQ(store->pings, 0);  // not due yet
  clock.Advance(1000);
  store->down = true;
  e.client->Step(0);
  EXPECT_EQ(store->pings, 1);
  EXPECT_TRUE(e.client->down());
  store->down = false;
  clock.Advance(100);
  e.client->Step(0);
  EXPECT_FALSE(e.client->down());
  EXPECT_EQ(e.quota.mode(), QuotaMode::kCluster);
}

TEST(QuotaFlagsTest, AddressesAndErrorsNameTheFlag) {
  auto tcp = ParseStoreAddress("redis://10.0.0.5:6380/2");
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  EXPECT_EQ(tcp->kind, StoreAddress::kTcp);
  EXPECT_EQ(tcp->host, "10.0.0.5");
  EXPECT_EQ(tcp->port, 6380);
  EXPECT_EQ(tcp->db, 2);
  auto dflt = ParseStoreAddress("redis://redis.internal");
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->port, 6379);
  EXPECT_EQ(dflt->Describe(), "redis://redis.internal:6379/0");
  auto v6 = ParseStoreAddress("redis://[::1]:7000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Describe(), "redis://[::1]:7000/0");
  auto unix_socket = ParseStoreAddress("unix:///run/redis/redis.sock?db=3");
  ASSERT_TRUE(unix_socket.ok());
  EXPECT_EQ(unix_socket->path, "/run/redis/redis.sock");
  EXPECT_EQ(unix_socket->db, 3);
  EXPECT_EQ(ParseStoreAddress("local")->kind, StoreAddress::kLocalOnly);
  EXPECT_EQ(ParseStoreAddress("redis://h:0").status().message(),
            "--quota-store: 'redis://h:0' has a bad port (1-65535) (expected local, redis://HOST:PORT[/DB] or "
            "unix:///PATH[?db=N])");
  EXPECT_EQ(ParseStoreAddress("memcached://h").status().message(),
            "--quota-store: 'memcached://h' is not a store address (expected local, redis://HOST:PORT[/DB] or "
            "unix:///PATH[?db=N])");
  EXPECT_FALSE(ParseStoreAddress("redis://:6379").ok());
  EXPECT_FALSE(ParseStoreAddress("redis://h:6379/16").ok());
  EXPECT_FALSE(ParseStoreAddress("redis://user:pw@h").ok());
  EXPECT_FALSE(ParseStoreAddress("unix://relative.sock").ok());
  QuotaFlags f;
  f.fallback = "fail-sometimes";
  EXPECT_EQ(CompileQuotaFlags(f).status().message(),
            "--quota-fallback: 'fail-sometimes' is not one of fail-local, fail-open, fail-closed");
  f.fallback = "fail-closed";
  f.store = "redis://127.0.0.1:6379";
  f.engines = 3;
  auto o = CompileQuotaFlags(f);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->fallback, Fallback::kClosed);
  EXPECT_EQ(o->lease.engines, 3u);
  f.engines = 0;
  EXPECT_EQ(CompileQuotaFlags(f).status().message(), "--quota-engines: 0 is not in 1..10000");
}

}  // namespace
}  // namespace wsgate::engine::quota
