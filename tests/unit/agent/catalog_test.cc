// Unit tests for agent/catalog on a real SQLite file: the walkthrough's publisher and developer
// steps, WSO2's rules, and that each bad input gives a clear error and changes nothing.
#include "agent/catalog.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdlib>

#include "agent/json.h"
#include "tests/unit/agent/catalog_fixture.h"
#include "engine/common/base64.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

class CatalogTest : public CatalogFixture {
 protected:
  v1::ApiSpec Chats() {
    v1::ApiSpec s;
    s.set_name("Chats");
    s.set_context("/chats");
    s.set_version("1.0.0");
    s.mutable_production_endpoint()->set_url("ws://localhost:8080");
    return s;
  }
  // The walkthrough's publisher steps, up to a deployed revision.
  void Publish() {
    ASSERT_TRUE(catalog_->CreateApi(Chats()).ok());
    ASSERT_TRUE(catalog_->DeleteTopic("Chats:1.0.0", "/*").ok());
    v1::Topic n;
    n.set_name("/notifications");
    n.set_url_mapping("/notifications");
    ASSERT_TRUE(catalog_->AddTopic("Chats:1.0.0", n).ok());
    v1::Topic r;
    r.set_name("/rooms/{roomID}");
    r.set_url_mapping("/rooms?room={uri.var.roomID}");
    ASSERT_TRUE(catalog_->AddTopic("Chats:1.0.0", r).ok());
    ASSERT_TRUE(catalog_->SetPlans("Chats:1.0.0", {"AsyncGold"}).ok());
    ASSERT_TRUE(catalog_->ChangeLifecycle("Chats:1.0.0", "Publish").ok());
    auto rev = catalog_->CreateRevision("Chats:1.0.0", "first");
    ASSERT_TRUE(rev.ok());
    EXPECT_EQ(rev->number(), 1u);
    ASSERT_TRUE(catalog_->DeployRevision("Chats:1.0.0", 1, "Production and Sandbox", "localhost").ok());
  }
};

TEST_F(CatalogTest, WalkthroughBuildsTheSnapshotEnginesServe) {
  Publish();
  ASSERT_TRUE(catalog_->CreateApplication([] {
                v1::CreateApplicationRequest r;
                r.set_name("ChatApp");
                return r;
              }())
                  .ok());
  ASSERT_TRUE(catalog_->CreateSubscription("ChatApp", "Chats:1.0.0", "AsyncGold").ok());
  auto keys = catalog_->GenerateKeys("ChatApp", v1::PRODUCTION, false);
  ASSERT_TRUE(keys.ok());
  EXPECT_FALSE(keys->consumer_secret().empty());
  auto token = catalog_->IssueToken("ChatApp", v1::PRODUCTION, {}, 0);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires_in(), 3600u);

  auto snap = catalog_->BuildSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->apis_size(), 1);
  const v1::Api& api = snap->apis(0);
  EXPECT_EQ(api.context(), "/chats");
  EXPECT_EQ(api.state(), v1::PUBLISHED);
  EXPECT_EQ(api.vhosts(0), "localhost");
  ASSERT_EQ(api.topics_size(), 2);
  EXPECT_EQ(api.topics(1).url_mapping(), "/rooms?room={uri.var.roomID}");
  EXPECT_TRUE(api.topics(0).publish() && api.topics(0).subscribe());
  EXPECT_EQ(snap->subscriptions_size(), 1);
  ASSERT_EQ(snap->consumer_keys_size(), 1);
  EXPECT_EQ(snap->consumer_keys(0).client_id(), keys->consumer_key());
  ASSERT_EQ(snap->signing_keys_size(), 1);
  EXPECT_EQ(snap->token_validation().issuer(), "wsgate");
  EXPECT_GE(snap->throttle_policies_size(), 4);
  EXPECT_FALSE(pushed_.empty());  // data-plane changes were announced

  // The token is a JWS that verifies with the pushed public key, carrying the walkthrough's claims.
  const std::string& t = token->access_token();
  size_t d2 = t.rfind('.');
  std::string sig, payload;
  ASSERT_TRUE(common::Base64UrlDecode(t.substr(d2 + 1), &sig));
  ASSERT_TRUE(common::Base64UrlDecode(t.substr(t.find('.') + 1, d2 - t.find('.') - 1), &payload));
  EXPECT_NE(payload.find("\"client_id\":\"" + keys->consumer_key() + "\""), std::string::npos) << payload;
  EXPECT_NE(payload.find("\"key_type\":\"PRODUCTION\""), std::string::npos);
  EXPECT_NE(payload.find("\"jti\":\"" + token->jti() + "\""), std::string::npos);
  const std::string& pem = snap->signing_keys(0).public_key_pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pub = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(pub, nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pub), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(t.data()), d2),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pub);
}

