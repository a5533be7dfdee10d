// Integration tests for cluster-wide quotas (issue 19 item 3): a real redis-server on an
// ephemeral port (tests/support/redis_server.h) shared by two in-process engines that serve the
// same throttle plan. Clients on both engines together get at least the plan and at most the
// documented bound (limit + engines × max_lease); with Redis killed, each engine applies its
// --quota-fallback (fail-local: limit / engines each; fail-closed: every event refused with
// WSO2's 4003 text frame, the socket kept; fail-open: every event admitted); after Redis
// restarts the engines go back to cluster-wide counting.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "engine/admin/metrics.h"
#include "engine/quota/quota_client.h"
#include "engine/quota/store_url.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/redis_server.h"

namespace wsgate::testing {
namespace {

using engine::throttle::QuotaMode;

constexpr char kThrottled[] = "Error code: 4003 reason: Websocket frame throttled out";
constexpr uint64_t kMaxLease = 5;

class ClusterQuotaTest : public EngineFixture {
 protected:
  void SetUp() override {
    if (RedisServer::Binary().empty())
      GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server; tools/setup.sh does)";
    ASSERT_TRUE(redis_.Start()) << redis_.error();
    quota_ = Options(engine::quota::Fallback::kLocal);
    EngineFixture::SetUp();
  }
  void TearDown() override {
    if (second_) {
      second_->Drain(1000);
      second_->Wait();
      second_.reset();
    }
    EngineFixture::TearDown();
  }

  engine::quota::QuotaOptions Options(engine::quota::Fallback fallback) {
    engine::quota::QuotaFlags f;
    f.store = redis_.url();
    f.engines = 2;
    f.max_lease = kMaxLease;
    f.fallback = fallback == engine::quota::Fallback::kLocal   ? "fail-local"
                 : fallback == engine::quota::Fallback::kOpen ? "fail-open"
                                                              : "fail-closed";
    auto o = engine::quota::CompileQuotaFlags(f);
    EXPECT_TRUE(o.ok()) << o.status();
    o->health_interval_ms = 200;  // notice an outage quickly
    o->connect_timeout_ms = 3000;  // a loaded CI machine is not an outage (a dead Redis refuses at once)
    o->max_backoff_ms = 300;
    return *o;
  }

  void StartSecond(engine::quota::Fallback fallback) {
    engine::server::ServerOptions so;
    so.ws_listen = "127.0.0.1:0";
    so.shards = 2;
    so.buffer_count = 1024;
    so.quota = Options(fallback);
    second_ = std::make_unique<engine::server::Server>(so);
    ASSERT_TRUE(second_->Start().ok());
  }

  // The base config plus applications app2 and app3 (keys prod-key-2, prod-key-3), each
  // subscribed with its own plan, so each phase starts from fresh counters.
  v1::Snapshot Plans(uint64_t version, uint64_t n1, uint64_t n2, uint64_t n3) {
    v1::Snapshot s = BaseSnapshot(version);
    AddPolicy(s, "Shared1", n1);
    AddPolicy(s, "Shared2", n2);
    AddPolicy(s, "Shared3", n3);
    s.mutable_subscriptions(0)->set_plan("Shared1");
    for (int i : {2, 3}) {
      auto* app = s.add_applications();
      app->set_id("app" + std::to_string(i));
      app->set_name("App" + std::to_string(i));
      auto* sub = s.add_subscriptions();
      sub->set_id("sub" + std::to_string(i));
      sub->set_application_id(app->id());
      sub->set_api_id("api-chats");
      sub->set_plan("Shared" + std::to_string(i));
      auto* key = s.add_consumer_keys();
      key->set_client_id("prod-key-" + std::to_string(i));
      key->set_application_id(app->id());
      key->set_key_type(v1::PRODUCTION);
    }
    return s;
  }
  void ApplyBoth(const v1::Snapshot& s) {
    Apply(s);
    ASSERT_TRUE(second_->Apply(s).ok());
  }

