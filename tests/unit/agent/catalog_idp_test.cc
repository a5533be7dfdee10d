// Unit tests for the catalog's identity providers (issue 14 item 6, schema v10): validation with
// field-naming errors, client registration per application, the snapshot part, fetch outcomes
// (only a changed key set is a data-plane change; a failure keeps the last good keys), and
// declarative apply / export.
#include <gtest/gtest.h>

#include "tests/unit/agent/catalog_fixture.h"

namespace wsgate::agent {
namespace {

v1::IdentityProviderSpec Spec(const std::string& name = "kc", const std::string& issuer = "https://sso.test/realms/a") {
  v1::IdentityProviderSpec s;
  s.set_name(name);
  s.set_issuer(issuer);
  s.set_jwks_url("https://sso.test/realms/a/certs");
  s.add_audiences("wsgate");
  return s;
}

v1::SigningKey Key(const std::string& kid) {
  v1::SigningKey k;
  k.set_kid(kid);
  k.set_algorithm(v1::ES256);
  k.set_public_key_pem("-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n");
  return k;
}

using CatalogIdpTest = CatalogFixture;

TEST_F(CatalogIdpTest, CreateValidatesAndFillsDefaults) {
  absl::StatusOr<v1::IdentityProviderInfo> kc = catalog_->CreateIdentityProvider(Spec());
  ASSERT_TRUE(kc.ok()) << kc.status();
  EXPECT_EQ(kc->spec().client_id_claim(), "azp");
  EXPECT_EQ(kc->spec().scope_claim(), "scope");
  EXPECT_EQ(kc->keys_size(), 0);
  EXPECT_EQ(catalog_->CreateIdentityProvider(Spec()).status().message(), "name: an identity provider named 'kc' already exists");
  EXPECT_EQ(catalog_->CreateIdentityProvider(Spec("other")).status().message(),
            "issuer: identity provider 'kc' already has issuer 'https://sso.test/realms/a'");
  EXPECT_EQ(catalog_->CreateIdentityProvider(Spec("own", "wsgate")).status().message(),
            "issuer: 'wsgate' is this agent's own issuer");
  EXPECT_EQ(catalog_->CreateIdentityProvider(Spec("bad name", "x")).status().message(),
            "name: 1-64 characters from [A-Za-z0-9._-]");
  v1::IdentityProviderSpec http = Spec("http", "y");
  http.set_jwks_url("http://sso.test/certs");
  EXPECT_EQ(catalog_->CreateIdentityProvider(http).status().message(),
            "jwks_url: http:// is allowed only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://");
  v1::IdentityProviderSpec claim = Spec("claim", "z");
  claim.set_scope_claim("my scope");
  EXPECT_EQ(catalog_->CreateIdentityProvider(claim).status().message(),
            "scope_claim: a JSON member name without spaces or quotes");
}

TEST_F(CatalogIdpTest, ClientsMapToApplicationsAndReachTheSnapshot) {
  ASSERT_TRUE(catalog_->CreateIdentityProvider(Spec()).ok());
  v1::CreateApplicationRequest app;
  app.set_name("ChatApp");
  ASSERT_TRUE(catalog_->CreateApplication(app).ok());
  v1::RegisterIdpClientRequest reg;
  reg.set_application("ChatApp");
  reg.set_idp("kc");
  reg.set_client_id("web");
  reg.set_key_type(v1::SANDBOX);
  absl::StatusOr<v1::IdpClient> c = catalog_->RegisterIdpClient(reg);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->application(), "ChatApp");
  EXPECT_EQ(catalog_->RegisterIdpClient(reg).status().message(), "client_id: 'web' of idp 'kc' is already registered");
  reg.set_idp("nope");
  EXPECT_EQ(catalog_->RegisterIdpClient(reg).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->DeleteIdentityProvider("kc").code(), absl::StatusCode::kFailedPrecondition);

  std::vector<v1::SigningKey> first = {Key("k1")};
  ASSERT_TRUE(catalog_->RecordIdpFetch("kc", "https://sso.test/realms/a/certs", &first,
                                       "", 0).ok());
  absl::StatusOr<v1::Snapshot> s = catalog_->BuildSnapshot();
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->identity_providers_size(), 1);
  const v1::IdentityProvider& p = s->identity_providers(0);
  EXPECT_EQ(p.issuer(), "https://sso.test/realms/a");
  EXPECT_EQ(p.audiences(0), "wsgate");
  ASSERT_EQ(p.keys_size(), 1);
  EXPECT_EQ(p.keys(0).kid(), "k1");
  ASSERT_EQ(p.clients_size(), 1);
  EXPECT_EQ(p.clients(0).client_id(), "web");
  EXPECT_EQ(p.clients(0).key_type(), v1::SANDBOX);

