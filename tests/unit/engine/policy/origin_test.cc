// Unit tests for engine/policy/origin.h: the Origin allow-list's decision table.
#include "engine/policy/origin.h"

#include <gtest/gtest.h>

namespace wsgate::engine::policy {
namespace {

TEST(OriginRulesTest, DecisionTable) {
  auto rules = OriginRules::Compile({"https://app.example.com", "https://*.example.org", "http://localhost:3000", "null"},
                                    /*allow_absent=*/true);
  ASSERT_TRUE(rules.ok()) << rules.status();
  struct Case {
    std::optional<std::string_view> origin;
    bool allowed;
  } cases[] = {
      {"https://app.example.com", true},
      {"HTTPS://APP.EXAMPLE.COM", true},          // case-insensitive
      {"https://app.example.com:443", true},      // the default port is implied
      {"https://app.example.com:8443", false},    // another port is another origin
      {"http://app.example.com", false},          // another scheme
      {"https://evil.example.com", false},
      {"https://app.example.com.evil.net", false},
      {"https://a.example.org", true},
      {"https://a.b.example.org", true},
      {"https://example.org", false},             // a wildcard never matches the bare domain
      {"https://badexample.org", false},
      {"http://a.example.org", false},
      {"http://localhost:3000", true},
      {"http://localhost", false},
      {"null", true},
      {"not an origin", false},
      {"https://app.example.com/path", false},
      {std::nullopt, true},                       // wscat, backends: no Origin
  };
  for (const Case& c : cases)
    EXPECT_EQ(rules->Allows(c.origin), c.allowed) << (c.origin ? *c.origin : "(absent)");
}

TEST(OriginRulesTest, EmptyListAndStarAllowEveryOriginAbsentIsSeparate) {
  auto open = OriginRules::Compile({}, true);
  EXPECT_TRUE(open->empty());
  EXPECT_TRUE(open->Allows("https://anything.test"));
  auto any_but_absent = OriginRules::Compile({"*"}, false);
  EXPECT_FALSE(any_but_absent->empty());
  EXPECT_TRUE(any_but_absent->Allows("https://anything.test"));
  EXPECT_FALSE(any_but_absent->Allows(std::nullopt));
  auto strict = OriginRules::Compile({"https://app.example.com"}, false);
  EXPECT_FALSE(strict->Allows(std::nullopt));
  EXPECT_FALSE(strict->Allows("null"));
}

TEST(OriginRulesTest, BadPatternsNameTheEntry) {
  EXPECT_EQ(OriginRules::Compile({"https://ok.test", "example.com"}, true).status().message(),
            "origins[1]: 'example.com' needs a scheme, e.g. https://example.com");
  EXPECT_EQ(OriginRules::Compile({"https://a.test/app"}, true).status().message(),
            "origins[0]: 'https://a.test/app' is not an origin (scheme://host[:port], no path)");
  EXPECT_EQ(OriginRules::Compile({"https://a.*.test"}, true).status().message(),
            "origins[0]: 'https://a.*.test' may hold '*' only as its first label (https://*.example.com)");
  EXPECT_FALSE(OriginRules::Compile({"https://*."}, true).ok());
  EXPECT_FALSE(OriginRules::Compile({"https://a.test:x"}, true).ok());
  // A trailing slash in configuration is tolerated.
  EXPECT_TRUE(OriginRules::Compile({"https://a.test/"}, true)->Allows("https://a.test"));
}

}  // namespace
}  // namespace wsgate::engine::policy