  // A client of `client_id` in `room` through the engine on `port` (the welcome is its first event).
  std::unique_ptr<WsClient> Client(uint16_t port, const std::string& client_id, const std::string& room) {
    auto c = std::make_unique<WsClient>();
    EXPECT_TRUE(c->Connect(port, "/chats/1.0.0/rooms/" + room, {Bearer(Token(client_id))}));
    return c;
  }
  // `n` messages in a burst (a lease may run out while its refill is in flight), then a ping:
  // the pong says the engine has decided on them.
  static void SendOne(WsClient& c, int n = 1) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(c.SendText("m"));
    ASSERT_TRUE(c.SendFrame(0x9, "sync"));
    while (auto f = c.ReadFrame()) {
      if (f->opcode == 0xA) return;
    }
    FAIL() << "no pong";
  }
  static uint64_t Events(engine::server::Server& s) {
    auto st = s.CollectStats();
    return st.client_to_backend.frames + st.backend_to_client.frames;
  }
  uint64_t Total() { return Events(*engine_) + Events(*second_); }
  // Clients on both engines send in turns, in bursts; then slowly until `target` events were
  // admitted since `base` (a lease still in flight when the budget ran out arrives and is used:
  // on a loaded machine Redis may answer late) or 5 s pass, and a few rounds more (anything past
  // the bound would show).
  void Drive(WsClient& a, WsClient& b, int rounds, uint64_t base, uint64_t target) {
    for (int i = 0; i < rounds; ++i) {
      SendOne(a, 4);
      SendOne(b, 4);
    }
    for (int i = 0, extra = 0; i < 250 && extra < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      SendOne(a);
      SendOne(b);
      if (Total() - base >= target) ++extra;
    }
  }
  static bool WaitForMode(engine::server::Server& s, bool fallback) {
    for (int i = 0; i < 200; ++i) {
      if ((s.cluster_quota()->mode() != QuotaMode::kCluster) == fallback) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  RedisServer redis_;
  std::unique_ptr<engine::server::Server> second_;
};

TEST_F(ClusterQuotaTest, TwoEnginesShareOnePlanWithinTheBoundFallBackLocallyAndRecover) {
  StartSecond(engine::quota::Fallback::kLocal);
  constexpr uint64_t kN = 60, kM = 20, kN3 = 40;
  ApplyBoth(Plans(2, kN, kM, kN3));

  // Cluster-wide: one plan of N events across both engines.
  {
    auto a = Client(engine_port(), "prod-key", "room1");
    auto b = Client(second_->port(), "prod-key", "room2");
    Drive(*a, *b, 15, 0, kN);
    const uint64_t total = Total();
    RecordProperty("admitted", std::to_string(total));
    EXPECT_GE(total, kN) << Events(*engine_) << " + " << Events(*second_);
    EXPECT_LE(total, kN + 2 * kMaxLease) << Events(*engine_) << " + " << Events(*second_);
    EXPECT_EQ(engine_->cluster_quota()->stats().fallbacks.load() + second_->cluster_quota()->stats().fallbacks.load(),
              0u);
    EXPECT_GT(Events(*engine_), 0u);
    EXPECT_GT(Events(*second_), 0u);
    EXPECT_GT(engine_->CollectStats().client_to_backend.throttled_frames +
                  second_->CollectStats().client_to_backend.throttled_frames,
              0u);
    EXPECT_GT(engine_->cluster_quota()->stats().leases.load(), 0u);
    EXPECT_EQ(engine_->cluster_quota()->stats().store_errors.load(), 0u);
  }

  // Redis dies: each engine counts a fresh plan of M events locally, M / 2 each.
  redis_.Kill();
  ASSERT_TRUE(WaitForMode(*engine_, true));
  ASSERT_TRUE(WaitForMode(*second_, true));
  EXPECT_EQ(engine_->cluster_quota()->mode(), QuotaMode::kLocal);
  {
    const uint64_t before1 = Events(*engine_), before2 = Events(*second_);
    auto a = Client(engine_port(), "prod-key-2", "room1");
    auto b = Client(second_->port(), "prod-key-2", "room2");
    Drive(*a, *b, 5, before1 + before2, kM);
    EXPECT_EQ(Events(*engine_) - before1, kM / 2);
    EXPECT_EQ(Events(*second_) - before2, kM / 2);
  }
  EXPECT_GE(engine_->cluster_quota()->stats().store_errors.load(), 1u);
  EXPECT_EQ(engine_->cluster_quota()->stats().fallbacks.load(), 1u);
  engine::admin::MetricsInput in;
  in.quota = engine_->cluster_quota();
  const std::string metrics = engine::admin::RenderMetrics(in);
  EXPECT_NE(metrics.find("\nwsgate_engine_quota_fallback 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nwsgate_engine_quota_mode{mode=\"fail-local\"} 1\n"), std::string::npos);

  // Redis is back (empty): both engines return to cluster-wide counting of a third plan.
  ASSERT_TRUE(redis_.Start()) << redis_.error();
  ASSERT_TRUE(WaitForMode(*engine_, false));
  ASSERT_TRUE(WaitForMode(*second_, false));
  {
    const uint64_t before = Total();
    auto a = Client(engine_port(), "prod-key-3", "room1");
    auto b = Client(second_->port(), "prod-key-3", "room2");
    Drive(*a, *b, 10, before, kN3);
    const uint64_t total = Total() - before;
    RecordProperty("admitted_after_recovery", std::to_string(total));
    EXPECT_GE(total, kN3);
    EXPECT_LE(total, kN3 + 2 * kMaxLease);
  }
  EXPECT_EQ(engine_->cluster_quota()->stats().fallbacks.load(), 1u);
}

TEST_F(ClusterQuotaTest, FailClosedRefusesWith4003AndFailOpenAdmitsWhileRedisIsDown) {
  // The fixture's engine fails closed; the second one fails open.
  TearDown();
  quota_ = Options(engine::quota::Fallback::kClosed);
  EngineFixture::SetUp();
  StartSecond(engine::quota::Fallback::kOpen);
  ApplyBoth(Plans(2, 5, 5, 5));
  redis_.Kill();
  ASSERT_TRUE(WaitForMode(*engine_, true));
  ASSERT_TRUE(WaitForMode(*second_, true));
  EXPECT_EQ(engine_->cluster_quota()->mode(), QuotaMode::kClosed);
  EXPECT_EQ(second_->cluster_quota()->mode(), QuotaMode::kOpen);

  // fail-closed: even the welcome is refused; the client is told with WSO2's text frame and
  // stays connected (a ping still gets its pong).
  auto closed = Client(engine_port(), "prod-key", "room1");
  auto notice = closed->ReadMessage();
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->opcode, 0x1);
  EXPECT_EQ(notice->payload, kThrottled);
  SendOne(*closed);
  EXPECT_EQ(Events(*engine_), 0u);
  EXPECT_GE(engine_->cluster_quota()->stats().fallback_refusals.load(), 2u);

  // fail-open: far past the plan of 5.
  auto open = Client(second_->port(), "prod-key", "room2");
  auto welcome = open->ReadMessage();
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->payload, "You joined room2!");
  for (int i = 0; i < 20; ++i) SendOne(*open);
  EXPECT_EQ(Events(*second_), 21u);
  EXPECT_EQ(second_->CollectStats().client_to_backend.throttled_frames, 0u);
}

