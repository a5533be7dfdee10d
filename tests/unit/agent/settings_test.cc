// Unit tests for agent/settings: every key of the table, its units, range and errors.
#include "agent/settings.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"

namespace wsgate::agent::settings {
namespace {

uint64_t Parsed(const char* key, const char* text) {
  auto v = Parse(*Find(key), text);
  EXPECT_TRUE(v.ok()) << key << "=" << text << ": " << v.status();
  return v.ok() ? *v : 0;
}

std::string Error(const char* assignment) {
  v1::EnvironmentSettings s;
  absl::Status st = Assign(assignment, s);
  EXPECT_FALSE(st.ok()) << assignment;
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  return std::string(st.message());
}

TEST(SettingsTest, TableHasEveryKeyOnceWithADefaultInsideItsRange) {
  std::set<std::string> want = {"max_header_bytes", "handshake_timeout", "connect_timeout", "max_message_bytes",
                                "queue_bytes",      "ping_interval",     "pong_timeout",    "close_timeout",
                                "drain_timeout",    "max_connections",   "clock_skew",
                                // admission and connection lifetime (issue 15)
                                "max_connections_per_address", "idle_timeout", "max_lifetime", "drain_close_code",
                                "handshake_rate_per_address", "handshake_burst_per_address", "handshake_rate_per_api",
                                "handshake_burst_per_api", "accept_budget", "overload_soft_percent",
                                "overload_hard_percent", "overload_retry_after"};
  std::set<std::string> got;
  for (const Key& k : Table()) {
    EXPECT_TRUE(got.insert(k.name).second) << k.name;
    EXPECT_LT(k.min, k.max) << k.name;
    if (k.default_value != 0) {
      EXPECT_GE(k.default_value, k.min) << k.name;
      EXPECT_LE(k.default_value, k.max) << k.name;
    }
    EXPECT_EQ(Find(k.name), &k);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(Find("nope"), nullptr);
}

TEST(SettingsTest, DurationsTakeUnits) {
  EXPECT_EQ(Parsed("handshake_timeout", "500ms"), 500u);
  EXPECT_EQ(Parsed("handshake_timeout", "30s"), 30000u);
  EXPECT_EQ(Parsed("handshake_timeout", "5m"), 300000u);
  EXPECT_EQ(Parsed("ping_interval", "1h"), 3600000u);
  EXPECT_EQ(Parsed("ping_interval", "2M"), 120000u);  // units are case-insensitive
  EXPECT_NE(Error("ping_interval=30").find("is not a duration with a unit"), std::string::npos);
  EXPECT_NE(Error("ping_interval=30 s").find("'30 s' is not"), std::string::npos);
  EXPECT_NE(Error("ping_interval=-1s").find("is not"), std::string::npos);
  EXPECT_NE(Error("ping_interval=1d").find("is not"), std::string::npos);
  EXPECT_NE(Error("ping_interval=s").find("is not"), std::string::npos);
}

TEST(SettingsTest, SizesTakeBinaryAndDecimalUnitsOrBytes) {
  EXPECT_EQ(Parsed("max_message_bytes", "2048"), 2048u);
  EXPECT_EQ(Parsed("max_message_bytes", "64KiB"), 65536u);
  EXPECT_EQ(Parsed("max_message_bytes", "1MiB"), 1048576u);
  EXPECT_EQ(Parsed("max_message_bytes", "16MB"), 16000000u);
  EXPECT_EQ(Parsed("max_message_bytes", "1GiB"), 1073741824u);
  EXPECT_EQ(Parsed("max_message_bytes", "2kb"), 2000u);
  EXPECT_EQ(Parsed("queue_bytes", "16384B"), 16384u);
  EXPECT_NE(Error("queue_bytes=1 MiB").find("queue_bytes: '1 MiB' is not a size"), std::string::npos);
  EXPECT_NE(Error("queue_bytes=1TiB").find("is not a size"), std::string::npos);
  EXPECT_NE(Error("queue_bytes=99999999999999999999").find("is not a size"), std::string::npos);
}

TEST(SettingsTest, CountsArePlainNumbers) {
  EXPECT_EQ(Parsed("max_connections", "50000"), 50000u);
  EXPECT_NE(Error("max_connections=10k").find("is not a whole number"), std::string::npos);
}

TEST(SettingsTest, EveryKeyRefusesValuesOutsideItsRangeNamingIt) {
  for (const Key& k : Table()) {
    v1::EnvironmentSettings s;
    auto text = [&](uint64_t v) { return k.kind == Kind::kDuration ? absl::StrCat(v, "ms") : absl::StrCat(v); };
    std::string below = text(k.min - 1);
    absl::Status low = Assign(absl::StrCat(k.name, "=", below), s);
    ASSERT_FALSE(low.ok()) << k.name;
    EXPECT_EQ(low.message(), absl::StrCat(k.name, ": ", below, " is out of range [", Format(k, k.min), ", ",
                                          Format(k, k.max), "]"));
    std::string above = text(k.max + 1);
    absl::Status high = Assign(absl::StrCat(k.name, "=", above), s);
    ASSERT_FALSE(high.ok()) << k.name;
    EXPECT_NE(high.message().find(absl::StrCat(k.name, ": ", above, " is out of range")), std::string::npos);
    // The bounds themselves are accepted and read back.
    for (uint64_t edge : {k.min, k.max}) {
      ASSERT_TRUE(Assign(absl::StrCat(k.name, "=", Format(k, edge)), s).ok()) << k.name << " " << edge;
      bool is_default = true;
      EXPECT_EQ(Effective(k, s, &is_default), edge) << k.name;
      EXPECT_FALSE(is_default);
    }
    // (An overload bound at its edge can cross the other's default: AdmissionKeysAndTheRulesBetweenKeys.)
    if (std::string_view(k.name).rfind("overload_", 0) != 0) {
      EXPECT_TRUE(Validate(s).ok()) << k.name;
    }
    ASSERT_TRUE(Assign(absl::StrCat(k.name, "=default"), s).ok());
    bool is_default = false;
    EXPECT_EQ(Effective(k, s, &is_default), k.default_value);
    EXPECT_TRUE(is_default);
  }
}

TEST(SettingsTest, TheBriefsExampleError) {
  EXPECT_EQ(Error("ping_interval=50ms"), "ping_interval: 50ms is out of range [1s, 1h]");
}

TEST(SettingsTest, AssignWritesTheProtoFieldInItsUnit) {
  v1::EnvironmentSettings s;
  ASSERT_TRUE(Assign("max_header_bytes=32KiB", s).ok());
  ASSERT_TRUE(Assign("handshake_timeout=2s", s).ok());
  ASSERT_TRUE(Assign("connect_timeout=1500ms", s).ok());
  ASSERT_TRUE(Assign("max_message_bytes=1MiB", s).ok());
  ASSERT_TRUE(Assign("queue_bytes=2MiB", s).ok());
  ASSERT_TRUE(Assign("ping_interval=10s", s).ok());
  ASSERT_TRUE(Assign("pong_timeout=5s", s).ok());
  ASSERT_TRUE(Assign("close_timeout=1s", s).ok());
  ASSERT_TRUE(Assign("drain_timeout=1m", s).ok());
  ASSERT_TRUE(Assign("max_connections=1000", s).ok());
  ASSERT_TRUE(Assign("clock_skew=1m", s).ok());
  EXPECT_EQ(s.settings().max_header_bytes(), 32768u);
  EXPECT_EQ(s.settings().handshake_timeout_ms(), 2000u);
  EXPECT_EQ(s.settings().upstream_connect_timeout_ms(), 1500u);
  EXPECT_EQ(s.settings().max_message_bytes(), 1048576u);
  EXPECT_EQ(s.settings().queue_bytes(), 2097152u);
  EXPECT_EQ(s.settings().ping_interval_ms(), 10000u);
  EXPECT_EQ(s.settings().pong_timeout_ms(), 5000u);
  EXPECT_EQ(s.settings().close_timeout_ms(), 1000u);
  EXPECT_EQ(s.settings().drain_timeout_ms(), 60000u);
  EXPECT_EQ(s.settings().max_connections(), 1000u);
  EXPECT_EQ(s.clock_skew_s(), 60u);  // stored in seconds
  EXPECT_EQ(Error("clock_skew=1500ms"), "clock_skew: 1500ms must be a whole number of 1s");
}

TEST(SettingsTest, UnknownKeysAndMissingValuesAreNamed) {
  std::string e = Error("ping=1s");
  EXPECT_NE(e.find("'ping' is not a setting"), std::string::npos) << e;
  EXPECT_NE(e.find("ping_interval"), std::string::npos) << e;
  EXPECT_EQ(Error("ping_interval"), "ping_interval: give key=value, e.g. ping_interval=30s");
}

TEST(SettingsTest, DescribeListsEveryKeyWithDefaultsMarked) {
  v1::EnvironmentSettings s;
  ASSERT_TRUE(Assign("ping_interval=10s", s).ok());
  Describe(s);
  ASSERT_EQ(s.values_size(), static_cast<int>(Table().size()));
  for (const auto& v : s.values()) {
    if (v.key() == "ping_interval") {
      EXPECT_EQ(v.value(), "10s");
      EXPECT_FALSE(v.is_default());
      EXPECT_EQ(v.default_value(), "30s");
      EXPECT_EQ(v.min(), "1s");
      EXPECT_EQ(v.max(), "1h");
    } else {
      EXPECT_TRUE(v.is_default()) << v.key();
    }
    if (v.key() == "max_message_bytes") {
      EXPECT_EQ(v.value(), "16MiB");
    }
    if (v.key() == "max_connections") {
      EXPECT_EQ(v.value(), "auto");
    }
  }
}

TEST(SettingsTest, ValidateRefusesStoredValuesOutOfRange) {
  v1::EnvironmentSettings s;
  s.mutable_settings()->set_queue_bytes(100);
  absl::Status st = Validate(s);
  EXPECT_EQ(st.message(), "queue_bytes: 100B is out of range [16KiB, 1GiB]");
}

TEST(SettingsTest, AdmissionKeysAndTheRulesBetweenKeys) {
  v1::EnvironmentSettings s;
  ASSERT_TRUE(Assign("idle_timeout=5m", s).ok());
  EXPECT_EQ(s.settings().idle_timeout_ms(), 300000u);
  ASSERT_TRUE(Assign("overload_retry_after=10s", s).ok());
  EXPECT_EQ(s.settings().overload().retry_after_s(), 10u);
  EXPECT_EQ(Assign("idle_timeout=50ms", s).message(), "idle_timeout: 50ms is out of range [100ms, 168h]");
  ASSERT_TRUE(Assign("drain_close_code=1005", s).ok());  // in range; the rule is checked as a whole
  EXPECT_EQ(Validate(s).message(), "drain_close_code: 1005 is not 1001, 1012-1014 or 4000-4999");
  ASSERT_TRUE(Assign("drain_close_code=4100", s).ok());
  EXPECT_TRUE(Validate(s).ok());
  ASSERT_TRUE(Assign("overload_soft_percent=96", s).ok());
  EXPECT_EQ(Validate(s).message(), "overload_soft_percent (96) must be below overload_hard_percent (95)");
  ASSERT_TRUE(Assign("overload_hard_percent=99", s).ok());
  EXPECT_TRUE(Validate(s).ok());
}

TEST(SettingsTest, FormatPicksTheLargestExactUnit) {
  const Key& d = *Find("close_timeout");
  EXPECT_EQ(Format(d, 1500), "1500ms");
  EXPECT_EQ(Format(d, 90000), "90s");
  EXPECT_EQ(Format(d, 120000), "2m");
  const Key& b = *Find("queue_bytes");
  EXPECT_EQ(Format(b, 1536), "1536B");
  EXPECT_EQ(Format(b, 3 * 1024 * 1024), "3MiB");
}

}  // namespace
}  // namespace wsgate::agent::settings
