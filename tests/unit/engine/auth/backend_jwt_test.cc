// Unit tests for engine/auth/backend_jwt (issue 14 item 7): the claims WSO2's backend JWT
// carries, the JWS the engine signs (verified with the public key), and the per-shard cache.
#include "engine/auth/backend_jwt.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "engine/common/base64.h"
#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::auth {
namespace {

using config::testing::CompileOrDie;
using Json = nlohmann::json;

class BackendJwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *tls::PrivateKey::Generate(tls::SignatureAlgorithm::kEs256);
    snapshot_ = CompileOrDie(absl::StrCat(R"pb(
      version: 1
      token_validation { issuer: "wsgate" }
      vhosts { name: "localhost" }
      apis {
        id: "chats" name: "Chats" context: "/chats" version: "1.0.0" vhosts: "localhost"
        production_endpoint { url: "ws://localhost:8080" }
        topics { name: "/*" }
        backend { jwt: true pass_headers: "X-Request-Id" }
      }
      applications { id: "app1" name: "ChatApp" owner: "alice" throttle_policy: "Unlimited" }
      subscriptions { id: "sub1" application_id: "app1" api_id: "chats" plan: "AsyncGold" }
      backend_signing_key { kid: "backend-1" algorithm: ES256 private_key_pem: ")pb",
                                          absl::CEscape(key_->PrivateKeyPem()), R"(" })"));
    ASSERT_NE(snapshot_, nullptr);
    identity_.application_id = "app1";
    identity_.key_type = v1::SANDBOX;
  }

  // The header and payload of a JWT, after checking its signature with the key's public half.
  std::pair<Json, Json> Verify(const std::string& jwt) {
    std::vector<std::string> parts = absl::StrSplit(jwt, '.');
    EXPECT_EQ(parts.size(), 3u) << jwt;
    if (parts.size() != 3) return {};
    std::string header, payload, signature;
    EXPECT_TRUE(common::Base64UrlDecode(parts[0], &header));
    EXPECT_TRUE(common::Base64UrlDecode(parts[1], &payload));
    EXPECT_TRUE(common::Base64UrlDecode(parts[2], &signature));
    auto pub = tls::PublicKey::FromPem(tls::SignatureAlgorithm::kEs256, key_->PublicKeyPem());
    EXPECT_TRUE((*pub)->Verify(parts[0] + "." + parts[1], signature));
    return {Json::parse(header), Json::parse(payload)};
  }

  std::unique_ptr<tls::PrivateKey> key_;
  std::shared_ptr<const config::Snapshot> snapshot_;
  Identity identity_;
  std::vector<std::string> scopes_ = {"chat:read", "chat:write"};
};

TEST_F(BackendJwtTest, CompiledSettingsTakeWso2Defaults) {
  const config::Api& api = *snapshot_->apis_by_id.at("chats");
  EXPECT_TRUE(api.backend.jwt);
  EXPECT_EQ(api.backend.jwt_header, "X-JWT-Assertion");
  EXPECT_EQ(api.backend.jwt_header_lower, "x-jwt-assertion");
  EXPECT_EQ(api.backend.jwt_validity_s, 900u);
  EXPECT_EQ(api.backend.pass_headers, std::vector<std::string>{"x-request-id"});
  EXPECT_EQ(api.backend.api_context, "/chats/1.0.0");
  ASSERT_NE(snapshot_->backend_key, nullptr);
  EXPECT_EQ(snapshot_->backend_key->kid, "backend-1");
}

TEST_F(BackendJwtTest, ClaimsAreWso2sAndTheSignatureVerifies) {
  const config::Api& api = *snapshot_->apis_by_id.at("chats");
  BackendClaims claims = ClaimsFor(*snapshot_, api, identity_, scopes_);
  std::string jwt = SignBackendJwt(*snapshot_->backend_key, BackendClaimsJson(claims, 1000, 1900, "j1"));
  auto [header, payload] = Verify(jwt);
  EXPECT_EQ(header, Json::parse(R"({"typ":"JWT","alg":"ES256","kid":"backend-1"})"));
  EXPECT_EQ(payload, Json::parse(R"({
    "iss": "wsgate", "iat": 1000, "exp": 1900, "jti": "j1",
    "http://wso2.org/claims/subscriber": "alice",
    "http://wso2.org/claims/applicationid": "app1",
    "http://wso2.org/claims/applicationname": "ChatApp",
    "http://wso2.org/claims/applicationtier": "Unlimited",
    "http://wso2.org/claims/apiname": "Chats",
    "http://wso2.org/claims/apicontext": "/chats/1.0.0",
    "http://wso2.org/claims/version": "1.0.0",
    "http://wso2.org/claims/tier": "AsyncGold",
    "http://wso2.org/claims/keytype": "SANDBOX",
    "http://wso2.org/claims/usertype": "APPLICATION",
    "http://wso2.org/claims/enduser": "alice",
    "scope": "chat:read chat:write"})"));
}

