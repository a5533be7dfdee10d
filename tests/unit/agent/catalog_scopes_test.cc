// Unit tests for the catalog's API scopes and token grants (issue 14 item 1) and its agent-managed
// opaque tokens (item 5), on a real SQLite file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "agent/signer.h"
#include "tests/unit/agent/catalog_fixture.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

class CatalogScopesTest : public CatalogFixture {
 protected:
  // Chats:1.0.0, published, declaring chat:read (anyone) and chat:write (bound to `write_roles`),
  // with /rooms needing chat:write.
  void Publish(const std::vector<std::string>& write_roles) {
    v1::ApiSpec s;
    s.set_name("Chats");
    s.set_context("/chats");
    s.set_version("1.0.0");
    s.mutable_production_endpoint()->set_url("ws://localhost:8080");
    v1::ApiScope* read = s.add_scopes();
    read->set_name("chat:read");
    read->set_description("read rooms");
    v1::ApiScope* write = s.add_scopes();
    write->set_name("chat:write");
    for (const auto& r : write_roles) write->add_roles(r);
    v1::Topic* t = s.add_topics();
    t->set_name("/rooms");
    t->add_scopes("chat:write");
    s.add_plans("AsyncGold");
    auto api = catalog_->CreateApi(s);
    ASSERT_TRUE(api.ok()) << api.status();
    ASSERT_TRUE(catalog_->ChangeLifecycle("Chats:1.0.0", "Publish").ok());
  }
  std::string App(const std::string& name, const std::string& owner,
                  v1::TokenFormat format = v1::TOKEN_FORMAT_UNSPECIFIED) {
    v1::CreateApplicationRequest r;
    r.set_name(name);
    r.set_owner(owner);
    r.set_token_format(format);
    EXPECT_TRUE(catalog_->CreateApplication(r).ok());
    auto keys = catalog_->GenerateKeys(name, v1::PRODUCTION, false);
    EXPECT_TRUE(keys.ok());
    return keys.ok() ? keys->consumer_key() : "";
  }
};

TEST_F(CatalogScopesTest, TopicsNameOnlyDeclaredScopes) {
  Publish({});
  v1::Topic t;
  t.set_name("/notes");
  t.add_scopes("chat:admin");
  auto refused = catalog_->AddTopic("Chats:1.0.0", t);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("topics[1].scopes: topic /notes names scope 'chat:admin', which API "
                                            "Chats:1.0.0 does not declare (declared: chat:read, chat:write)"),
            std::string::npos)
      << refused.status();
  t.set_scopes(0, "chat:read");
  EXPECT_TRUE(catalog_->AddTopic("Chats:1.0.0", t).ok());

  // Declarations: names are scope-tokens, each once; roles have no spaces or commas.
  v1::ApiSpec spec = catalog_->GetApi("Chats:1.0.0")->spec();
  for (auto [edit, message] : std::vector<std::pair<std::function<void(v1::ApiSpec&)>, std::string>>{
           {[](v1::ApiSpec& s) { s.mutable_scopes(0)->set_name("two words"); }, "scopes[0].name: bad scope name"},
           {[](v1::ApiSpec& s) { s.mutable_scopes(1)->set_name("chat:read"); }, "scopes[1].name: scope 'chat:read' is declared twice"},
           {[](v1::ApiSpec& s) { s.mutable_scopes(0)->add_roles("a,b"); }, "scopes[0].roles: bad role 'a,b'"},
           {[](v1::ApiSpec& s) { s.clear_scopes(); }, "topics[0].scopes: topic /rooms names scope 'chat:write'"}}) {
    v1::ApiSpec bad = spec;
    edit(bad);
    auto r = catalog_->UpdateApi("Chats:1.0.0", bad, {"scopes"});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status();
  }
  EXPECT_EQ(catalog_->GetApi("Chats:1.0.0")->spec().scopes_size(), 2);  // nothing changed
}

