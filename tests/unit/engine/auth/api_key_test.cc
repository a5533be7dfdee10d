// Unit tests for engine/auth/api_key.h (issue 14 item 4): the API key decision table at the
// handshake (header, query, both, a bearer token too, expired, unknown, restricted by IP, origin
// and API, the scheme not enabled, the shared admission) and its re-check on live sockets
// (revocation, expiry), plus the snapshot fields it compiles from.
#include "engine/auth/api_key.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::auth {
namespace {

using config::testing::FakeResolver;
using config::testing::ParseSnapshot;

constexpr int64_t kNow = 1900000000;

std::string Hash(const std::string& text) {
  tls::Sha256Digest d = tls::Sha256(text);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// Three APIs: "keys" accepts only API keys, "both" accepts tokens and keys, "tokens" only tokens.
constexpr const char* kSnapshot = R"pb(
  version: 1
  token_validation { clock_skew_s: 30 }
  vhosts { name: "localhost" }
  apis {
    id: "keys" name: "Keys" context: "/keys" version: "1.0.0" vhosts: "localhost" state: PUBLISHED
    production_endpoint { url: "ws://localhost:8080" } sandbox_endpoint { url: "ws://localhost:8081" }
    security_schemes: "api_key"
    topics { name: "/notifications" }
    topics { name: "/admin" scopes: "chat:admin" }
    topics { name: "/public" unsecured: true }
  }
  apis {
    id: "both" name: "Both" context: "/both" version: "1.0.0" vhosts: "localhost" state: PUBLISHED
    production_endpoint { url: "ws://localhost:8080" }
    security_schemes: "oauth2" security_schemes: "api_key"
    topics { name: "/*" }
  }
  apis {
    id: "tokens" name: "Tokens" context: "/tokens" version: "1.0.0" vhosts: "localhost" state: PUBLISHED
    production_endpoint { url: "ws://localhost:8080" }
    topics { name: "/*" }
  }
  applications { id: "app1" name: "ChatApp" }
  applications { id: "app2" name: "Blocked" blocked: true }
  applications { id: "app3" name: "Unsubscribed" }
  subscriptions { id: "sub-keys" application_id: "app1" api_id: "keys" }
  subscriptions { id: "sub-both" application_id: "app1" api_id: "both" }
  subscriptions { id: "sub-tokens" application_id: "app1" api_id: "tokens" }
  subscriptions { id: "sub-blocked" application_id: "app2" api_id: "keys" }
  consumer_keys { client_id: "prod" application_id: "app1" key_type: PRODUCTION }
  opaque_tokens { client_id: "prod" expires_unix_s: 1900003600 }
  api_keys { id: "k-prod" application_id: "app1" key_type: PRODUCTION }
  api_keys { id: "k-sand" application_id: "app1" key_type: SANDBOX expires_unix_s: 1900003600 }
  api_keys { id: "k-expired" application_id: "app1" expires_unix_s: 1899999999 }
  api_keys { id: "k-ip" application_id: "app1" ip_ranges: "10.0.0.0/8" ip_ranges: "2001:db8::/32" }
  api_keys { id: "k-origin" application_id: "app1" origins: "https://*.example.com" }
  api_keys { id: "k-api" application_id: "app1" apis: "both" }
  api_keys { id: "k-blocked" application_id: "app2" }
  api_keys { id: "k-nosub" application_id: "app3" }
)pb";

class ApiKeyTest : public ::testing::Test {
 protected:
  void SetUp() override { snapshot_ = Compile(true); }

  // The snapshot, with every key's sha256 the hash of its id ("k-prod" is the key "k-prod").
  std::shared_ptr<const config::Snapshot> Compile(bool with_keys) {
    v1::Snapshot s = ParseSnapshot(kSnapshot);
    s.mutable_opaque_tokens(0)->set_sha256(Hash("opaque-token"));
    for (auto& k : *s.mutable_api_keys()) k.set_sha256(Hash(k.id()));
    if (!with_keys) s.clear_api_keys();
    auto compiled = config::Compile(s, FakeResolver());
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    return compiled.ok() ? *compiled : nullptr;
  }

  AuthResult Auth(const std::string& path, const Credentials& c, int64_t now = kNow) {
    route_ = config::Route(*snapshot_, "localhost", path);
    EXPECT_EQ(route_.status, config::RouteStatus::kOk) << path;
    return auth_.Authenticate(*snapshot_, route_, c, now);
  }
  static Credentials Key(const std::string& key, const std::string& client = "192.0.2.1") {
    Credentials c;
    c.api_key = key;
    c.has_api_key = true;
    c.client = *policy::IpAddress::Parse(client);
    return c;
  }

