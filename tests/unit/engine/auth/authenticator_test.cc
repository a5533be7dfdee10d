// Unit tests for engine/auth: JWT vectors (every algorithm, alg confusion, expiry, wrong kid,
// bad signature), opaque tokens, and the subscription / key type / scope decision.
#include "engine/auth/authenticator.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::auth {
namespace {

using config::testing::FakeResolver;
using config::testing::ParseSnapshot;
using tls::PrivateKey;
using tls::SignatureAlgorithm;

constexpr int64_t kNow = 1900000000;

std::string MakeJwt(const PrivateKey& key, const std::string& kid, const std::string& alg, const std::string& payload) {
  std::string input = Base64UrlEncode(absl::StrCat(R"({"typ":"JWT","alg":")", alg, R"(","kid":")", kid, R"("})")) +
                      "." + Base64UrlEncode(payload);
  return input + "." + Base64UrlEncode(key.Sign(input));
}

std::string Claims(const std::string& client_id, int64_t exp, const std::string& extra = "") {
  return absl::StrCat(R"({"iss":"wsgate","sub":"admin","aud":["wsgate-gateway"],"client_id":")", client_id,
                      R"(","exp":)", exp, R"(,"iat":)", kNow - 10, R"(,"jti":"jti-)", client_id, R"(")", extra, "}");
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa_ = *PrivateKey::Generate(SignatureAlgorithm::kRs256);
    ec_ = *PrivateKey::Generate(SignatureAlgorithm::kEs256);
    ed_ = *PrivateKey::Generate(SignatureAlgorithm::kEdDsa);
    Load("");
  }

  void Load(const std::string& extra) {
    std::string opaque_hash;
    auto digest = tls::Sha256("opaque-token-1");
    opaque_hash.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
    v1::Snapshot s = ParseSnapshot(absl::StrCat(R"pb(
      version: 1
      token_validation { issuer: "wsgate" audiences: "wsgate-gateway" clock_skew_s: 30 }
      vhosts { name: "localhost" }
      apis {
        id: "chats" name: "Chats" context: "/chats" version: "1.0.0" vhosts: "localhost" state: PUBLISHED
        production_endpoint { url: "ws://localhost:8080" }
        topics { name: "/notifications" }
        topics { name: "/admin" scopes: "chat:admin" }
        topics { name: "/public" unsecured: true }
      }
      applications { id: "app1" name: "ChatApp" }
      applications { id: "app2" name: "Blocked" blocked: true }
      applications { id: "app3" name: "Unsubscribed" }
      subscriptions { id: "sub1" application_id: "app1" api_id: "chats" plan: "AsyncGold" }
      subscriptions { id: "sub2" application_id: "app2" api_id: "chats" }
      consumer_keys { client_id: "prod" application_id: "app1" key_type: PRODUCTION }
      consumer_keys { client_id: "sand" application_id: "app1" key_type: SANDBOX }
      consumer_keys { client_id: "blocked" application_id: "app2" key_type: PRODUCTION }
      consumer_keys { client_id: "nosub" application_id: "app3" key_type: PRODUCTION }
      opaque_tokens { client_id: "prod" expires_unix_s: 1900000100 scopes: "chat:admin" }
    )pb", extra));
    s.mutable_opaque_tokens(0)->set_sha256(opaque_hash);
    for (auto [kid, key, alg] : {std::tuple{"rsa", rsa_.get(), v1::RS256}, std::tuple{"ec", ec_.get(), v1::ES256},
                                 std::tuple{"ed", ed_.get(), v1::EDDSA}}) {
      auto* k = s.add_signing_keys();
      k->set_kid(kid);
      k->set_algorithm(alg);
      k->set_public_key_pem(key->PublicKeyPem());
    }
    auto compiled = config::Compile(s, FakeResolver());
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    snapshot_ = *compiled;
  }

  AuthResult Auth(const std::string& authorization, const std::string& topic = "/notifications",
                  const std::string& query_token = "") {
    config::RouteResult route = config::Route(*snapshot_, "localhost", "/chats/1.0.0" + topic);
    EXPECT_EQ(route.status, config::RouteStatus::kOk);
    Credentials c;
    c.authorization = authorization;
    c.access_token = query_token;
    c.has_query_token = !query_token.empty();
    return auth_.Authenticate(*snapshot_, route, c, kNow);
  }
  std::string Bearer(const std::string& token) { return "Bearer " + token; }

  std::unique_ptr<PrivateKey> rsa_, ec_, ed_;
  std::shared_ptr<const config::Snapshot> snapshot_;
  Authenticator auth_;
};

