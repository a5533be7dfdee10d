// Unit tests for the OAuth2 endpoint's logic (agent/oauth_server.h HandleOAuthRequest) on a real
// catalog, and for the rate-limited audit log: RFC 6749 answers as JSON, admin-granted scopes,
// and what is logged on a failed client authentication.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "agent/audit_log.h"
#include "agent/failure_limiter.h"
#include "agent/json.h"
#include "agent/oauth_server.h"
#include "engine/common/base64.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

constexpr const char* kForm = "application/x-www-form-urlencoded";

class OAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    char tmpl[] = "/tmp/wsgate-oauth-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), CatalogOptions());
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *std::move(c);
    v1::CreateApplicationRequest app;
    app.set_name("App");
    app.add_scopes("chat:read");
    ASSERT_TRUE(catalog_->CreateApplication(app).ok());
    auto keys = catalog_->GenerateKeys("App", v1::PRODUCTION, false);
    ASSERT_TRUE(keys.ok());
    std::string pair = keys->consumer_key() + ":" + keys->consumer_secret();
    std::string b64 = common::Base64UrlEncode(pair);  // no '-' or '_' in hex, so also standard base64
    basic_ = "Basic " + b64;
    key_ = keys->consumer_key();
  }
  void TearDown() override {
    catalog_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  HttpAnswer Token(const std::string& body, const std::string& authorization) {
    return HandleOAuthRequest(*catalog_, "POST", "/oauth2/token", authorization, kForm, body);
  }
  static Json Body(const HttpAnswer& a) { return Json::parse(a.body, nullptr, false); }

  std::string dir_, basic_, key_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(OAuthTest, GrantsATokenWithGrantedScopesOnly) {
  HttpAnswer ok = Token("grant_type=client_credentials&scope=chat:read", basic_);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["token_type"], "Bearer");
  EXPECT_EQ(Body(ok)["scope"], "chat:read");
  EXPECT_TRUE(ok.audit.empty());

  HttpAnswer self = Token("grant_type=client_credentials&scope=chat:read%20admin", basic_);
  EXPECT_EQ(self.status, 400);
  EXPECT_EQ(Body(self)["error"], "invalid_scope");
  EXPECT_NE(Body(self)["error_description"].get<std::string>().find("'admin'"), std::string::npos) << self.body;
}

TEST_F(OAuthTest, FailedClientAuthenticationIsAuditedWithoutTheSecret) {
  HttpAnswer wrong = Token("grant_type=client_credentials&client_id=" + key_ + "&client_secret=s3cr3t", "");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Body(wrong)["error"], "invalid_client");
  EXPECT_NE(wrong.audit.find(key_), std::string::npos) << wrong.audit;
  EXPECT_EQ(wrong.audit.find("s3cr3t"), std::string::npos);
  HttpAnswer none = Token("grant_type=client_credentials", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_FALSE(none.audit.empty());
  // A client_id with quotes and control characters is logged as its safe characters only.
  HttpAnswer odd = Token("grant_type=client_credentials&client_id=a%22b%0Ac&client_secret=x", "");
  EXPECT_EQ(odd.status, 401);
  EXPECT_NE(odd.audit.find("client_id 'abc'"), std::string::npos) << odd.audit;
}

TEST_F(OAuthTest, ErrorsAreJsonWhateverTheClientSent) {
  HttpAnswer grant = Token("grant_type=%22%5C%01%FF", basic_);  // quote, backslash, control, not UTF-8
  EXPECT_EQ(grant.status, 400);
  Json body = Body(grant);
  ASSERT_TRUE(body.is_object()) << grant.body;
  EXPECT_EQ(body["error"], "unsupported_grant_type");
  EXPECT_EQ(HandleOAuthRequest(*catalog_, "GET", "/nope", "", "", "").status, 404);
  EXPECT_EQ(HandleOAuthRequest(*catalog_, "GET", "/oauth2/token", "", "", "").status, 405);
  HttpAnswer jwks = HandleOAuthRequest(*catalog_, "GET", "/.well-known/jwks.json", "", "", "");
  EXPECT_EQ(Body(jwks)["keys"][0]["kty"], "RSA") << jwks.body;
}

