// Unit tests for external identity provider tokens (issue 14 item 6): the verification decision
// table (right / wrong issuer, audience, unknown kid, a kid of the agent's own keys, alg pinned by
// the key type, mapped / unmapped client id, azp vs client_id vs a configured claim, the scope
// claim as a string or an array, key type by mapping) and key rollover: a snapshot without the
// old key keeps its live sockets (Recheck) but refuses new handshakes with it; removing the client
// closes them 4001.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "engine/auth/authenticator.h"
#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::auth {
namespace {

using config::testing::FakeResolver;
using config::testing::ParseSnapshot;
using tls::PrivateKey;
using tls::SignatureAlgorithm;

constexpr int64_t kNow = 1900000000;
constexpr const char* kIss = "https://idp.example.com/realms/demo";

std::string Jwt(const PrivateKey& key, const std::string& kid, const std::string& alg, const std::string& payload) {
  std::string input = Base64UrlEncode(absl::StrCat(R"({"alg":")", alg, R"(","kid":")", kid, R"("})")) + "." +
                      Base64UrlEncode(payload);
  return "Bearer " + input + "." + Base64UrlEncode(key.Sign(input));
}

// Keycloak-shaped claims: azp names the client, scope is a space-separated string.
std::string Claims(const std::string& extra = R"("azp":"web-client","scope":"openid chat:read")",
                   const std::string& iss = kIss, const std::string& aud = "wsgate") {
  return absl::StrCat(R"({"iss":")", iss, R"(","aud":")", aud, R"(","exp":)", kNow + 300, R"(,"iat":)", kNow - 5, ",",
                      extra, "}");
}

class IdpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    agent_ = *PrivateKey::Generate(SignatureAlgorithm::kRs256);
    rsa_ = *PrivateKey::Generate(SignatureAlgorithm::kRs256);
    ec_ = *PrivateKey::Generate(SignatureAlgorithm::kEs256);
    snapshot_ = Build({{"rsa-1", rsa_.get()}, {"ec-1", ec_.get()}}, true);
  }

  // The Chats API; the agent's own key "agent-1"; provider "kc" with `keys` and, when
  // `with_client`, its client "web-client" mapped to app1 (production) and "sbx" to app1 (sandbox).
  std::shared_ptr<const config::Snapshot> Build(const std::vector<std::pair<std::string, PrivateKey*>>& keys,
                                                bool with_client, const std::string& idp_extra = "") {
    v1::Snapshot s = ParseSnapshot(absl::StrCat(R"pb(
      version: 1
      token_validation { issuer: "wsgate" audiences: "wsgate-gateway" clock_skew_s: 30 }
      vhosts { name: "localhost" }
      apis {
        id: "chats" name: "Chats" context: "/chats" version: "1.0.0" vhosts: "localhost" state: PUBLISHED
        production_endpoint { url: "ws://localhost:8080" }
        sandbox_endpoint { url: "ws://localhost:8081" }
        topics { name: "/notifications" }
        topics { name: "/admin" scopes: "chat:admin" }
      }
      applications { id: "app1" name: "ChatApp" }
      subscriptions { id: "sub1" application_id: "app1" api_id: "chats" plan: "AsyncGold" }
      identity_providers { name: "kc" issuer: "https://idp.example.com/realms/demo" audiences: "wsgate" )pb",
                                                idp_extra, "}"));
    v1::SigningKey* own = s.add_signing_keys();
    own->set_kid("agent-1");
    own->set_algorithm(v1::RS256);
    own->set_public_key_pem(agent_->PublicKeyPem());
    v1::IdentityProvider* idp = s.mutable_identity_providers(0);
    for (const auto& [kid, key] : keys) {
      v1::SigningKey* k = idp->add_keys();
      k->set_kid(kid);
      k->set_algorithm(key->algorithm() == SignatureAlgorithm::kEs256 ? v1::ES256 : v1::RS256);
      k->set_public_key_pem(key->PublicKeyPem());
    }
    if (with_client) {
      for (auto [id, type] : {std::pair{"web-client", v1::PRODUCTION}, std::pair{"sbx", v1::SANDBOX}}) {
        v1::ConsumerKey* c = idp->add_clients();
        c->set_client_id(id);
        c->set_application_id("app1");
        c->set_key_type(type);
      }
    }
    auto compiled = config::Compile(s, FakeResolver());
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    return compiled.ok() ? *compiled : nullptr;
  }

  AuthResult Auth(const std::string& authorization, const std::string& topic = "/notifications") {
    config::RouteResult route = config::Route(*snapshot_, "localhost", "/chats/1.0.0" + topic);
    EXPECT_EQ(route.status, config::RouteStatus::kOk);
    Credentials c;
    c.authorization = authorization;
    return auth_.Authenticate(*snapshot_, route, c, kNow);
  }

  std::unique_ptr<PrivateKey> agent_, rsa_, ec_;
  std::shared_ptr<const config::Snapshot> snapshot_;
  Authenticator auth_;
};