TEST_F(AuthTest, AcceptsEveryAlgorithm) {
  for (auto [kid, key, alg] : {std::tuple{"rsa", rsa_.get(), "RS256"}, std::tuple{"ec", ec_.get(), "ES256"},
                               std::tuple{"ed", ed_.get(), "EdDSA"}}) {
    AuthResult r = Auth(Bearer(MakeJwt(*key, kid, alg, Claims("prod", kNow + 3600))));
    EXPECT_EQ(r.status, 0) << alg << ": " << r.message;
    EXPECT_EQ(r.identity.application_id, "app1");
    EXPECT_EQ(r.identity.subscription_id, "sub1");
    EXPECT_EQ(r.identity.jti, "jti-prod");
    ASSERT_NE(r.endpoint, nullptr);
    EXPECT_EQ(r.endpoint->port, 8080);
  }
}

TEST_F(AuthTest, QueryTokenWorksAndTheHeaderWins) {
  std::string good = MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow + 60));
  EXPECT_EQ(Auth("", "/notifications", good).status, 0);
  AuthResult r = Auth("Bearer garbage.garbage.garbage", "/notifications", good);
  EXPECT_EQ(r.status, 401);
}

TEST_F(AuthTest, RefusesMissingAndNonBearerCredentials) {
  AuthResult r = Auth("");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "No Authorization Header or access_token query parameter present");
  r = Auth("Basic YWRtaW46YWRtaW4=");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.message.find("Bearer"), std::string::npos);
  EXPECT_EQ(Auth("", "/public").status, 0);  // an unsecured topic needs nothing
}

TEST_F(AuthTest, AlgorithmIsPinnedByTheKey) {
  std::string claims = Claims("prod", kNow + 60);
  // An RSA key's kid with alg "none" and no signature.
  std::string none = Base64UrlEncode(R"({"alg":"none","kid":"rsa"})") + "." + Base64UrlEncode(claims) + ".";
  EXPECT_EQ(Auth(Bearer(none)).status, 401);
  // HS256 "signed" with the public key bytes, the classic confusion.
  std::string hs = MakeJwt(*rsa_, "rsa", "HS256", claims);
  EXPECT_EQ(Auth(Bearer(hs)).status, 401);
  EXPECT_NE(Auth(Bearer(hs)).message.find("algorithm"), std::string::npos);
  // A valid ES256 signature presented under the RSA kid.
  EXPECT_EQ(Auth(Bearer(MakeJwt(*ec_, "rsa", "ES256", claims))).status, 401);
}

TEST_F(AuthTest, RefusesBadTokens) {
  auto status_of = [&](const std::string& token) { return Auth(Bearer(token)); };
  AuthResult r = status_of(MakeJwt(*rsa_, "nope", "RS256", Claims("prod", kNow + 60)));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.message.find("unknown key"), std::string::npos);
  std::string good = MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow + 60));
  size_t dot = good.find('.');
  std::string tampered = good.substr(0, dot + 1) + Base64UrlEncode(Claims("prod", kNow + 99999)) + good.substr(good.rfind('.'));
  EXPECT_NE(status_of(tampered).message.find("signature"), std::string::npos);
  EXPECT_NE(status_of(MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow - 31))).message.find("expired"), std::string::npos);
  EXPECT_EQ(status_of(MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow - 29))).status, 0);  // within skew
  EXPECT_NE(status_of(MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow + 60, R"(,"nbf":1900000100)"))).message.find("not yet"),
            std::string::npos);
  EXPECT_NE(status_of(MakeJwt(*rsa_, "rsa", "RS256", R"({"client_id":"prod","iss":"wsgate","aud":"wsgate-gateway"})")).message.find("expiry"),
            std::string::npos);
  std::string wrong_iss = absl::StrReplaceAll(Claims("prod", kNow + 60), {{"\"wsgate\"", "\"evil\""}});
  EXPECT_NE(status_of(MakeJwt(*rsa_, "rsa", "RS256", wrong_iss)).message.find("issuer"), std::string::npos);
  std::string wrong_aud = absl::StrReplaceAll(Claims("prod", kNow + 60), {{"wsgate-gateway", "other"}});
  EXPECT_NE(status_of(MakeJwt(*rsa_, "rsa", "RS256", wrong_aud)).message.find("audience"), std::string::npos);
  EXPECT_EQ(status_of("a.b").status, 401);
  EXPECT_EQ(status_of("!!.??.**").status, 401);
  EXPECT_EQ(status_of(Base64UrlEncode("{\"alg\":") + ".e30.").status, 401);
  EXPECT_EQ(status_of(MakeJwt(*rsa_, "rsa", "RS256", Claims("ghost", kNow + 60))).status, 401);
}

