// Unit tests for engine/policy/address.h: parsing, CIDR matching across families, allow/deny
// decisions and the client address behind trusted proxies.
#include "engine/policy/address.h"

#include <gtest/gtest.h>

namespace wsgate::engine::policy {
namespace {

IpAddress Ip(std::string_view s) {
  auto a = IpAddress::Parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(IpAddress::FromV4(0));
}

TEST(IpAddressTest, ParsesBothFamiliesAndMapsIpv4) {
  EXPECT_EQ(Ip("192.0.2.1").ToString(), "192.0.2.1");
  EXPECT_TRUE(Ip("192.0.2.1").is_v4());
  EXPECT_EQ(Ip("::ffff:192.0.2.1"), Ip("192.0.2.1"));  // a dual-stack listener's mapped peer
  EXPECT_EQ(Ip("[2001:db8::1]").ToString(), "2001:db8::1");
  EXPECT_FALSE(Ip("2001:db8::1").is_v4());
  EXPECT_EQ(IpAddress::FromV4(0x7f000001).ToString(), "127.0.0.1");
  for (std::string_view bad : {"", "1.2.3", "1.2.3.256", "::g", "[::1", "example.com", "1.2.3.4 ", "01.2.3.4/8"})
    EXPECT_FALSE(IpAddress::Parse(bad).has_value()) << bad;
}

TEST(CidrTest, MatchesPrefixesOfEitherFamily) {
  struct Case {
    const char* cidr;
    const char* address;
    bool contains;
  } cases[] = {
      {"10.0.0.0/8", "10.255.1.2", true},        {"10.0.0.0/8", "11.0.0.1", false},
      {"10.0.0.0/8", "::ffff:10.1.1.1", true},   {"192.0.2.7", "192.0.2.7", true},
      {"192.0.2.7", "192.0.2.8", false},         {"192.0.2.0/25", "192.0.2.127", true},
      {"192.0.2.0/25", "192.0.2.128", false},    {"0.0.0.0/0", "203.0.113.9", true},
      {"0.0.0.0/0", "2001:db8::1", false},       {"2001:db8::/32", "2001:db8:ffff::1", true},
      {"2001:db8::/32", "2001:db9::1", false},   {"::/0", "2001:db8::1", true},
      {"::/0", "10.0.0.1", true},                {"::1", "::1", true},
      {"2001:db8:0:1::/64", "2001:db8:0:1:ffff::9", true}, {"2001:db8:0:1::/64", "2001:db8:0:2::9", false},
  };
  for (const Case& c : cases) {
    auto cidr = Cidr::Parse(c.cidr);
    ASSERT_TRUE(cidr.ok()) << c.cidr << ": " << cidr.status();
    EXPECT_EQ(cidr->Contains(Ip(c.address)), c.contains) << c.cidr << " " << c.address;
  }
  EXPECT_EQ(Cidr::Parse("10.0.0.0/8")->ToString(), "10.0.0.0/8");
  EXPECT_EQ(Cidr::Parse("2001:db8::/32")->ToString(), "2001:db8::/32");
}

TEST(CidrTest, RefusesWhatIsProbablyATypo) {
  EXPECT_EQ(Cidr::Parse("10.0.0.1/8").status().message(), "'10.0.0.1/8' has host bits set below /8 (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(Cidr::Parse("10.0.0.0/33").status().message(), "'10.0.0.0/33': the prefix length must be 0-32");
  EXPECT_EQ(Cidr::Parse("::/129").status().message(), "'::/129': the prefix length must be 0-128");
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/").ok());
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/x").ok());
  EXPECT_EQ(Cidr::Parse("nope/8").status().message(), "'nope/8' is not an address or CIDR");
}

TEST(IpRulesTest, DenyBeatsAllowAndAnAllowListIsExclusive) {
  auto open = IpRules::Compile({}, {});
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty());
  EXPECT_TRUE(open->Allows(Ip("203.0.113.9")));

  auto rules = IpRules::Compile({"10.0.0.0/8", "2001:db8::/32"}, {"10.9.0.0/16"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_TRUE(rules->Allows(Ip("10.1.2.3")));
  EXPECT_FALSE(rules->Allows(Ip("10.9.0.1")));
  EXPECT_TRUE(rules->Allows(Ip("2001:db8::5")));
  EXPECT_FALSE(rules->Allows(Ip("203.0.113.9")));

  auto deny_only = IpRules::Compile({}, {"203.0.113.0/24"});
  EXPECT_FALSE(deny_only->Allows(Ip("203.0.113.9")));
  EXPECT_TRUE(deny_only->Allows(Ip("198.51.100.1")));

  EXPECT_EQ(IpRules::Compile({"10.0.0.0/8"}, {"1.2.3.4", "10.0.0.300"}).status().message(),
            "deny[1]: '10.0.0.300' is not an address or CIDR");
}

TEST(ClientAddressTest, WalksForwardedForOnlyFromTrustedProxies) {
  std::vector<Cidr> trusted = {*Cidr::Parse("10.0.0.0/8"), *Cidr::Parse("::1")};
  // An untrusted peer's header is ignored: anyone can send one.
  EXPECT_EQ(ClientAddress(Ip("203.0.113.9"), {"1.1.1.1"}, trusted).ToString(), "203.0.113.9");
  // Trusted peer: the rightmost untrusted hop is the client (earlier hops are the client's claims).
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), {"6.6.6.6, 198.51.100.7"}, trusted).ToString(), "198.51.100.7");
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), {"6.6.6.6, 198.51.100.7, 10.1.1.1"}, trusted).ToString(), "198.51.100.7");
  // Several headers are one list, in order.
  EXPECT_EQ(ClientAddress(Ip("::1"), {"198.51.100.7", "10.1.1.1"}, trusted).ToString(), "198.51.100.7");
  // Every hop trusted: the leftmost. No header: the peer.
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), {"10.3.3.3, 10.1.1.1"}, trusted).ToString(), "10.3.3.3");
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), {}, trusted).ToString(), "10.0.0.2");
  // Garbage ends the walk at the last good hop (the proxy that appended it).
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), {"198.51.100.7, unknown, 10.1.1.1"}, trusted).ToString(), "10.1.1.1");
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), {"[2001:db8::7]"}, trusted).ToString(), "2001:db8::7");
  // No trusted proxies configured: always the peer.
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), {"198.51.100.7"}, {}).ToString(), "10.0.0.2");
}

}  // namespace
}  // namespace wsgate::engine::policy
