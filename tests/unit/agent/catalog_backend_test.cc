// Unit tests for the Catalog's backend identity (issue 14 item 7): the backend-signing key
// (made at migration, in the JWKS, pushed in the snapshot, rotated with the old one kept), and
// an API's BackendIdentity (defaults filled in, bad names refused with the field).
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "agent/json.h"
#include "tests/unit/agent/catalog_fixture.h"

namespace wsgate::agent {
namespace {

class CatalogBackendTest : public CatalogFixture {
 protected:
  v1::ApiSpec Spec() {
    v1::ApiSpec s;
    s.set_name("Chats");
    s.set_context("/chats");
    s.set_version("1.0.0");
    s.mutable_production_endpoint()->set_url("ws://localhost:8080");
    return s;
  }
  void DeployJwtApi() {
    v1::ApiSpec s = Spec();
    s.mutable_backend()->set_jwt(true);
    ASSERT_TRUE(catalog_->CreateApi(s).ok());
    ASSERT_TRUE(catalog_->SetPlans("Chats:1.0.0", {"AsyncGold"}).ok());
    ASSERT_TRUE(catalog_->ChangeLifecycle("Chats:1.0.0", "Publish").ok());
    ASSERT_TRUE(catalog_->CreateRevision("Chats:1.0.0", "first").ok());
    ASSERT_TRUE(catalog_->DeployRevision("Chats:1.0.0", 1, "Production and Sandbox", "localhost").ok());
  }
  std::vector<std::string> JwksKids() {
    std::vector<std::string> kids;
    Json jwks = Json::parse(*catalog_->Jwks());
    for (const auto& k : jwks["keys"]) kids.push_back(k["kid"]);
    return kids;
  }
};

TEST_F(CatalogBackendTest, AnEs256KeyExistsIsInTheJwksAndTheSnapshot) {
  auto keys = catalog_->ListBackendKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 1u);
  const v1::SigningKeyInfo& k = (*keys)[0];
  EXPECT_TRUE(k.active() && k.backend());
  EXPECT_EQ(k.algorithm(), v1::ES256);
  EXPECT_EQ(k.kid().rfind("backend-", 0), 0u) << k.kid();
  Json jwks = Json::parse(*catalog_->Jwks());
  ASSERT_EQ(jwks["keys"].size(), 2u);  // the token key and the backend key
  EXPECT_EQ(jwks["keys"][1]["kid"], k.kid());
  EXPECT_EQ(jwks["keys"][1]["kty"], "EC");
  EXPECT_EQ(jwks["keys"][1]["crv"], "P-256");
  EXPECT_FALSE(jwks["keys"][1].contains("d"));  // never the private part
  // Pushed only once a deployed API sends backend JWTs.
  EXPECT_FALSE(catalog_->BuildSnapshot()->has_backend_signing_key());
  DeployJwtApi();
  auto snap = catalog_->BuildSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->apis_size(), 1);
  EXPECT_TRUE(snap->apis(0).backend().jwt());
  EXPECT_EQ(snap->apis(0).backend().jwt_header(), "X-JWT-Assertion");
  EXPECT_EQ(snap->backend_signing_key().kid(), k.kid());
  EXPECT_EQ(snap->backend_signing_key().algorithm(), v1::ES256);
  EXPECT_NE(snap->backend_signing_key().private_key_pem().find("PRIVATE KEY"), std::string::npos);
  // The key survives a restart (made once, by the migration).
  Reopen();
  EXPECT_EQ((*catalog_->ListBackendKeys())[0].kid(), k.kid());
}

