// Integration tests for the access rules at the upgrade (issue 14): the Origin allow-list per API
// with the environment's default, client-address allow/deny lists, and X-Forwarded-For believed
// only from trusted proxies. Each refusal is checked by its exact status and body, against the
// real engine (two shards) in front of the real chat backend.
#include <gtest/gtest.h>

#include "tests/support/engine_fixture.h"

namespace wsgate::testing {
namespace {

class EngineAccessTest : public EngineFixture {
 protected:
  // The answer to an upgrade with `extra` headers plus a valid token.
  Refusal Upgrade(const std::string& path, std::vector<std::string> extra) {
    extra.push_back(Bearer(Token()));
    return Refuse(path, extra);
  }
};

TEST_F(EngineAccessTest, OriginAllowListPerApiWithTheEnvironmentDefault) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_access()->add_allowed_origins("https://app.example.com");
  s.mutable_apis(0)->mutable_access()->add_allowed_origins("https://*.example.org");
  Apply(s);
  const std::string path = "/chats/1.0.0/notifications";
  EXPECT_EQ(Upgrade(path, {"Origin: https://app.example.com"}).status, 101);
  EXPECT_EQ(Upgrade(path, {"Origin: https://chat.example.org"}).status, 101);
  EXPECT_EQ(Upgrade(path, {}).status, 101);  // no Origin (wscat, a backend): allowed by default
  auto evil = Upgrade(path, {"Origin: https://evil.example"});
  EXPECT_EQ(evil.status, 403);
  EXPECT_EQ(evil.body, "Forbidden: origin 'https://evil.example' is not allowed for this API");
  EXPECT_EQ(Upgrade(path, {"Origin: https://example.org"}).status, 403);  // the bare domain is not a sub-domain
  // What the client sent is echoed printable and bounded.
  auto odd = Upgrade(path, {"Origin: https://" + std::string(300, 'a')});
  EXPECT_EQ(odd.status, 403);
  EXPECT_LT(odd.body.size(), 220u) << odd.body;

  // The environment's default (EngineSettings.access) applies to APIs without their own rules;
  // here it requires an Origin.
  s = BaseSnapshot(3);
  s.mutable_settings()->mutable_access()->set_require_origin(true);
  s.mutable_settings()->mutable_access()->add_allowed_origins("https://portal.example.com");
  Apply(s);
  auto absent = Upgrade(path, {});
  EXPECT_EQ(absent.status, 403);
  EXPECT_EQ(absent.body, "Forbidden: an Origin header is required for this API");
  EXPECT_EQ(Upgrade(path, {"Origin: https://portal.example.com"}).status, 101);
  EXPECT_EQ(Upgrade(path, {"Origin: https://app.example.com"}).status, 403);
  // An API's own list replaces the environment's.
  s.set_version(4);
  s.mutable_apis(0)->mutable_access()->add_allowed_origins("https://app.example.com");
  Apply(s);
  EXPECT_EQ(Upgrade(path, {"Origin: https://app.example.com"}).status, 101);
  EXPECT_EQ(Upgrade(path, {"Origin: https://portal.example.com"}).status, 403);
  EXPECT_EQ(Upgrade(path, {}).status, 101);  // the API's rules do not require one

  auto stats = engine_->CollectStats();
  EXPECT_EQ(stats.access_refusals, 6u);
}

TEST_F(EngineAccessTest, ClientAddressRulesAndTrustedProxies) {
  const std::string path = "/chats/1.0.0/notifications";
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_access()->add_ip_deny("127.0.0.0/8");
  Apply(s);
  auto denied = Upgrade(path, {});
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body, "Forbidden: client address 127.0.0.1 is not allowed");

  // An untrusted peer's X-Forwarded-For changes nothing.
  s = BaseSnapshot(3);
  s.mutable_settings()->mutable_access()->add_ip_allow("203.0.113.0/24");
  Apply(s);
  EXPECT_EQ(Upgrade(path, {"X-Forwarded-For: 203.0.113.9"}).status, 403);

  // Behind a trusted proxy (the test client at 127.0.0.1), the forwarded client is checked.
  s.set_version(4);
  s.mutable_settings()->add_trusted_proxies("127.0.0.1");
  Apply(s);
  EXPECT_EQ(Upgrade(path, {"X-Forwarded-For: 198.51.100.1, 203.0.113.9"}).status, 101);
  auto outside = Upgrade(path, {"X-Forwarded-For: 203.0.113.9, 198.51.100.1"});
  EXPECT_EQ(outside.status, 403);
  EXPECT_EQ(outside.body, "Forbidden: client address 198.51.100.1 is not allowed");
  // Environment and API rules must both allow.
  s.set_version(5);
  s.mutable_apis(0)->mutable_access()->add_ip_deny("203.0.113.9");
  Apply(s);
  EXPECT_EQ(Upgrade(path, {"X-Forwarded-For: 203.0.113.9"}).status, 403);
  EXPECT_EQ(Upgrade(path, {"X-Forwarded-For: 203.0.113.10"}).status, 101);
}

TEST_F(EngineAccessTest, BadRulesRejectThePushNamingTheFieldAndKeepTheLastGoodConfig) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_access()->add_allowed_origins("example.com");
  auto r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "apis[0].access.allowed_origins[0]: 'example.com' needs a scheme, e.g. https://example.com");
  s = BaseSnapshot(2);
  s.mutable_settings()->add_trusted_proxies("10.0.0.1/8");
  r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "settings.trusted_proxies[0]: '10.0.0.1/8' has host bits set below /8 (did you mean 10.0.0.0/8?)");
  s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_access()->add_ip_allow("10.0.0.300");
  r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "apis[0].access.ip_allow[0]: '10.0.0.300' is not an address or CIDR");
  EXPECT_EQ(Upgrade("/chats/1.0.0/notifications", {}).status, 101);  // the last good config serves
}

}  // namespace
}  // namespace wsgate::testing