TEST_F(BackendJwtTest, UnknownTierIsLeftOutAndStringsAreEscaped) {
  BackendClaims c;
  c.issuer = "i\"s\\s\n";
  std::vector<std::string> none;
  c.scopes = &none;
  Json payload = Json::parse(BackendClaimsJson(c, 1, 2, "j"));
  EXPECT_EQ(payload["iss"], "i\"s\\s\n");
  EXPECT_FALSE(payload.contains("http://wso2.org/claims/applicationtier"));
  EXPECT_EQ(payload["scope"], "");
}

TEST_F(BackendJwtTest, CacheReusesUntilThreeQuartersOfTheValidityThenSignsAgain) {
  const config::Api& api = *snapshot_->apis_by_id.at("chats");
  BackendClaims claims = ClaimsFor(*snapshot_, api, identity_, scopes_);
  BackendJwtCache cache;
  const config::BackendKey& key = *snapshot_->backend_key;
  std::string first = cache.Get(key, claims, 900, 10000);
  EXPECT_EQ(cache.Get(key, claims, 900, 10000 + 674), first);  // 674 < 675 = 3/4 of 900
  EXPECT_EQ(cache.signatures(), 1u);
  EXPECT_EQ(Verify(first).second["exp"], 10900);
  std::string second = cache.Get(key, claims, 900, 10000 + 675);
  EXPECT_NE(second, first);
  EXPECT_EQ(cache.signatures(), 2u);
  auto payload = Verify(second).second;
  EXPECT_EQ(payload["iat"], 10675);
  EXPECT_NE(payload["jti"], Verify(first).second["jti"]);  // a fresh jti per signature

  // Another identity (key type, scopes) is another entry.
  Identity production = identity_;
  production.key_type = v1::PRODUCTION;
  BackendClaims other = ClaimsFor(*snapshot_, api, production, scopes_);
  EXPECT_EQ(Verify(cache.Get(key, other, 900, 10675)).second["http://wso2.org/claims/keytype"], "PRODUCTION");
  std::vector<std::string> fewer = {"chat:read"};
  EXPECT_EQ(Verify(cache.Get(key, ClaimsFor(*snapshot_, api, identity_, fewer), 900, 10675)).second["scope"],
            "chat:read");
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.signatures(), 4u);
}

TEST_F(BackendJwtTest, CacheIsBounded) {
  const config::Api& api = *snapshot_->apis_by_id.at("chats");
  BackendJwtCache cache(2);
  const config::BackendKey& key = *snapshot_->backend_key;
  std::vector<std::vector<std::string>> scopes = {{"a"}, {"b"}, {"c"}};
  cache.Get(key, ClaimsFor(*snapshot_, api, identity_, scopes[0]), 60, 100);
  cache.Get(key, ClaimsFor(*snapshot_, api, identity_, scopes[1]), 60, 130);
  EXPECT_EQ(cache.size(), 2u);
  // Full: the expired-for-reuse entry (reuse until 145) goes, the live one stays.
  cache.Get(key, ClaimsFor(*snapshot_, api, identity_, scopes[2]), 60, 150);
  EXPECT_EQ(cache.size(), 2u);
  // Full with nothing stale: everything goes, so the cache never grows past its bound.
  cache.Get(key, ClaimsFor(*snapshot_, api, identity_, scopes[0]), 60, 151);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(BackendJwtCompile, RefusesAJwtApiWithoutAKeyAndABadKey) {
  v1::Snapshot s = config::testing::ParseSnapshot(R"pb(
    vhosts { name: "localhost" }
    apis {
      id: "a" name: "A" context: "/a" version: "1" vhosts: "localhost"
      production_endpoint { url: "ws://localhost:8080" }
      backend { jwt: true }
    }
  )pb");
  auto r = config::Compile(s, config::testing::FakeResolver());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "apis[0].backend.jwt: needs a backend_signing_key to sign with");
  s.mutable_backend_signing_key()->set_kid("k");
  s.mutable_backend_signing_key()->set_private_key_pem("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n");
  r = config::Compile(s, config::testing::FakeResolver());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "backend_signing_key.private_key_pem: not a PEM private key");
  s.clear_backend_signing_key();
  s.mutable_apis(0)->mutable_backend()->set_jwt(false);
  s.mutable_apis(0)->mutable_backend()->add_pass_headers("Authorization");
  r = config::Compile(s, config::testing::FakeResolver());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "apis[0].backend.pass_headers[0]: 'Authorization' is a client credential (never sent to the backend)");
}

}  // namespace
}  // namespace wsgate::engine::auth