TEST_F(CatalogScopesTest, TokensGetDeclaredScopesOnlyThroughSubscriptionsAndRoles) {
  Publish({"admin"});
  std::string mine = App("Mine", "admin");
  std::string theirs = App("Theirs", "alice");
  // Not subscribed: nothing declared applies, even to the admin's application.
  auto unsubscribed = catalog_->IssueTokenForClient(mine, {"chat:read"});
  EXPECT_EQ(unsubscribed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unsubscribed.status().message().find("was not granted scope 'chat:read': it is not declared by any API"),
            std::string::npos)
      << unsubscribed.status();
  auto sub = catalog_->CreateSubscription("Mine", "Chats:1.0.0", "AsyncGold");
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(catalog_->CreateSubscription("Theirs", "Chats:1.0.0", "AsyncGold").ok());
  // The admin owner holds every role: chat:write (bound to admin) too.
  auto both = catalog_->IssueTokenForClient(mine, {"chat:read", "chat:write"});
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->scope(), "chat:read chat:write");
  EXPECT_TRUE(catalog_->IssueToken("Mine", v1::PRODUCTION, {"chat:write"}, 60).ok());
  // alice holds no role: the unbound scope only.
  EXPECT_TRUE(catalog_->IssueTokenForClient(theirs, {"chat:read"}).ok());
  auto bound = catalog_->IssueTokenForClient(theirs, {"chat:write"});
  EXPECT_EQ(bound.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bound.status().message().find("declared by Chats:1.0.0, it is bound to the roles admin"), std::string::npos)
      << bound.status();
  EXPECT_EQ(catalog_->IssueToken("Theirs", v1::PRODUCTION, {"chat:write"}, 60).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->OwnerRoles("admin"), AllRoles());
  EXPECT_TRUE(catalog_->OwnerRoles("alice").empty());
  // A subscription awaiting approval grants nothing.
  v1::UpdateSubscriptionRequest hold;
  hold.set_subscription(sub->id());
  hold.set_state(v1::ON_HOLD);
  ASSERT_TRUE(catalog_->UpdateSubscription(hold).ok());
  EXPECT_EQ(catalog_->IssueTokenForClient(mine, {"chat:read"}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogScopesTest, OpaqueTokensArePushedAsHashesAndRevocable) {
  Publish({});
  std::string key = App("Opaque", "admin", v1::TOKEN_FORMAT_OPAQUE);
  ASSERT_TRUE(catalog_->CreateSubscription("Opaque", "Chats:1.0.0", "AsyncGold").ok());
  EXPECT_EQ(catalog_->GetApplication("Opaque")->token_format(), v1::TOKEN_FORMAT_OPAQUE);
  size_t pushes = pushed_.size();
  auto token = catalog_->IssueTokenForClient(key, {"chat:read"});
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->access_token().size(), 64u);
  EXPECT_EQ(token->access_token().find('.'), std::string::npos);  // never taken for a JWT
  EXPECT_EQ(pushed_.size(), pushes + 1);  // a data-plane change
  auto snap = catalog_->BuildSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->opaque_tokens_size(), 1);
  EXPECT_EQ(snap->opaque_tokens(0).sha256(), Sha256(token->access_token()));
  EXPECT_EQ(snap->opaque_tokens(0).client_id(), key);
  EXPECT_EQ(snap->opaque_tokens(0).scopes_size(), 1);
  EXPECT_NEAR(snap->opaque_tokens(0).expires_unix_s(), time(nullptr) + 3600, 5);
  // Scope rules hold for opaque tokens too.
  EXPECT_EQ(catalog_->IssueTokenForClient(key, {"admin"}).status().code(), absl::StatusCode::kInvalidArgument);

  // A JWT application gets one on request (wsgatectl token --opaque), by its jti too.
  App("Jwt", "admin");
  auto forced = catalog_->IssueToken("Jwt", v1::PRODUCTION, {}, 120, /*opaque=*/true);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(forced->access_token().find('.'), std::string::npos);
  EXPECT_EQ(forced->expires_in(), 120u);
  auto jwt = catalog_->IssueToken("Jwt", v1::PRODUCTION, {}, 120);
  ASSERT_TRUE(jwt.ok());
  EXPECT_NE(jwt->access_token().find('.'), std::string::npos);
  EXPECT_EQ(catalog_->BuildSnapshot()->opaque_tokens_size(), 2);

  // RFC 7009: another client's token is quietly left alone; its own goes.
  ASSERT_TRUE(catalog_->RevokeTokenOfClient("someone-else", token->access_token()).ok());
  EXPECT_EQ(catalog_->BuildSnapshot()->opaque_tokens_size(), 2);
  ASSERT_TRUE(catalog_->RevokeTokenOfClient(key, token->access_token()).ok());
  EXPECT_EQ(catalog_->BuildSnapshot()->opaque_tokens_size(), 1);
  EXPECT_EQ(catalog_->RevokeToken(token->access_token(), "").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(catalog_->RevokeToken("", forced->jti()).ok());
  EXPECT_EQ(catalog_->BuildSnapshot()->opaque_tokens_size(), 0);
  EXPECT_EQ(catalog_->BuildSnapshot()->revoked_tokens_size(), 0);  // no jti list for opaque ones

  // Revoking by text; regenerating the keys forgets the old key's tokens.
  auto again = catalog_->IssueTokenForClient(key, {});
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(catalog_->RevokeToken(again->access_token(), "").ok());
  ASSERT_TRUE(catalog_->IssueTokenForClient(key, {}).ok());
  ASSERT_TRUE(catalog_->GenerateKeys("Opaque", v1::PRODUCTION, true).ok());
  EXPECT_EQ(catalog_->BuildSnapshot()->opaque_tokens_size(), 0);

  // The format is updatable, and survives a reopen.
  v1::UpdateApplicationRequest update;
  update.set_application("Jwt");
  update.set_token_format(v1::TOKEN_FORMAT_OPAQUE);
  ASSERT_TRUE(catalog_->UpdateApplication(update).ok());
  EXPECT_EQ(catalog_internal::CheckTokenFormat(v1::TOKEN_FORMAT_UNSPECIFIED).value(), v1::TOKEN_FORMAT_JWT);
  auto bad = catalog_internal::CheckTokenFormat(static_cast<v1::TokenFormat>(7));
  EXPECT_EQ(bad.status().message(), "token_format: unknown format 7 (jwt or opaque)");
  Reopen();
  EXPECT_EQ(catalog_->GetApplication("Jwt")->token_format(), v1::TOKEN_FORMAT_OPAQUE);
}