TEST_F(AuthTest, RevokedTokensAreRefusedAndRecheckCloses4001) {
  std::string token = MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow + 60));
  AuthResult ok = Auth(Bearer(token));
  ASSERT_EQ(ok.status, 0);
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "chats", ok.identity, kNow), 0);
  Load(R"pb(revoked_tokens { jti: "jti-prod" })pb");
  AuthResult r = Auth(Bearer(token));  // the cached verification does not skip revocation
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.message.find("revoked"), std::string::npos);
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "chats", ok.identity, kNow), 4001);
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "gone-api", ok.identity, kNow), 1001);
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "chats", ok.identity, kNow + 3600), 4001);  // expired
}

TEST_F(AuthTest, SubscriptionKeyTypeAndScopes) {
  EXPECT_EQ(Auth(Bearer(MakeJwt(*rsa_, "rsa", "RS256", Claims("blocked", kNow + 60)))).status, 403);
  AuthResult r = Auth(Bearer(MakeJwt(*rsa_, "rsa", "RS256", Claims("nosub", kNow + 60))));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.message.find("Subscription"), std::string::npos);
  // A sandbox key against an API with only a production endpoint.
  r = Auth(Bearer(MakeJwt(*rsa_, "rsa", "RS256", Claims("sand", kNow + 60))));
  EXPECT_EQ(r.status, 503);
  // A token whose key_type claim contradicts its consumer key.
  EXPECT_EQ(Auth(Bearer(MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow + 60, R"(,"key_type":"SANDBOX")")))).status, 401);
  // Scopes.
  EXPECT_EQ(Auth(Bearer(MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow + 60))), "/admin").status, 403);
  EXPECT_EQ(Auth(Bearer(MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow + 60, R"(,"scope":"a chat:admin")"))), "/admin").status, 0);
}

TEST_F(AuthTest, OpaqueTokensByHash) {
  AuthResult r = Auth(Bearer("opaque-token-1"), "/admin");
  EXPECT_EQ(r.status, 0) << r.message;
  EXPECT_EQ(r.identity.client_id, "prod");
  EXPECT_EQ(Auth(Bearer("opaque-token-2")).status, 401);
  // Removing the opaque token from the snapshot closes sockets opened with it.
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "chats", r.identity, kNow), 0);
  v1::Snapshot without = ParseSnapshot(R"pb(vhosts { name: "localhost" }
    apis { id: "chats" context: "/chats" version: "1.0.0" vhosts: "localhost" production_endpoint { url: "ws://h" } }
    applications { id: "app1" } subscriptions { id: "sub1" application_id: "app1" api_id: "chats" }
    consumer_keys { client_id: "prod" application_id: "app1" })pb");
  auto compiled = config::Compile(without, FakeResolver());
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(Authenticator::Recheck(**compiled, "chats", r.identity, kNow), 4001);
}

TEST_F(AuthTest, CachesVerifiedJwts) {
  std::string token = MakeJwt(*rsa_, "rsa", "RS256", Claims("prod", kNow + 60));
  ASSERT_EQ(Auth(Bearer(token)).status, 0);
  ASSERT_EQ(Auth(Bearer(token)).status, 0);
  EXPECT_EQ(auth_.cache_hits(), 1u);
  EXPECT_EQ(auth_.cache_size(), 1u);
}

TEST(Base64Url, RoundTripsAndRejects) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    std::string out;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(s), &out));
    EXPECT_EQ(out, s);
  }
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("a", &out));
  EXPECT_FALSE(Base64UrlDecode("ab+/", &out));
  EXPECT_FALSE(Base64UrlDecode("ab==", &out));
  EXPECT_FALSE(Base64UrlDecode("Zh", &out));  // non-canonical trailing bits
}

TEST(JwtClaimsParser, ReadsTypesAndSkipsUnknownMembers) {
  JwtClaims c;
  ASSERT_TRUE(ParseJwtPayload(R"({"x":{"y":[1,2,{"z":null}]},"exp":1.5,"aud":"a","scp":["s1","s2"],)"
                              R"("client_id":"c\u00e9\ud83d\ude00","t":true})",
                              &c));
  EXPECT_EQ(c.exp, 1);
  EXPECT_EQ(c.aud, std::vector<std::string>{"a"});
  EXPECT_EQ(c.scopes, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(c.client_id, "c\xc3\xa9\xf0\x9f\x98\x80");
  for (const char* bad : {"", "{", "{\"a\":}", "{\"a\":1,}", "[]", "{\"exp\":\"x\"}", "{\"a\":1} x", "{\"a\":\"\\ud800\"}",
                          "{\"exp\":1e9}"}) {
    JwtClaims d;
    EXPECT_FALSE(ParseJwtPayload(bad, &d)) << bad;
  }
}

}  // namespace
}  // namespace wsgate::engine::auth