  std::shared_ptr<const config::Snapshot> snapshot_;
  config::RouteResult route_;
  Authenticator auth_;
};

TEST_F(ApiKeyTest, AValidKeyIsAdmittedLikeAToken) {
  AuthResult r = Auth("/keys/1.0.0/notifications", Key("k-prod"));
  ASSERT_EQ(r.status, 0) << r.message;
  EXPECT_EQ(r.identity.application_id, "app1");
  EXPECT_EQ(r.identity.subscription_id, "sub-keys");
  EXPECT_EQ(r.identity.key_type, v1::PRODUCTION);
  EXPECT_EQ(r.identity.api_key_sha256, Hash("k-prod"));
  EXPECT_EQ(r.identity.expires_unix_s, 0);
  EXPECT_TRUE(r.identity.jti.empty());
  ASSERT_NE(r.endpoint, nullptr);
  EXPECT_EQ(r.endpoint->port, 8080);

  // The key type selects the endpoint; the expiry goes with the identity (the socket's timer).
  r = Auth("/keys/1.0.0/notifications", Key("k-sand"));
  ASSERT_EQ(r.status, 0) << r.message;
  EXPECT_EQ(r.identity.key_type, v1::SANDBOX);
  EXPECT_EQ(r.identity.expires_unix_s, 1900003600);
  EXPECT_EQ(r.endpoint->port, 8081);
}

TEST_F(ApiKeyTest, UnknownAndExpiredKeysAre401) {
  AuthResult r = Auth("/keys/1.0.0/notifications", Key("k-unknown"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "Invalid Credentials");
  r = Auth("/keys/1.0.0/notifications", Key(""));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "Invalid Credentials");
  r = Auth("/keys/1.0.0/notifications", Key("k-expired"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "Invalid Credentials: API key expired");
  r = Auth("/keys/1.0.0/notifications", Key("k-sand"), 1900003600);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "Invalid Credentials: API key expired");
}

TEST_F(ApiKeyTest, TheSharedAdmissionApplies) {
  AuthResult r = Auth("/keys/1.0.0/notifications", Key("k-blocked"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "Blocked from accessing the API");
  r = Auth("/keys/1.0.0/notifications", Key("k-nosub"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "User is NOT authorized to access the Resource. API Subscription validation failed.");
  // A key holds no scopes: a topic that requires one refuses it.
  r = Auth("/keys/1.0.0/admin", Key("k-prod"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "User NOT authorized to access the resource");
}

TEST_F(ApiKeyTest, RestrictionsAre403NamingWhat) {
  AuthResult r = Auth("/keys/1.0.0/notifications", Key("k-ip", "192.0.2.9"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "Forbidden: this API key is not allowed from address 192.0.2.9");
  EXPECT_EQ(Auth("/keys/1.0.0/notifications", Key("k-ip", "10.1.2.3")).status, 0);
  EXPECT_EQ(Auth("/keys/1.0.0/notifications", Key("k-ip", "::ffff:10.1.2.3")).status, 0);
  EXPECT_EQ(Auth("/keys/1.0.0/notifications", Key("k-ip", "2001:db8::7")).status, 0);
  r = Auth("/keys/1.0.0/notifications", Key("k-ip", "2001:db9::7"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "Forbidden: this API key is not allowed from address 2001:db9::7");

  Credentials c = Key("k-origin");
  r = Auth("/keys/1.0.0/notifications", c);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "Forbidden: this API key is allowed only with an Origin or Referer header");
  c.origin = "https://evil.example.org";
  r = Auth("/keys/1.0.0/notifications", c);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "Forbidden: this API key is not allowed from origin https://evil.example.org");
  c.origin = "https://app.example.com";
  EXPECT_EQ(Auth("/keys/1.0.0/notifications", c).status, 0);

  r = Auth("/keys/1.0.0/notifications", Key("k-api"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.message, "Forbidden: this API key is not allowed for API Keys:1.0.0");
  EXPECT_EQ(Auth("/both/1.0.0/x", Key("k-api")).status, 0);
}

TEST_F(ApiKeyTest, SchemesDecideWhichCredentialCounts) {
  Credentials token;
  token.authorization = "Bearer opaque-token";
  Credentials none;

  // api_key only: a bearer token is refused, nothing is 401 naming the API key; unsecured topics
  // stay open.
  AuthResult r = Auth("/keys/1.0.0/notifications", token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "Invalid Credentials: this API accepts only API keys (the apikey header or ?apikey=)");
  r = Auth("/keys/1.0.0/notifications", none);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "No apikey header or apikey query parameter present");
  r = Auth("/keys/1.0.0/public", none);
  EXPECT_EQ(r.status, 0) << r.message;
  EXPECT_TRUE(r.identity.anonymous);

  // oauth2 only: an API key is ignored like any unknown header.
  r = Auth("/tokens/1.0.0/x", Key("k-prod"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "No Authorization Header or access_token query parameter present");
  Credentials token_and_key = Key("k-prod");
  token_and_key.authorization = "Bearer opaque-token";
  r = Auth("/tokens/1.0.0/x", token_and_key);
  EXPECT_EQ(r.status, 0) << r.message;
  EXPECT_TRUE(r.identity.api_key_sha256.empty());

  // Both: either works alone; with both, the bearer token decides (WSO2 tries OAuth2 first).
  EXPECT_EQ(Auth("/both/1.0.0/x", Key("k-prod")).status, 0);
  EXPECT_EQ(Auth("/both/1.0.0/x", token).status, 0);
  r = Auth("/both/1.0.0/x", token_and_key);
  EXPECT_EQ(r.status, 0) << r.message;
  EXPECT_EQ(r.identity.opaque_sha256, Hash("opaque-token"));
  EXPECT_TRUE(r.identity.api_key_sha256.empty());
  Credentials bad_token_good_key = Key("k-prod");
  bad_token_good_key.authorization = "Bearer not-a-token";
  r = Auth("/both/1.0.0/x", bad_token_good_key);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "Invalid Credentials");
  Credentials query_token_bad_key = Key("k-unknown");
  query_token_bad_key.access_token = "opaque-token";
  query_token_bad_key.has_query_token = true;
  EXPECT_EQ(Auth("/both/1.0.0/x", query_token_bad_key).status, 0);
  r = Auth("/both/1.0.0/x", none);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "No Authorization Header or access_token query parameter present");
}

TEST_F(ApiKeyTest, RevocationAndExpiryCloseLiveSockets4001) {
  AuthResult r = Auth("/keys/1.0.0/notifications", Key("k-sand"));
  ASSERT_EQ(r.status, 0) << r.message;
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "keys", r.identity, kNow), 0);
  // Expiry: the one rule every credential has (with the clock skew).
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "keys", r.identity, 1900003600 + 29), 0);
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "keys", r.identity, 1900003600 + 30), 4001);
  // Revocation: a snapshot without the key.
  std::shared_ptr<const config::Snapshot> revoked = Compile(false);
  EXPECT_EQ(Authenticator::Recheck(*revoked, "keys", r.identity, kNow), 4001);
  EXPECT_FALSE(ApiKeyStillListed(*revoked, r.identity));
  // A key whose hash is listed for another application does not keep the socket.
  Identity other = r.identity;
  other.application_id = "app3";
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "keys", other, kNow), 4001);
}