// The lease script against a real Redis, over TCP and the Unix socket: the adaptive lease, the
// debt added to it, the cap at the limit, the key's expiry, and EVAL after SCRIPT FLUSH.
TEST(RedisStoreTest, TheLeaseScriptGrantsAdaptiveLeasesAndRecoversFromAFlushedScriptCache) {
  if (RedisServer::Binary().empty())
    GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server; tools/setup.sh does)";
  RedisServer redis;
  ASSERT_TRUE(redis.Start()) << redis.error();
  auto tcp = engine::quota::ParseStoreAddress(redis.url() + "/1");
  ASSERT_TRUE(tcp.ok());
  auto store = engine::quota::MakeStore(*tcp, 2000);
  engine::quota::TakeRequest req;
  req.key = "wsgate:quota:{sub:s1}:86400:1799971200";
  req.limit = 100;
  req.params = {2, 4, 10};
  req.ttl_s = 500;
  auto r = store->Take(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->granted, 10u);  // clamp(100 / 8) = 10
  EXPECT_EQ(r->remaining, 90u);
  req.debt = 7;
  r = store->Take(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->granted, 17u);  // 10 + the 7 owed
  EXPECT_EQ(r->remaining, 73u);
  std::string out;
  const std::string cli = "redis-cli";
  ASSERT_EQ(RunToEnd({"/usr/bin/env", cli, "-p", std::to_string(redis.port()), "-n", "1", "TTL", req.key}, 5000, &out), 0);
  EXPECT_GT(std::stoi(out), 490);
  EXPECT_LE(std::stoi(out), 500);
  ASSERT_EQ(RunToEnd({"/usr/bin/env", cli, "-p", std::to_string(redis.port()), "SCRIPT", "FLUSH"}, 5000, &out), 0);
  req.debt = 0;
  r = store->Take(req);  // NOSCRIPT: sent again with EVAL
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->granted, 10u);
  // Over the Unix socket, same database: the same counter.
  auto unix_address = engine::quota::ParseStoreAddress("unix://" + redis.socket_path() + "?db=1");
  ASSERT_TRUE(unix_address.ok()) << unix_address.status();
  auto local = engine::quota::MakeStore(*unix_address, 2000);
  req.params.max_lease = 1000;
  r = local->Take(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->granted, 8u);  // ceil(63 / 8)
  req.debt = 1000;
  r = local->Take(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->granted, 55u);  // capped at what is left
  EXPECT_EQ(r->remaining, 0u);
  r = local->Take(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->granted, 0u);
  EXPECT_TRUE(store->Ping().ok());
  redis.Kill();
  EXPECT_EQ(store->Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store->Take(req).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace wsgate::testing
