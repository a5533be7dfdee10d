// Unit tests for engine/config/vhost and the router's Host → vhost decision (issue 12): exact
// names and aliases, leading wildcards (longest wins, never the bare domain), the default vhost,
// IPv6 literals, ports and case ignored; and the names compile refuses.
#include "engine/config/vhost.h"

#include <gtest/gtest.h>

#include "engine/config/router.h"
#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::config {
namespace {

using testing::FakeResolver;
using testing::ParseSnapshot;

// One API per vhost, its context naming the vhost, so the routed API says which vhost matched.
std::string Snapshot(const std::string& vhosts, const std::vector<std::string>& names) {
  std::string text = vhosts;
  for (const std::string& n : names)
    text += "apis { id: '" + n + "' name: '" + n + "' context: '/c' version: '1' vhosts: '" + n +
            "' production_endpoint { url: 'ws://b:1' } topics { name: '/*' } }\n";
  return text;
}

std::string RoutedVhost(const config::Snapshot& s, std::string_view host) {
  RouteResult r = Route(s, host, "/c/1/x");
  if (r.status == RouteStatus::kNoApi) return "404";
  EXPECT_EQ(r.status, RouteStatus::kOk) << host;
  return r.api == nullptr ? "?" : r.api->id;
}

TEST(VhostNameTest, NormalizesGoodNames) {
  EXPECT_EQ(*NormalizeVhostName("GW.Example.com"), "gw.example.com");
  EXPECT_EQ(*NormalizeVhostName("*.Example.com"), "*.example.com");
  EXPECT_EQ(*NormalizeVhostName("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(*NormalizeVhostName("::1"), "[::1]");
  EXPECT_EQ(*NormalizeVhostName("[0:0::1]"), "[::1]");
  EXPECT_EQ(*NormalizeVhostName("[2001:DB8::1]"), "[2001:db8::1]");
  EXPECT_EQ(*NormalizeVhostName("under_score.internal"), "under_score.internal");
}

TEST(VhostNameTest, RefusesBadNames) {
  for (const char* bad : {"", "*", "*.", "a.*.com", "*foo.com", "foo*.com", "*.*.com", "a..b", "example.com.",
                          "localhost:9099", "http://x", "a/b", "-a.com", "a-.com", "[::1", "[nothost]", "sp ace",
                          "ü.example"}) {
    EXPECT_FALSE(NormalizeVhostName(bad).ok()) << bad;
  }
  EXPECT_EQ(NormalizeVhostName(std::string(64, 'a') + ".com").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(NormalizeVhostName("*").status().message().find("is_default"), std::string_view::npos);
}

TEST(VhostNameTest, HostHeaderLosesPortCaseAndTrailingDot) {
  std::array<char, kMaxHostLength> buf;
  EXPECT_EQ(NormalizeHostHeader("GW.example.COM:9099", buf), "gw.example.com");
  EXPECT_EQ(NormalizeHostHeader("gw.example.com.", buf), "gw.example.com");
  EXPECT_EQ(NormalizeHostHeader("[::1]:9099", buf), "[::1]");
  EXPECT_EQ(NormalizeHostHeader("[::1]", buf), "[::1]");
  EXPECT_EQ(NormalizeHostHeader("127.0.0.1:80", buf), "127.0.0.1");
  EXPECT_EQ(NormalizeHostHeader(std::string(300, 'a'), buf), "");
}

// The decision table: every case of the matching rules.
TEST(VhostRouteTest, DecisionTable) {
  auto compiled = Compile(ParseSnapshot(Snapshot(R"pb(
    vhosts { name: "exact" aliases: "GW.example.com" aliases: "[::1]" aliases: "127.0.0.1" }
    vhosts { name: "wild" aliases: "*.example.com" }
    vhosts { name: "deeper" aliases: "*.b.example.com" }
    vhosts { name: "fallback" is_default: true }
  )pb", {"exact", "wild", "deeper", "fallback"})), FakeResolver());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const config::Snapshot& s = **compiled;
  struct Case {
    const char* host;
    const char* vhost;
  } cases[] = {
      {"exact", "exact"},                     // a vhost's name
      {"gw.example.com", "exact"},            // an alias
      {"GW.EXAMPLE.COM:9099", "exact"},       // case and port ignored
      {"gw.example.com.", "exact"},           // a trailing dot
      {"[::1]:9099", "exact"},                // an IPv6 literal with a port
      {"[::1]", "exact"},                     // ... and without
      {"127.0.0.1:9099", "exact"},            // IPv4
      {"a.example.com", "wild"},              // any other name under example.com: the wildcard
      {"x.y.example.com", "wild"},            // a wildcard covers any depth
      {"c.b.example.com", "deeper"},          // the longest wildcard wins
      {"C.B.Example.Com:1", "deeper"},        // ... case-insensitively
      {"b.example.com", "wild"},              // *.b.example.com never matches b.example.com itself
      {"example.com", "fallback"},            // nor does *.example.com match example.com
      {"xexample.com", "fallback"},           // the suffix matches at a label boundary only
      {"other.test", "fallback"},             // nothing matched: the default vhost
      {"[::2]:9099", "fallback"},
      {"", "fallback"},
  };
  for (const Case& c : cases) EXPECT_EQ(RoutedVhost(s, c.host), c.vhost) << "Host: " << c.host;
}

TEST(VhostRouteTest, NoDefaultAndNoMatchIs404) {
  auto compiled = Compile(ParseSnapshot(Snapshot(R"pb(
    vhosts { name: "gw.example.test" }
    vhosts { name: "wild" aliases: "*.example.test" }
  )pb", {"gw.example.test", "wild"})), FakeResolver());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ(RoutedVhost(**compiled, "gw.example.test:9099"), "gw.example.test");
  EXPECT_EQ(RoutedVhost(**compiled, "a.example.test"), "wild");
  RouteResult r = Route(**compiled, "example.test", "/c/1/x");
  EXPECT_EQ(r.status, RouteStatus::kNoApi);
  EXPECT_EQ(r.http_status(), 404);
  EXPECT_EQ(r.message(), "No matching API found to dispatch the request");
}

// An exact vhost with nothing deployed is still the match: no fall-through to a wildcard or the
// default (the operator named that host on purpose).
TEST(VhostRouteTest, AnExactMatchWithoutApisDoesNotFallThrough) {
  auto compiled = Compile(ParseSnapshot(Snapshot(R"pb(
    vhosts { name: "empty.example.com" }
    vhosts { name: "wild" aliases: "*.example.com" is_default: true }
  )pb", {"wild"})), FakeResolver());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ(RoutedVhost(**compiled, "empty.example.com"), "404");
  EXPECT_EQ(RoutedVhost(**compiled, "a.example.com"), "wild");
  EXPECT_EQ(RoutedVhost(**compiled, "unrelated"), "wild");
}

TEST(VhostRouteTest, OneDefaultPerEnvironment) {
  // Two environments may each have their default; the first one serves unmatched hosts.
  auto compiled = Compile(ParseSnapshot(Snapshot(R"pb(
    vhosts { name: "p" environment: "Production" is_default: true }
    vhosts { name: "s" environment: "Sandbox" is_default: true }
  )pb", {"p", "s"})), FakeResolver());
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_EQ(RoutedVhost(**compiled, "anything"), "p");
}

struct BadVhosts {
  const char* vhosts;
  const char* error;
};

TEST(VhostRouteTest, CompileRefusesBadNamesWithTheFieldPath) {
  const BadVhosts cases[] = {
      {"vhosts { name: 'a' environment: 'E' is_default: true } vhosts { name: 'b' environment: 'E' is_default: true }",
       "vhosts[1].is_default: environment 'E' already has the default vhost 'a'"},
      {"vhosts { name: '*' }", "vhosts[0].name: '*' alone is not a vhost name"},
      {"vhosts { name: 'a' aliases: 'a.*.com' }", "vhosts[0].aliases[0]: 'a.*.com' may hold '*' only"},
      {"vhosts { name: 'gw:9099' }", "vhosts[0].name: 'gw:9099' is not a host name"},
      {"vhosts { name: 'a' aliases: 'x.test' } vhosts { name: 'b' aliases: 'X.test' }",
       "vhosts[1].aliases[0]: 'x.test' already selects vhost 'a'"},
      {"vhosts { name: 'a' aliases: '*.t' } vhosts { name: 'b' aliases: '*.T' }",
       "vhosts[1].aliases[0]: '*.t' already selects vhost 'a'"},
      {"vhosts { name: 'a' } vhosts { name: 'a' }", "vhosts[1].name: duplicate vhost 'a'"},
  };
  for (const BadVhosts& c : cases) {
    auto compiled = Compile(ParseSnapshot(c.vhosts), FakeResolver());
    ASSERT_FALSE(compiled.ok()) << c.vhosts;
    EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(compiled.status().message().substr(0, strlen(c.error)), c.error) << compiled.status();
  }
}

}  // namespace
}  // namespace wsgate::engine::config