TEST(RefererOriginTest, SchemeAndAuthorityOnly) {
  EXPECT_EQ(RefererOrigin("https://app.example.com/page?q=1#f"), "https://app.example.com");
  EXPECT_EQ(RefererOrigin("http://localhost:3000"), "http://localhost:3000");
  EXPECT_EQ(RefererOrigin("https://a.example?x"), "https://a.example");
  EXPECT_EQ(RefererOrigin("/relative/path"), std::nullopt);
  EXPECT_EQ(RefererOrigin("https://"), std::nullopt);
  EXPECT_EQ(RefererOrigin(""), std::nullopt);
}

// The error Compile gives for the test snapshot after `edit`.
template <typename Edit>
std::string CompileError(Edit edit) {
  v1::Snapshot s = ParseSnapshot(kSnapshot);
  s.mutable_opaque_tokens(0)->set_sha256(Hash("opaque-token"));
  for (auto& k : *s.mutable_api_keys()) k.set_sha256(Hash(k.id()));
  edit(s);
  auto c = config::Compile(s, FakeResolver());
  return c.ok() ? "compiled" : std::string(c.status().message());
}

TEST(ApiKeyCompileTest, BadInputNamesTheField) {
  EXPECT_EQ(CompileError([](v1::Snapshot&) {}), "compiled");
  EXPECT_EQ(CompileError([](v1::Snapshot& s) { s.mutable_api_keys(1)->set_sha256("short"); }),
            "api_keys[1].sha256: must be 32 bytes");
  EXPECT_EQ(CompileError([](v1::Snapshot& s) { s.mutable_api_keys(1)->set_sha256(Hash("k-prod")); }),
            "api_keys[1].sha256: duplicate key");
  EXPECT_EQ(CompileError([](v1::Snapshot& s) { s.mutable_api_keys(3)->add_ip_ranges("10.0.0.300"); })
                .rfind("api_keys[3].ip_ranges: allow[2]: ", 0),
            0u);
  EXPECT_EQ(CompileError([](v1::Snapshot& s) { s.mutable_api_keys(4)->add_origins("example.com"); })
                .rfind("api_keys[4].origins[1]: ", 0),
            0u);
  EXPECT_EQ(CompileError([](v1::Snapshot& s) { s.mutable_api_keys(0)->set_application_id("nope"); }),
            "api_keys[0].application_id: unknown application 'nope'");
  EXPECT_EQ(CompileError([](v1::Snapshot& s) { s.mutable_apis(0)->add_security_schemes("basic"); }),
            "apis[0].security_schemes[1]: unknown scheme 'basic' (oauth2 or api_key)");
}

}  // namespace
}  // namespace wsgate::engine::auth