TEST_F(CatalogBackendTest, RotationKeepsTheOldPublicKeyForTheLongestValidity) {
  std::string old_kid = (*catalog_->ListBackendKeys())[0].kid();
  auto rotated = catalog_->RotateBackendKey(v1::SIGNING_ALGORITHM_UNSPECIFIED);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->algorithm(), v1::ES256);
  EXPECT_TRUE(rotated->active());
  EXPECT_NE(rotated->kid(), old_kid);
  auto keys = *catalog_->ListBackendKeys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].kid(), old_kid);
  EXPECT_FALSE(keys[0].active());
  int64_t now = absl::ToUnixSeconds(absl::Now());
  EXPECT_NEAR(keys[0].retire_after_unix_s(), now + 3600 + 60, 5);
  std::vector<std::string> kids = JwksKids();
  EXPECT_NE(std::find(kids.begin(), kids.end(), old_kid), kids.end());
  EXPECT_NE(std::find(kids.begin(), kids.end(), rotated->kid()), kids.end());
  DeployJwtApi();
  EXPECT_EQ(catalog_->BuildSnapshot()->backend_signing_key().kid(), rotated->kid());
  EXPECT_EQ(catalog_->RotateBackendKey(v1::RS256)->algorithm(), v1::RS256);  // WSO2-compatible RS256
  // Token keys are untouched.
  auto token_keys = *catalog_->ListSigningKeys();
  ASSERT_EQ(token_keys.size(), 1u);
  EXPECT_FALSE(token_keys[0].backend());
}

TEST_F(CatalogBackendTest, SpecDefaultsAndErrors) {
  v1::ApiSpec s = Spec();
  s.mutable_backend()->set_jwt(true);
  s.mutable_backend()->add_pass_headers("X-Request-Id");
  auto api = catalog_->CreateApi(s);
  ASSERT_TRUE(api.ok()) << api.status();
  EXPECT_EQ(api->spec().backend().jwt_header(), "X-JWT-Assertion");
  EXPECT_EQ(api->spec().backend().jwt_validity_s(), 900u);

  v1::ApiSpec bad = Spec();
  bad.mutable_backend()->add_pass_headers("Authorization");
  auto r = catalog_->UpdateApi("Chats:1.0.0", bad, {"backend"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "backend.pass_headers[0]: 'Authorization' is a client credential (never sent to the backend)");
  bad.mutable_backend()->clear_pass_headers();
  bad.mutable_backend()->set_jwt(true);
  bad.mutable_backend()->set_jwt_validity_s(7200);
  r = catalog_->UpdateApi("Chats:1.0.0", bad, {"backend"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "backend.jwt_validity_s: 7200 is outside 60..3600 seconds");
  EXPECT_EQ(catalog_->GetApi("Chats:1.0.0")->spec().backend().pass_headers(0), "X-Request-Id");  // unchanged
}

TEST_F(CatalogBackendTest, ExportCarriesTheSettingsAndApplyingItChangesNothing) {
  v1::ApiSpec s = Spec();
  s.mutable_backend()->set_jwt(true);
  s.mutable_backend()->add_pass_headers("X-Request-Id");
  ASSERT_TRUE(catalog_->CreateApi(s).ok());
  auto doc = catalog_->ExportCatalog();
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->apis_size(), 1);
  EXPECT_TRUE(doc->apis(0).spec().backend().jwt());
  EXPECT_EQ(doc->apis(0).spec().backend().jwt_header(), "X-JWT-Assertion");
  EXPECT_EQ(doc->DebugString().find("PRIVATE KEY"), std::string::npos);  // never the key
  v1::ApplyCatalogRequest req;
  *req.mutable_document() = *doc;
  auto again = catalog_->ApplyCatalog(req);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->changes_size(), 0) << again->DebugString();
  // A declared change to the list is applied as an API change.
  req.mutable_document()->mutable_apis(0)->mutable_spec()->mutable_backend()->add_pass_headers("Cookie");
  auto changed = catalog_->ApplyCatalog(req);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->changes_size(), 1) << changed->DebugString();
  EXPECT_EQ(catalog_->GetApi("Chats:1.0.0")->spec().backend().pass_headers_size(), 2);
}

}  // namespace
}  // namespace wsgate::agent
