// Unit tests for bench/bench_stats: wsgate-bench's histogram, errors by cause and send lag.
#include "bench/bench_stats.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "nlohmann/json.hpp"

namespace wsgate::bench {
namespace {

TEST(ErrorTally, CountsByCauseMostFrequentFirst) {
  ErrorTally a, b;
  EXPECT_EQ(a.Summary(), "");
  EXPECT_EQ(a.Json(), "{}");
  for (int i = 0; i < 18581; ++i) a.Add("HTTP 401");
  a.Add("connect refused", 2);
  b.Add("connect refused");
  b.Add("closed by the server");
  b.Add("TLS error");
  a.Merge(b);
  EXPECT_EQ(a.total(), 18581u + 5u);
  EXPECT_EQ(a.Summary(), "HTTP 401 x 18581, connect refused x 3, TLS error x 1, closed by the server x 1");
  auto j = nlohmann::json::parse(a.Json());
  EXPECT_EQ(j["HTTP 401"], 18581);
  EXPECT_EQ(j["connect refused"], 3);
  EXPECT_EQ(j.size(), 4u);
}

TEST(Causes, NameWhatFailed) {
  EXPECT_EQ(ConnectCause(ECONNREFUSED), "connect refused");
  EXPECT_EQ(ConnectCause(ETIMEDOUT), "connect timed out");
  EXPECT_EQ(ConnectCause(ENETUNREACH), "connect: network is unreachable");
  EXPECT_EQ(IoCause("recv", ECONNRESET), "recv: connection reset by peer");
  EXPECT_EQ(IoCause("socket", EMFILE), "socket: too many open files");
  EXPECT_EQ(UpgradeCause("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0", false), "HTTP 401");
  EXPECT_EQ(UpgradeCause("HTTP/1.1 503", false), "HTTP 503");
  EXPECT_EQ(UpgradeCause("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: x", true),
            "bad Sec-WebSocket-Accept");
  EXPECT_EQ(UpgradeCause("SSH-2.0-OpenSSH_9.2", false), "bad upgrade response");
  EXPECT_EQ(UpgradeCause("HTTP/1.1 40x Nope", false), "bad upgrade response");
  EXPECT_EQ(UpgradeCause("HTTP/1.1 4011 x", false), "bad upgrade response");
}

TEST(Histogram, PercentilesWithinABucket) {
  Histogram h;
  EXPECT_EQ(h.Percentile(50), 0u);
  for (int64_t v = 1; v <= 1000; ++v) h.Record(v * 1000);  // 1 us .. 1 ms
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max(), 1000000u);
  // Buckets are ~3 % wide and report their lower bound.
  EXPECT_LE(h.Percentile(50), 500000u);
  EXPECT_GE(h.Percentile(50), 500000u * 97 / 100);
  EXPECT_LE(h.Percentile(99), 990000u);
  EXPECT_GE(h.Percentile(99), 990000u * 97 / 100);
  Histogram other;
  other.Record(5000000);
  h.Merge(other);
  EXPECT_EQ(h.count(), 1001u);
  EXPECT_EQ(h.max(), 5000000u);
  h.Record(-5);  // a clock step back counts as 1 ns, never a negative bucket
  EXPECT_EQ(h.count(), 1002u);
}

// Send lag as the open loop records it: queued time minus intended time. A generator on time
// lags a few microseconds; one that stalls for 2 ms on every 100th message shows it at p99.
TEST(SendLag, SaysWhenTheGeneratorIsBehind) {
  Histogram lag, latency;
  for (int i = 0; i < 1000; ++i) {
    int64_t intended = i * 50000;
    int64_t queued = intended + (i % 100 == 99 ? 2000000 : 3000);
    lag.Record(queued - intended);
    latency.Record(queued - intended + 40000);  // latency counts from the intended time
  }
  EXPECT_LT(lag.Percentile(50), 3100u);
  EXPECT_GT(lag.Percentile(99.5), 1900000u);
  EXPECT_TRUE(GeneratorBehind(lag.Percentile(99.5), latency.Percentile(99.5)));
  EXPECT_FALSE(GeneratorBehind(lag.Percentile(50), latency.Percentile(50)));
  EXPECT_FALSE(GeneratorBehind(90000, 100000));     // under 100 us: noise
  EXPECT_FALSE(GeneratorBehind(200000, 5000000));   // 4 % of a 5 ms p99: the target's
  EXPECT_TRUE(GeneratorBehind(200000, 1000000));    // 20 % of it: the generator's
}

}  // namespace
}  // namespace wsgate::bench