TEST_F(CatalogTest, EverythingSurvivesAReopen) {
  Publish();
  std::string agent_id = catalog_->agent_id();
  uint64_t version = catalog_->config_version();
  Reopen();
  EXPECT_EQ(catalog_->agent_id(), agent_id);
  EXPECT_EQ(catalog_->config_version(), version);
  auto api = catalog_->GetApi("Chats:1.0.0");
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->state(), v1::PUBLISHED);
  EXPECT_EQ(api->deployed_revisions_size(), 1);
}

TEST_F(CatalogTest, BadInputsAreNamedAndChangeNothing) {
  Publish();
  uint64_t version = catalog_->config_version();
  auto count_apis = [&] { return catalog_->ListApis("")->size(); };
  // Duplicate name+version, and a context taken by another API.
  EXPECT_EQ(catalog_->CreateApi(Chats()).status().code(), absl::StatusCode::kAlreadyExists);
  v1::ApiSpec other = Chats();
  other.set_name("Other");
  auto dup = catalog_->CreateApi(other);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(dup.status().message().find("context"), absl::string_view::npos);
  // Field errors.
  v1::ApiSpec bad = Chats();
  bad.set_name("Bad");
  bad.set_context("chats2");
  EXPECT_NE(catalog_->CreateApi(bad).status().message().find("context:"), absl::string_view::npos);
  bad.set_context("/bad");
  bad.mutable_production_endpoint()->set_url("http://x");
  EXPECT_NE(catalog_->CreateApi(bad).status().message().find("production_endpoint.url"), absl::string_view::npos);
  bad.mutable_production_endpoint()->set_url("ws://x");
  bad.add_plans("Platinum");
  EXPECT_NE(catalog_->CreateApi(bad).status().message().find("unknown business plan 'Platinum'"), absl::string_view::npos);
  bad.clear_plans();
  bad.add_security("basic");
  EXPECT_NE(catalog_->CreateApi(bad).status().message().find("Basic"), absl::string_view::npos);
  EXPECT_EQ(count_apis(), 1u);
  // A mapping variable that is not a template parameter.
  v1::Topic t;
  t.set_name("/rooms2/{room}");
  t.set_url_mapping("/rooms?room={uri.var.roomID}");
  auto topic = catalog_->AddTopic("Chats:1.0.0", t);
  EXPECT_EQ(topic.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(topic.status().message().find("topics[2].url_mapping"), absl::string_view::npos) << topic.status();
  EXPECT_EQ(catalog_->GetApi("Chats:1.0.0")->spec().topics_size(), 2);
  // Illegal transition.
  auto lc = catalog_->ChangeLifecycle("Chats:1.0.0", "Retire");
  EXPECT_EQ(lc.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog_->GetApi("Chats:1.0.0")->state(), v1::PUBLISHED);
  // A sixth revision.
  for (int i = 2; i <= 5; ++i) ASSERT_TRUE(catalog_->CreateRevision("Chats:1.0.0", "").ok()) << i;
  EXPECT_EQ(catalog_->CreateRevision("Chats:1.0.0", "").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(catalog_->ListRevisions("Chats:1.0.0")->size(), 5u);
  // A deployed revision cannot be deleted; an undeployed one can, and numbers are not reused.
  EXPECT_EQ(catalog_->DeleteRevision("Chats:1.0.0", 1).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(catalog_->DeleteRevision("Chats:1.0.0", 5).ok());
  EXPECT_EQ(catalog_->CreateRevision("Chats:1.0.0", "")->number(), 6u);
  // Unknown references.
  EXPECT_EQ(catalog_->GetApi("Nope:1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->DeployRevision("Chats:1.0.0", 99, "", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->DeployRevision("Chats:1.0.0", 1, "Mars", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->DeleteApi("Chats:1.0.0").code(), absl::StatusCode::kFailedPrecondition);  // deployed
  EXPECT_EQ(catalog_->config_version(), version);  // none of that touched the data plane
}

TEST_F(CatalogTest, SubscriptionsKeysAndTokensFollowTheRules) {
  ASSERT_TRUE(catalog_->CreateApi(Chats()).ok());
  ASSERT_TRUE(catalog_->SetPlans("Chats:1.0.0", {"AsyncGold", "AsyncBronze"}).ok());
  v1::CreateApplicationRequest app;
  app.set_name("ChatApp");
  ASSERT_TRUE(catalog_->CreateApplication(app).ok());
  EXPECT_EQ(catalog_->CreateApplication(app).status().code(), absl::StatusCode::kAlreadyExists);
  // Only PUBLISHED APIs accept subscriptions, and only to a plan they offer.
  EXPECT_EQ(catalog_->CreateSubscription("ChatApp", "Chats:1.0.0", "AsyncGold").status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(catalog_->ChangeLifecycle("Chats:1.0.0", "Publish").ok());
  EXPECT_EQ(catalog_->CreateSubscription("ChatApp", "Chats:1.0.0", "AsyncSilver").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto sub = catalog_->CreateSubscription("ChatApp", "Chats:1.0.0", "AsyncGold");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(catalog_->CreateSubscription("ChatApp", "Chats:1.0.0", "AsyncGold").status().code(),
            absl::StatusCode::kAlreadyExists);
  // DEPRECATED keeps existing subscriptions but takes no new ones.
  ASSERT_TRUE(catalog_->ChangeLifecycle("Chats:1.0.0", "Deprecate").ok());
  EXPECT_EQ(catalog_->ListSubscriptions("ChatApp", "")->size(), 1u);
  v1::CreateApplicationRequest app2;
  app2.set_name("Late");
  ASSERT_TRUE(catalog_->CreateApplication(app2).ok());
  EXPECT_EQ(catalog_->CreateSubscription("Late", "Chats:1.0.0", "AsyncGold").status().code(),
            absl::StatusCode::kFailedPrecondition);

  // Keys: a token needs keys; the secret authenticates; regenerating replaces the pair.
  EXPECT_EQ(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {}, 0).status().code(), absl::StatusCode::kFailedPrecondition);
  auto keys = catalog_->GenerateKeys("ChatApp", v1::PRODUCTION, false);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(catalog_->GenerateKeys("ChatApp", v1::PRODUCTION, false).status().code(), absl::StatusCode::kAlreadyExists);
  auto who = catalog_->AuthenticateClient(keys->consumer_key(), keys->consumer_secret());
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->key_type, v1::PRODUCTION);
  EXPECT_EQ(catalog_->AuthenticateClient(keys->consumer_key(), "wrong").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(catalog_->AuthenticateClient("nobody", "x").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(catalog_->ListKeys("ChatApp")->at(0).consumer_secret().empty());  // shown once only
  auto regenerated = catalog_->GenerateKeys("ChatApp", v1::PRODUCTION, true);
  ASSERT_TRUE(regenerated.ok());
  EXPECT_NE(regenerated->consumer_key(), keys->consumer_key());
  EXPECT_FALSE(catalog_->AuthenticateClient(keys->consumer_key(), keys->consumer_secret()).ok());

  // Tokens: TTL bounds, scopes, revocation by token and by jti.
  EXPECT_EQ(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {}, 100000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {"bad scope"}, 0).status().code(), absl::StatusCode::kInvalidArgument);
  v1::UpdateApplicationRequest grant;
  grant.set_application("ChatApp");
  for (const char* scope : {"chat:read", "chat:write"}) grant.mutable_scopes()->add_scopes(scope);
  ASSERT_TRUE(catalog_->UpdateApplication(grant).ok());
  auto token = catalog_->IssueToken("ChatApp", v1::PRODUCTION, {"chat:read", "chat:write"}, 60);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->scope(), "chat:read chat:write");
  ASSERT_TRUE(catalog_->RevokeToken(token->access_token(), "").ok());
  auto other = catalog_->IssueToken("ChatApp", v1::PRODUCTION, {}, 60);
  ASSERT_TRUE(catalog_->RevokeToken("", other->jti()).ok());
  EXPECT_EQ(catalog_->RevokeToken("", "unknown-jti").code(), absl::StatusCode::kNotFound);
  // Not a JWT: it could be an opaque token, and none has this text.
  EXPECT_EQ(catalog_->RevokeToken("not-a-jwt", "").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->RevokeToken("", "").code(), absl::StatusCode::kInvalidArgument);
  auto snap = catalog_->BuildSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->revoked_tokens_size(), 2);
  EXPECT_EQ(snap->apis_size(), 0);  // nothing deployed
}

TEST_F(CatalogTest, SigningKeyRotationKeepsTheOldKeyForLiveTokens) {
  auto before = catalog_->ListSigningKeys();
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  auto rotated = catalog_->RotateSigningKey(v1::ES256);
  ASSERT_TRUE(rotated.ok());
  auto after = catalog_->ListSigningKeys();
  ASSERT_EQ(after->size(), 2u);
  EXPECT_FALSE(after->at(0).active());
  EXPECT_GT(after->at(0).retire_after_unix_s(), 0);
  EXPECT_TRUE(after->at(1).active());
  EXPECT_EQ(catalog_->BuildSnapshot()->signing_keys_size(), 2);
  auto jwks = catalog_->Jwks();
  ASSERT_TRUE(jwks.ok());
  EXPECT_NE(jwks->find("\"kty\":\"RSA\""), std::string::npos) << *jwks;
  EXPECT_NE(jwks->find("\"kty\":\"EC\""), std::string::npos) << *jwks;
  EXPECT_NE(jwks->find("\"kid\":\"" + rotated->kid() + "\""), std::string::npos);
}

TEST_F(CatalogTest, PoliciesHaveWso2DefaultsAndCustomOnes) {
  auto all = catalog_->ListPolicies(v1::SUBSCRIPTION);
  ASSERT_TRUE(all.ok());
  bool gold = false;
  for (const auto& p : *all)
    if (p.name() == "AsyncGold") {
      gold = true;
      EXPECT_EQ(p.events(), 50000u);
      EXPECT_EQ(p.unit(), v1::DAY);
      EXPECT_EQ(p.description(), "Allows 50000 events per day");
    }
  EXPECT_TRUE(gold);
  v1::ThrottlePolicy p;
  p.set_name("Chatty");
  p.set_events(100);
  p.set_unit(v1::MINUTE);
  auto created = catalog_->CreatePolicy(p);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->description(), "Allows 100 events per minute");
  EXPECT_EQ(catalog_->CreatePolicy(p).status().code(), absl::StatusCode::kAlreadyExists);
  p.set_name("Broken");
  p.set_events(0);
  EXPECT_EQ(catalog_->CreatePolicy(p).status().message(),
            "events: must be > 0 (or set unlimited, or connections for a connection-only policy)");
  // Issue 15: concurrent connections, alone or with events; stored and pushed to engines.
  v1::ThrottlePolicy sockets;
  sockets.set_name("TenSockets");
  sockets.set_max_connections(10);
  auto only = catalog_->CreatePolicy(sockets);
  ASSERT_TRUE(only.ok()) << only.status();
  EXPECT_TRUE(only->unlimited());
  EXPECT_EQ(only->description(), "Allows unlimited events and 10 concurrent connections");
  v1::ThrottlePolicy both = p;
  both.set_name("ChattyFive");
  both.set_events(100);
  both.set_max_connections(5);
  auto created_both = catalog_->CreatePolicy(both);
  ASSERT_TRUE(created_both.ok());
  EXPECT_EQ(created_both->description(), "Allows 100 events per minute and 5 concurrent connections");
  auto pushed = catalog_->BuildSnapshot();
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  int found = 0;
  for (const auto& tp : pushed->throttle_policies()) {
    if (tp.name() == "TenSockets") found += tp.max_connections() == 10;
    if (tp.name() == "ChattyFive") found += tp.max_connections() == 5 && tp.events() == 100;
  }
  EXPECT_EQ(found, 2) << "max_connections reaches the engine's snapshot";
  ASSERT_TRUE(catalog_->CreateApi(Chats()).ok());
  ASSERT_TRUE(catalog_->SetPlans("Chats:1.0.0", {"Chatty"}).ok());
  EXPECT_EQ(catalog_->DeletePolicy("Chatty").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(catalog_->DeletePolicy("Nope").code(), absl::StatusCode::kNotFound);
}

// A token carries only scopes an admin granted its application (issue #11 item 9): a client asking
// /oauth2/token for `scope=admin` used to get it.
TEST_F(CatalogTest, TokensCarryOnlyScopesAnAdminGranted) {
  v1::CreateApplicationRequest app;
  app.set_name("ChatApp");
  app.add_scopes("chat:read");
  ASSERT_TRUE(catalog_->CreateApplication(app).ok());
  auto keys = catalog_->GenerateKeys("ChatApp", v1::PRODUCTION, false);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(catalog_->GetApplication("ChatApp")->scopes().size(), 1);

  EXPECT_TRUE(catalog_->IssueTokenForClient(keys->consumer_key(), {"chat:read"}).ok());
  for (const std::vector<std::string>& asked : {std::vector<std::string>{"admin"}, {"chat:read", "chat:write"}}) {
    auto self_granted = catalog_->IssueTokenForClient(keys->consumer_key(), asked);
    EXPECT_EQ(self_granted.status().code(), absl::StatusCode::kInvalidArgument);  // OAuth2: invalid_scope
    EXPECT_NE(self_granted.status().message().find("was not granted"), std::string::npos) << self_granted.status();
    EXPECT_EQ(catalog_->IssueToken("ChatApp", v1::PRODUCTION, asked, 0).status().code(),
              absl::StatusCode::kInvalidArgument);
  }

  // The admin grants chat:write; the grant survives a restart; an empty list revokes all.
  v1::UpdateApplicationRequest update;
  update.set_application("ChatApp");
  update.mutable_scopes()->add_scopes("chat:write");
  ASSERT_TRUE(catalog_->UpdateApplication(update).ok());
  Reopen();
  EXPECT_TRUE(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {"chat:write"}, 0).ok());
  EXPECT_FALSE(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {"chat:read"}, 0).ok());
  v1::UpdateApplicationRequest other;  // a change of something else keeps the scopes
  other.set_application("ChatApp");
  other.set_description("x");
  ASSERT_TRUE(catalog_->UpdateApplication(other).ok());
  EXPECT_EQ(catalog_->GetApplication("ChatApp")->scopes().size(), 1);
  update.mutable_scopes()->clear_scopes();
  ASSERT_TRUE(catalog_->UpdateApplication(update).ok());
  EXPECT_FALSE(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {"chat:write"}, 0).ok());
  EXPECT_TRUE(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {}, 0).ok());

  update.mutable_scopes()->add_scopes("two words");
  EXPECT_EQ(catalog_->UpdateApplication(update).status().code(), absl::StatusCode::kInvalidArgument);
}

