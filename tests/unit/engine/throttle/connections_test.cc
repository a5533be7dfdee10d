// Unit tests for the concurrent-connection quotas (engine/throttle/connections.h) and the
// admission settings they are configured by (engine/config/admission_settings.h).
#include "engine/throttle/connections.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "engine/config/admission_settings.h"
#include "engine/throttle/throttle.h"

namespace wsgate::engine::throttle {
namespace {

TEST(ConnectionCounts, AcquiresUpToTheLimitAndReleasesBack) {
  ConnectionCounts counts;
  EXPECT_TRUE(counts.TryAcquire("sub:s1", 2));
  EXPECT_TRUE(counts.TryAcquire("sub:s1", 2));
  EXPECT_FALSE(counts.TryAcquire("sub:s1", 2));
  EXPECT_TRUE(counts.TryAcquire("sub:s2", 2)) << "keys are independent";
  EXPECT_EQ(counts.Count("sub:s1"), 2u);
  counts.Release("sub:s1");
  EXPECT_TRUE(counts.TryAcquire("sub:s1", 2));
  EXPECT_FALSE(counts.TryAcquire("sub:new", 0)) << "a zero limit admits nothing";
}

TEST(ConnectionCounts, AKeyAtZeroIsForgotten) {
  ConnectionCounts counts;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(counts.TryAcquire("addr:10.0.0." + std::to_string(i), 1));
  EXPECT_EQ(counts.keys(), 1000u);
  for (int i = 0; i < 1000; ++i) counts.Release("addr:10.0.0." + std::to_string(i));
  EXPECT_EQ(counts.keys(), 0u) << "a storm of addresses must leave no memory behind";
  counts.Release("addr:never-held");  // harmless
  EXPECT_EQ(counts.Count("addr:never-held"), 0u);
}

TEST(ConnectionCounts, AllOrNothingAndReleasedExactlyOnce) {
  ConnectionCounts counts;
  std::vector<ConnectionQuota> quotas = {{"sub:s1", 5, "subscription"}, {"app:a1", 5, "application"},
                                         {"api:x", 1, "API"}};
  ConnectionHold first;
  EXPECT_EQ(counts.TryAcquireAll(quotas, &first), -1);
  EXPECT_EQ(first.size(), 3);
  ConnectionHold second;
  EXPECT_EQ(counts.TryAcquireAll(quotas, &second), 2) << "the API quota (1) refuses";
  EXPECT_TRUE(second.empty());
  EXPECT_EQ(counts.Count("sub:s1"), 1u) << "what the refused handshake took is given back";
  EXPECT_EQ(counts.Count("app:a1"), 1u);
  first.Release(counts);
  first.Release(counts);  // a second release does nothing
  EXPECT_EQ(counts.keys(), 0u);
}

TEST(ConnectionCounts, ExactAcrossThreads) {
  ConnectionCounts counts;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (counts.TryAcquire("api:hot", 100)) admitted.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 100);
  EXPECT_EQ(counts.Count("api:hot"), 100u);
}

TEST(ClientAddressKey, Ipv4AsItIsIpv6ByItsSlash64) {
  EXPECT_EQ(ClientAddressKey("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(ClientAddressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientAddressKey("2001:db8:1:2::1"), ClientAddressKey("2001:db8:1:2:ffff::9"));
  EXPECT_NE(ClientAddressKey("2001:db8:1:2::1"), ClientAddressKey("2001:db8:1:3::1"));
  EXPECT_EQ(ClientAddressKey("::ffff:192.0.2.7"), "192.0.2.7") << "IPv4-mapped counts as the IPv4 address";
  EXPECT_EQ(ClientAddressKey("not-an-address"), "not-an-address");
}

TEST(CompilePolicy, ConnectionOnlyPolicyCountsNoEvents) {
  v1::ThrottlePolicy p;
  p.set_name("TenSockets");
  p.set_max_connections(10);
  auto compiled = CompilePolicy(p);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_TRUE(compiled->unlimited);
  EXPECT_EQ(compiled->max_connections, 10u);
  p.set_events(100);
  p.set_unit(v1::MINUTE);
  compiled = CompilePolicy(p);
  ASSERT_TRUE(compiled.ok());
  EXPECT_FALSE(compiled->unlimited) << "events and connections together";
  EXPECT_EQ(compiled->events, 100u);
  EXPECT_EQ(compiled->max_connections, 10u);
}

TEST(AdmissionSettings, DefaultsAndChecks) {
  config::Settings s;
  v1::EngineSettings in;
  ASSERT_TRUE(config::CompileAdmissionSettings(in, &s).ok());
  EXPECT_EQ(s.max_connections_per_address, 0u);
  EXPECT_EQ(s.idle_timeout_ms, 0u);
  EXPECT_EQ(s.max_lifetime_ms, 0u);
  EXPECT_EQ(s.drain_close_code, 1012);
  in.set_idle_timeout_ms(50);
  EXPECT_EQ(config::CompileAdmissionSettings(in, &s).message(),
            "settings.idle_timeout_ms: must be 0 (none) or at least 100 ms");
  in.set_idle_timeout_ms(60000);
  in.set_max_lifetime_ms(99);
  EXPECT_EQ(config::CompileAdmissionSettings(in, &s).message(),
            "settings.max_lifetime_ms: must be 0 (none) or at least 100 ms");
  in.set_max_lifetime_ms(3600000);
  in.set_drain_close_code(1000);
  EXPECT_EQ(config::CompileAdmissionSettings(in, &s).message(),
            "settings.drain_close_code: 1000 is not allowed; use 1001, 1012, 1013, 1014 or 4000-4999");
  in.set_drain_close_code(4010);
  in.set_max_connections_per_address(20);
  ASSERT_TRUE(config::CompileAdmissionSettings(in, &s).ok());
  EXPECT_EQ(s.drain_close_code, 4010);
  EXPECT_EQ(s.max_connections_per_address, 20u);
  EXPECT_EQ(s.idle_timeout_ms, 60000u);
  EXPECT_EQ(s.max_lifetime_ms, 3600000u);
}

}  // namespace
}  // namespace wsgate::engine::throttle

namespace wsgate::engine::throttle {
namespace {

// Token buckets on a fake clock (the shard passes its own time in).
TEST(HandshakeRates, BurstThenRateAndTheWaitUntilTheNextToken) {
  HandshakeRates rates;
  int64_t t = 1'000'000;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rates.TryTake("addr:a", 2, 5, t), 0) << "the burst, " << i;
  EXPECT_EQ(rates.TryTake("addr:a", 2, 5, t), 500) << "2 per second: the next token in 500 ms";
  EXPECT_EQ(rates.TryTake("addr:a", 2, 5, t + 499), 1);
  EXPECT_EQ(rates.TryTake("addr:a", 2, 5, t + 500), 0);
  EXPECT_EQ(rates.TryTake("addr:b", 2, 5, t + 500), 0) << "another key has its own bucket";
  EXPECT_EQ(rates.TryTake("addr:a", 2, 5, t + 10'000), 0) << "refilled after a pause";
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rates.TryTake("addr:a", 2, 5, t + 10'000), 0) << "up to the burst only";
  EXPECT_GT(rates.TryTake("addr:a", 2, 5, t + 10'000), 0);
  EXPECT_EQ(rates.TryTake("api:x", 0, 0, t), 0) << "rate 0: no limit";
  EXPECT_EQ(rates.TryTake("api:y", 1, 0, t), 0) << "burst 0 is the rate";
  EXPECT_EQ(rates.TryTake("api:y", 1, 0, t), 1000);
}

TEST(HandshakeRates, RefilledBucketsAreForgottenUnderAStormOfAddresses) {
  HandshakeRates rates;
  for (int i = 0; i < 100'000; ++i) ASSERT_EQ(rates.TryTake("addr:" + std::to_string(i), 10, 10, i / 100), 0);
  EXPECT_LT(rates.keys(), 16 * HandshakeRates::kSweepAt + 16) << "bounded by the sweep";
  EXPECT_EQ(RetryAfterSeconds(1), 1);
  EXPECT_EQ(RetryAfterSeconds(1000), 1);
  EXPECT_EQ(RetryAfterSeconds(1001), 2);
}

}  // namespace
}  // namespace wsgate::engine::throttle

#include "engine/throttle/overload.h"

namespace wsgate::engine::throttle {
namespace {

TEST(EvaluateOverload, SoftAndHardThresholdsOnTheHighestResource) {
  OverloadInput in{/*connections=*/50, /*capacity=*/100, /*buffers_held=*/10, /*buffer_capacity=*/100};
  OverloadDecision d = EvaluateOverload(in, 85, 95);
  EXPECT_EQ(d.level, OverloadLevel::kNone);
  EXPECT_EQ(d.percent, 50u);
  EXPECT_EQ(d.resource, "connections");
  in.connections = 85;
  d = EvaluateOverload(in, 85, 95);
  EXPECT_EQ(d.level, OverloadLevel::kSoft);
  EXPECT_EQ(d.shed, 0u);
  in.connections = 97;
  d = EvaluateOverload(in, 85, 95);
  EXPECT_EQ(d.level, OverloadLevel::kHard);
  EXPECT_EQ(d.shed, 3u) << "back to 94, under the hard threshold";
  in.connections = 40;
  in.buffers_held = 96;
  d = EvaluateOverload(in, 85, 95);
  EXPECT_EQ(d.level, OverloadLevel::kHard);
  EXPECT_EQ(d.resource, "buffered bytes");
  EXPECT_EQ(d.shed, 2u) << "one in twenty per evaluation";
  in.connections = 3;
  d = EvaluateOverload(in, 85, 95);
  EXPECT_EQ(d.shed, 1u) << "at least one";
  EXPECT_EQ(EvaluateOverload(OverloadInput{}, 85, 95).level, OverloadLevel::kNone) << "no capacity known";
}

}  // namespace
}  // namespace wsgate::engine::throttle