TEST_F(OAuthTest, RepeatedFailuresLockTheClientThenTheAddressUntilTheWindowEnds) {
  FailureLimiter by_client({.max_failures = 3, .window = std::chrono::seconds(60)});
  FailureLimiter by_address({.max_failures = 5, .window = std::chrono::seconds(60)});
  auto t0 = FailureLimiter::Clock::time_point() + std::chrono::hours(1);
  auto token = [&](const std::string& body, const std::string& auth, std::string_view peer, auto now) {
    return HandleOAuthRequest(*catalog_, "POST", "/oauth2/token", auth, kForm, body,
                              AuthFailureLimits{&by_client, &by_address, peer, now});
  };
  const std::string wrong = "grant_type=client_credentials&client_id=" + key_ + "&client_secret=guess";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(token(wrong, "", "10.0.0.1", t0).status, 401);
  // The client is locked: even its right secret, from another address, gets 429 with Retry-After.
  HttpAnswer locked = token("grant_type=client_credentials", basic_, "10.0.0.2", t0 + std::chrono::seconds(20));
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_EQ(Body(locked)["error"], "temporarily_unavailable");
  ASSERT_EQ(locked.headers.back().first, "Retry-After");
  EXPECT_EQ(locked.headers.back().second, "40");
  // When the window has passed, the right secret works again.
  EXPECT_EQ(token("grant_type=client_credentials", basic_, "10.0.0.2", t0 + std::chrono::seconds(60)).status, 200);

  // Guessing many client ids from one address locks the address (malformed attempts count too).
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(token("grant_type=client_credentials&client_id=k" + std::to_string(i) + "&client_secret=x", "",
                    "10.0.0.9", t0 + std::chrono::seconds(61)).status, 401);
  EXPECT_EQ(token("grant_type=client_credentials", "", "10.0.0.9", t0 + std::chrono::seconds(61)).status, 401);
  HttpAnswer address = token("grant_type=client_credentials", basic_, "10.0.0.9", t0 + std::chrono::seconds(62));
  EXPECT_EQ(address.status, 429);
  EXPECT_NE(Body(address)["error_description"].get<std::string>().find("address"), std::string::npos);
  // Other addresses are not affected.
  EXPECT_EQ(token("grant_type=client_credentials", basic_, "10.0.0.3", t0 + std::chrono::seconds(62)).status, 200);
}

TEST(FailureLimiterTest, CountsInWindowsAndBoundsItsMemory) {
  FailureLimiter limiter({.max_failures = 2, .window = std::chrono::seconds(10), .max_keys = 3});
  auto t0 = FailureLimiter::Clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(limiter.RetryAfter("a", t0), 0);
  limiter.RecordFailure("a", t0);
  EXPECT_EQ(limiter.RetryAfter("a", t0), 0);
  limiter.RecordFailure("a", t0 + std::chrono::milliseconds(500));
  EXPECT_EQ(limiter.RetryAfter("a", t0 + std::chrono::milliseconds(500)), 10);  // rounded up
  EXPECT_EQ(limiter.RetryAfter("a", t0 + std::chrono::milliseconds(9500)), 1);
  EXPECT_EQ(limiter.RetryAfter("a", t0 + std::chrono::seconds(10)), 0);
  // A failure after the window starts a new one.
  limiter.RecordFailure("a", t0 + std::chrono::seconds(11));
  EXPECT_EQ(limiter.RetryAfter("a", t0 + std::chrono::seconds(11)), 0);
  // At max_keys, expired windows go first, then the oldest.
  limiter.RecordFailure("b", t0 + std::chrono::seconds(12));
  limiter.RecordFailure("c", t0 + std::chrono::seconds(13));
  limiter.RecordFailure("d", t0 + std::chrono::seconds(14));  // evicts "a" (the oldest window)
  EXPECT_EQ(limiter.tracked_keys(), 3u);
  limiter.RecordFailure("b", t0 + std::chrono::seconds(14));
  EXPECT_GT(limiter.RetryAfter("b", t0 + std::chrono::seconds(14)), 0);
  limiter.RecordFailure("e", t0 + std::chrono::seconds(30));  // b, c, d expired: all dropped
  EXPECT_EQ(limiter.tracked_keys(), 1u);
}

TEST(RateLimitedLogTest, OneLinePerIntervalThenCountsTheSuppressed) {
  RateLimitedLog log("test event", std::chrono::milliseconds(200));
  EXPECT_TRUE(log.Warn("first"));
  int written = 0;
  for (int i = 0; i < 1000; ++i) written += log.Warn("flood");
  EXPECT_EQ(written, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_TRUE(log.Warn("after the interval"));  // says "(1000 more since the last line)"
  EXPECT_EQ(LoggableId("ab\"c\n d-1.x:y_z"), "abcd-1.x:y_z");
  EXPECT_EQ(LoggableId(std::string(100, 'k')).size(), 64u);
}

}  // namespace
}  // namespace wsgate::agent