TEST_F(CatalogScopesTest, ExpiredOpaqueTokensLeaveTheSnapshot) {
  std::string key = App("Opaque", "admin", v1::TOKEN_FORMAT_OPAQUE);
  ASSERT_TRUE(catalog_->IssueToken("Opaque", v1::PRODUCTION, {}, 1).ok());
  EXPECT_EQ(catalog_->BuildSnapshot()->opaque_tokens_size(), 1);
  sleep(2);
  EXPECT_EQ(catalog_->BuildSnapshot()->opaque_tokens_size(), 0);
}

// A schema v4 catalog whose topics name scopes no API declared (they were free text then): the
// v5 migration declares them, so the API still validates and its applications keep working.
TEST_F(CatalogScopesTest, SchemaV5DeclaresTheScopesOlderTopicsName) {
  if (::wsgate::testing::TestCatalogIsPostgres()) GTEST_SKIP() << "SQLite only: rewrites an older SQLite catalog file";
  Publish({});
  catalog_.reset();
  {
    Db db;
    ASSERT_TRUE(db.Open(dir_ + "/catalog.db").ok());
    v1::ApiSpec spec;
    {
      Statement st = db.Prepare("SELECT spec FROM apis");
      ASSERT_TRUE(st.Next());
      spec.ParseFromString(st.Text(0));
    }
    spec.clear_scopes();
    spec.mutable_topics(0)->add_scopes("legacy");
    ASSERT_TRUE(db.Prepare("UPDATE apis SET spec = ?").BindBlob(1, spec.SerializeAsString()).Run().ok());
    ASSERT_TRUE(db.Exec("ALTER TABLE applications DROP COLUMN token_format; DROP TABLE opaque_tokens; "
                        "PRAGMA user_version = 4;")
                    .ok());
  }
  Reopen();
  v1::ApiSpec spec = catalog_->GetApi("Chats:1.0.0")->spec();
  ASSERT_EQ(spec.scopes_size(), 2);
  EXPECT_EQ(spec.scopes(0).name(), "chat:write");
  EXPECT_EQ(spec.scopes(1).name(), "legacy");
  EXPECT_TRUE(catalog_->UpdateApi("Chats:1.0.0", spec, {"description"}).ok());
}

}  // namespace
}  // namespace wsgate::agent