TEST_F(IdpAuthTest, RsaAndEcTokensOfAMappedClientAreAccepted) {
  for (auto [kid, key, alg] : {std::tuple{"rsa-1", rsa_.get(), "RS256"}, std::tuple{"ec-1", ec_.get(), "ES256"}}) {
    AuthResult r = Auth(Jwt(*key, kid, alg, Claims()));
    ASSERT_EQ(r.status, 0) << alg << ": " << r.message;
    EXPECT_EQ(r.identity.idp, kIss);
    EXPECT_EQ(r.identity.client_id, "web-client");
    EXPECT_EQ(r.identity.application_id, "app1");
    EXPECT_EQ(r.identity.subscription_id, "sub1");
    EXPECT_EQ(r.identity.key_type, v1::PRODUCTION);
    ASSERT_NE(r.endpoint, nullptr);
    EXPECT_EQ(r.endpoint->port, 8080);
  }
}

TEST_F(IdpAuthTest, DecisionTable) {
  struct Row {
    const char* what;
    std::string token;
    int status;
    std::string message;
    std::string topic = "/notifications";
  };
  const std::string bad = "Invalid Credentials: ";
  std::vector<Row> rows = {
      {"wrong issuer: not a provider, so the agent's rules refuse it", Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("azp":"web-client")", "https://other.example")),
       401, bad + "token signed with an unknown key"},
      {"the provider's issuer with the agent's own kid: provider keys only",
       Jwt(*agent_, "agent-1", "RS256", Claims()), 401, bad + "token signed with an unknown key"},
      {"wrong audience", Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("azp":"web-client")", kIss, "someone-else")), 401,
       bad + "token audience not accepted"},
      {"unknown kid", Jwt(*rsa_, "rsa-2", "RS256", Claims()), 401, bad + "token signed with an unknown key"},
      {"alg pinned by the key type", Jwt(*rsa_, "ec-1", "RS256", Claims()), 401,
       bad + "token algorithm does not match its key"},
      {"signed by another key with a known kid", Jwt(*agent_, "rsa-1", "RS256", Claims()), 401,
       bad + "token signature verification failed"},
      {"unmapped client id", Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("azp":"stranger")")), 401,
       bad + "client not registered for this identity provider"},
      {"no client id claim at all", Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("sub":"u1")")), 401,
       bad + "client not registered for this identity provider"},
      {"client_id is the fallback when azp is absent", Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("client_id":"web-client")")), 0,
       ""},
      {"azp wins over client_id", Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("client_id":"web-client","azp":"stranger")")), 401,
       bad + "client not registered for this identity provider"},
      {"topic scope missing from the scope claim", Jwt(*rsa_, "rsa-1", "RS256", Claims()), 403,
       "User NOT authorized to access the resource", "/admin"},
  };
  for (const Row& row : rows) {
    AuthResult r = Auth(row.token, row.topic);
    EXPECT_EQ(r.status, row.status) << row.what << ": " << r.message;
    EXPECT_EQ(r.message, row.message) << row.what;
  }
}