  v1::UnregisterIdpClientRequest un;
  un.set_application("ChatApp");
  un.set_idp("kc");
  un.set_client_id("web");
  ASSERT_TRUE(catalog_->UnregisterIdpClient(un).ok());
  EXPECT_EQ(catalog_->UnregisterIdpClient(un).message(),
            "client_id: 'web' of idp 'kc' is not registered to application 'ChatApp'");
  EXPECT_TRUE(catalog_->DeleteIdentityProvider("kc").ok());
}

TEST_F(CatalogIdpTest, OnlyAChangedKeySetIsPushedAndAFailureKeepsTheLastGoodOne) {
  ASSERT_TRUE(catalog_->CreateIdentityProvider(Spec()).ok());
  const std::string url = "https://sso.test/realms/a/certs";
  std::vector<v1::SigningKey> keys = {Key("k1")};
  size_t pushes = pushed_.size();
  ASSERT_TRUE(catalog_->RecordIdpFetch("kc", url, &keys, "", 5).ok());
  EXPECT_EQ(pushed_.size(), pushes + 1);
  ASSERT_TRUE(catalog_->RecordIdpFetch("kc", url, &keys, "", 6).ok());
  EXPECT_EQ(pushed_.size(), pushes + 1) << "the same keys again: no push";
  ASSERT_TRUE(catalog_->RecordIdpFetch("kc", url, nullptr, "HTTP 503 (want 200)", 7).ok());
  EXPECT_EQ(pushed_.size(), pushes + 1);
  absl::StatusOr<v1::IdentityProviderInfo> info = catalog_->GetIdentityProvider("kc");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->last_error(), "HTTP 503 (want 200)");
  ASSERT_EQ(info->keys_size(), 1) << "the last good keys stay";
  EXPECT_EQ(info->next_fetch_unix_ms(), 7);
  // An answer for a URL the provider no longer has is ignored.
  std::vector<v1::SigningKey> other = {Key("k9")};
  ASSERT_TRUE(catalog_->RecordIdpFetch("kc", "https://old.test/certs", &other, "", 8).ok());
  EXPECT_EQ(catalog_->GetIdentityProvider("kc")->keys(0).kid(), "k1");
  keys.push_back(Key("k2"));
  ASSERT_TRUE(catalog_->RecordIdpFetch("kc", url, &keys, "", 9).ok());
  EXPECT_EQ(pushed_.size(), pushes + 2);
  EXPECT_EQ(catalog_->GetIdentityProvider("kc")->last_error(), "");
  Reopen();  // kept in the catalog: an agent restart starts from the last good keys
  EXPECT_EQ(catalog_->GetIdentityProvider("kc")->keys_size(), 2);
}

TEST_F(CatalogIdpTest, DeclarativeApplyAndExport) {
  v1::ApplyCatalogRequest req;
  *req.mutable_document()->add_identity_providers() = Spec();
  absl::StatusOr<v1::ApplyCatalogResponse> r = catalog_->ApplyCatalog(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->changes_size(), 1);
  EXPECT_EQ(r->changes(0).kind(), "identity_provider");
  EXPECT_EQ(r->changes(0).action(), "create");
  r = catalog_->ApplyCatalog(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->changes_size(), 0) << "a second apply changes nothing";
  absl::StatusOr<v1::CatalogDocument> doc = catalog_->ExportCatalog();
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->identity_providers_size(), 1);
  EXPECT_EQ(doc->identity_providers(0).jwks_url(), "https://sso.test/realms/a/certs");
  req.mutable_document()->mutable_identity_providers(0)->set_scope_claim("permissions");
  r = catalog_->ApplyCatalog(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->changes(0).action(), "update");
  req.mutable_document()->mutable_identity_providers(0)->set_jwks_url("ftp://x");
  EXPECT_EQ(catalog_->ApplyCatalog(req).status().message(),
            "identity_providers[0].jwks_url: must be an https:// URL (http:// only to a loopback host)");
  req.mutable_document()->clear_identity_providers();
  req.set_prune(true);
  r = catalog_->ApplyCatalog(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(catalog_->ListIdentityProviders()->size(), 0u);
}

}  // namespace
}  // namespace wsgate::agent