// A catalog written by the previous agent (schema v1, no scopes column) opens, and its
// applications have no scopes.
TEST_F(CatalogTest, SchemaV1CatalogMigratesWithNoScopes) {
  if (::wsgate::testing::TestCatalogIsPostgres()) GTEST_SKIP() << "SQLite only: rewrites an older SQLite catalog file";
  v1::CreateApplicationRequest app;
  app.set_name("Old");
  ASSERT_TRUE(catalog_->CreateApplication(app).ok());
  catalog_.reset();
  {
    Db db;
    ASSERT_TRUE(db.Open(dir_ + "/catalog.db").ok());
    ASSERT_TRUE(db.Exec("DROP TABLE certificates; DROP TABLE environments; "  // v3
                        "ALTER TABLE applications DROP COLUMN scopes; "
                        "ALTER TABLE applications DROP COLUMN token_format; DROP TABLE opaque_tokens; "  // v5
                        "PRAGMA user_version = 1;")
                    .ok());
  }
  Reopen();
  auto old = catalog_->GetApplication("Old");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_TRUE(old->scopes().empty());
}

// The issuer and the owner are operator/admin text: whatever they contain, the JWT payload is
// valid JSON carrying them exactly (issue #11 item 10: an issuer with a quote signed invalid JSON).
TEST_F(CatalogTest, TokenClaimsAreJsonWhateverTheIssuerAndOwner) {
  catalog_.reset();
  CatalogOptions options;
  options.issuer = "https://idp.example/\"quoted\"\\x\n";
  auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), options);
  ASSERT_TRUE(c.ok()) << c.status();
  catalog_ = *std::move(c);
  v1::CreateApplicationRequest app;
  app.set_name("App");
  app.set_owner("O'Brien \"the\" owner");
  ASSERT_TRUE(catalog_->CreateApplication(app).ok());
  ASSERT_TRUE(catalog_->GenerateKeys("App", v1::PRODUCTION, false).ok());
  auto token = catalog_->IssueToken("App", v1::PRODUCTION, {}, 0);
  ASSERT_TRUE(token.ok()) << token.status();
  const std::string& t = token->access_token();
  size_t d1 = t.find('.'), d2 = t.rfind('.');
  std::string header, payload;
  ASSERT_TRUE(common::Base64UrlDecode(t.substr(0, d1), &header));
  ASSERT_TRUE(common::Base64UrlDecode(t.substr(d1 + 1, d2 - d1 - 1), &payload));
  Json claims = Json::parse(payload, nullptr, false);
  ASSERT_TRUE(claims.is_object()) << payload;
  EXPECT_EQ(claims["iss"], options.issuer);
  EXPECT_EQ(claims["sub"], app.owner());
  EXPECT_EQ(claims["jti"], token->jti());
  EXPECT_TRUE(Json::parse(header, nullptr, false).is_object()) << header;
  EXPECT_TRUE(Json::parse(*catalog_->Jwks(), nullptr, false)["keys"].is_array());
  EXPECT_TRUE(catalog_->RevokeToken(t, "").ok());  // the jti is read back from the JSON
}

}  // namespace
}  // namespace wsgate::agent