TEST_F(IdpAuthTest, ScopesComeFromTheScopeClaimAsStringOrArray) {
  EXPECT_EQ(Auth(Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("azp":"web-client","scope":"openid chat:admin")")), "/admin").status, 0);
  EXPECT_EQ(Auth(Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("azp":"web-client","scope":["chat:admin"])")), "/admin").status, 0);
  // A provider that puts scopes elsewhere (Auth0 "permissions") and names the client in "cid".
  snapshot_ = Build({{"rsa-1", rsa_.get()}}, true, R"pb(client_id_claim: "cid" scope_claim: "permissions")pb");
  AuthResult r = Auth(Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("cid":"web-client","scope":"chat:admin","permissions":["chat:admin"])")),
                      "/admin");
  EXPECT_EQ(r.status, 0) << r.message;
  r = Auth(Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("cid":"web-client","scope":"chat:admin")")), "/admin");
  EXPECT_EQ(r.status, 403) << "scope is not the configured claim";
  r = Auth(Jwt(*rsa_, "rsa-1", "RS256", Claims(R"("cid":"web-client","permissions":7)")));
  EXPECT_EQ(r.message, "Invalid Credentials: Invalid JWT token") << "a claim of another type";
}

TEST_F(IdpAuthTest, TheMappingDecidesTheKeyType) {
  AuthResult r = Auth(Jwt(*ec_, "ec-1", "ES256", Claims(R"("azp":"sbx")")));
  ASSERT_EQ(r.status, 0) << r.message;
  EXPECT_EQ(r.identity.key_type, v1::SANDBOX);
  EXPECT_EQ(r.endpoint->port, 8081);
}

TEST_F(IdpAuthTest, KeyRolloverKeepsLiveSocketsAndRefusesTheOldKeyForNewOnes) {
  std::string old_token = Jwt(*rsa_, "rsa-1", "RS256", Claims());
  AuthResult live = Auth(old_token);
  ASSERT_EQ(live.status, 0) << live.message;
  // The provider rotates: rsa-2 in, rsa-1 out.
  auto rsa2 = *PrivateKey::Generate(SignatureAlgorithm::kRs256);
  snapshot_ = Build({{"rsa-2", rsa2.get()}, {"ec-1", ec_.get()}}, true);
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "chats", live.identity, kNow), 0) << "the live socket stays open";
  AuthResult again = Auth(old_token);  // the JWT cache must not let the removed key through
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(again.message, "Invalid Credentials: token signed with an unknown key");
  EXPECT_EQ(Auth(Jwt(*rsa2, "rsa-2", "RS256", Claims())).status, 0) << "the new key works at once";
  // Unregistering the client closes its sockets.
  snapshot_ = Build({{"rsa-2", rsa2.get()}}, false);
  EXPECT_EQ(Authenticator::Recheck(*snapshot_, "chats", live.identity, kNow), 4001);
}

TEST_F(IdpAuthTest, CompileRefusesProvidersThatWouldShadowTheAgent) {
  v1::Snapshot s = ParseSnapshot(R"pb(
    token_validation { issuer: "wsgate" }
    identity_providers { name: "x" issuer: "wsgate" }
  )pb");
  EXPECT_EQ(config::Compile(s, FakeResolver()).status().message(), "identity_providers[0].issuer: is the agent's own issuer");
  s = ParseSnapshot(R"pb(
    identity_providers { name: "x" issuer: "a" }
    identity_providers { name: "y" issuer: "a" }
  )pb");
  EXPECT_EQ(config::Compile(s, FakeResolver()).status().message(), "identity_providers[1].issuer: duplicate issuer 'a'");
  s = ParseSnapshot(R"pb(identity_providers { name: "x" issuer: "a" clients { client_id: "c" application_id: "nope" } })pb");
  EXPECT_EQ(config::Compile(s, FakeResolver()).status().message(),
            "identity_providers[0].clients[0].application_id: unknown application 'nope'");
}

}  // namespace
}  // namespace wsgate::engine::auth
