// Unit tests for the catalog's API keys (issue 14 item 4, agent/catalog_api_keys.cc) and APIs'
// security schemes, on a real SQLite file: create (shown once, 256 random bits, stored as SHA-256
// only), list, revoke, restrictions and their validation, expiry, the snapshot the engines get,
// the owner the admin service's own-application rule asks for, and the rows surviving a reopen.
#include <gtest/gtest.h>

#include "agent/catalog.h"
#include "agent/signer.h"
#include "tests/unit/agent/catalog_fixture.h"

namespace wsgate::agent {
namespace {

class CatalogApiKeysTest : public CatalogFixture {
 protected:
  void SetUp() override {
    CatalogFixture::SetUp();
    for (const char* name : {"Chats", "Other"}) {
      v1::ApiSpec s;
      s.set_name(name);
      s.set_context(std::string("/") + name);
      s.set_version("1.0.0");
      s.mutable_production_endpoint()->set_url("ws://localhost:8080");
      s.add_security("oauth2");
      s.add_security("apikey");  // WSO2's other spelling
      auto api = catalog_->CreateApi(s);
      ASSERT_TRUE(api.ok()) << api.status();
      api_ids_.push_back(api->id());
    }
    for (auto [name, owner] : {std::pair{"BobsApp", "bob"}, std::pair{"CarolsApp", "carol"}}) {
      v1::CreateApplicationRequest r;
      r.set_name(name);
      r.set_owner(owner);
      ASSERT_TRUE(catalog_->CreateApplication(r).ok());
    }
  }
  absl::StatusOr<v1::ApiKeyInfo> Create(const std::string& app, int64_t validity_s = 0) {
    v1::CreateApiKeyRequest r;
    r.set_application(app);
    r.set_validity_s(validity_s);
    return catalog_->CreateApiKey(r);
  }
  std::vector<std::string> api_ids_;
};

TEST_F(CatalogApiKeysTest, SchemesAreNormalizedAndChecked) {
  auto api = catalog_->GetApi("Chats:1.0.0");
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(std::vector<std::string>(api->spec().security().begin(), api->spec().security().end()),
            (std::vector<std::string>{"oauth2", "api_key"}));
  v1::ApiSpec s;
  s.add_security("basic");
  auto refused = catalog_->UpdateApi("Chats:1.0.0", s, {"security"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "security: Basic authentication does not work for WebSocket APIs; use oauth2 or api_key");
  s.set_security(0, "mutual_tls");
  refused = catalog_->UpdateApi("Chats:1.0.0", s, {"security"});
  EXPECT_EQ(refused.status().message(), "security: unsupported scheme 'mutual_tls' (oauth2 or api_key)");
  s.set_security(0, "API_KEY");
  auto only_keys = catalog_->UpdateApi("Chats:1.0.0", s, {"security"});
  ASSERT_TRUE(only_keys.ok()) << only_keys.status();
  ASSERT_EQ(only_keys->spec().security_size(), 1);
  EXPECT_EQ(only_keys->spec().security(0), "api_key");
}

TEST_F(CatalogApiKeysTest, SchemesAreDeclarativeButKeysAreNeverExported) {
  auto key = Create("BobsApp");
  ASSERT_TRUE(key.ok());
  auto doc = catalog_->ExportCatalog();
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->apis_size(), 2);
  EXPECT_EQ(std::vector<std::string>(doc->apis(0).spec().security().begin(), doc->apis(0).spec().security().end()),
            (std::vector<std::string>{"oauth2", "api_key"}));
  EXPECT_EQ(doc->SerializeAsString().find(key->prefix()), std::string::npos);
  // Applying the document back changes nothing; applying it with api_key only changes that field.
  v1::ApplyCatalogRequest same;
  *same.mutable_document() = *doc;
  auto unchanged = catalog_->ApplyCatalog(same);
  ASSERT_TRUE(unchanged.ok()) << unchanged.status();
  EXPECT_EQ(unchanged->changes_size(), 0);
  v1::ApplyCatalogRequest keys_only = same;
  keys_only.mutable_document()->mutable_apis(0)->mutable_spec()->clear_security();
  keys_only.mutable_document()->mutable_apis(0)->mutable_spec()->add_security("api_key");
  auto applied = catalog_->ApplyCatalog(keys_only);
  ASSERT_TRUE(applied.ok()) << applied.status();
  ASSERT_EQ(applied->changes_size(), 1);
  EXPECT_EQ(applied->changes(0).action(), "update");
  EXPECT_EQ(catalog_->GetApi(doc->apis(0).spec().name() + ":1.0.0")->spec().security(0), "api_key");
  EXPECT_EQ(catalog_->ListApiKeys("BobsApp")->size(), 1u);  // apply leaves keys alone
}

TEST_F(CatalogApiKeysTest, CreateShowsTheKeyOnceAndStoresItsHash) {
  size_t pushes = pushed_.size();
  v1::CreateApiKeyRequest r;
  r.set_application("BobsApp");
  r.set_key_type(v1::SANDBOX);
  r.set_validity_s(3600);
  r.add_apis("Chats:1.0.0");
  r.add_apis(api_ids_[0]);  // the same API twice: listed once
  r.add_ip_ranges("10.0.0.0/8");
  r.add_ip_ranges("2001:db8::/32");
  r.add_origins("https://*.example.com");
  auto key = catalog_->CreateApiKey(r);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(pushed_.size(), pushes + 1);  // a data-plane change
  EXPECT_EQ(key->api_key().rfind("wsk_", 0), 0u);
  EXPECT_EQ(key->api_key().size(), 4u + 64u);  // 32 random bytes in hex
  EXPECT_EQ(key->prefix(), key->api_key().substr(0, 12));
  EXPECT_EQ(key->application_name(), "BobsApp");
  EXPECT_EQ(key->key_type(), v1::SANDBOX);
  EXPECT_GT(key->expires_unix_s(), key->created_unix_ms() / 1000 + 3590);
  EXPECT_EQ(std::vector<std::string>(key->apis().begin(), key->apis().end()), std::vector<std::string>{"Chats:1.0.0"});
  auto second = Create("BobsApp");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->api_key(), key->api_key());
  EXPECT_EQ(second->expires_unix_s(), 0);

  auto listed = catalog_->ListApiKeys("BobsApp");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& k : *listed) EXPECT_TRUE(k.api_key().empty()) << "the key text is never listed";
  EXPECT_EQ((*listed)[0].id(), key->id());
  EXPECT_EQ((*listed)[0].ip_ranges_size(), 2);
  EXPECT_EQ((*listed)[0].origins(0), "https://*.example.com");

  auto snap = catalog_->BuildSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->api_keys_size(), 2);
  const v1::ApiKey* pushed = nullptr;
  for (const auto& k : snap->api_keys())
    if (k.id() == key->id()) pushed = &k;
  ASSERT_NE(pushed, nullptr);
  EXPECT_EQ(pushed->sha256(), Sha256(key->api_key()));
  EXPECT_EQ(pushed->sha256().size(), 32u);
  EXPECT_EQ(pushed->key_type(), v1::SANDBOX);
  EXPECT_EQ(std::vector<std::string>(pushed->apis().begin(), pushed->apis().end()), std::vector<std::string>{api_ids_[0]});
  EXPECT_EQ(pushed->ip_ranges(1), "2001:db8::/32");
  EXPECT_EQ(pushed->expires_unix_s(), key->expires_unix_s());
  // Nothing in the catalog's snapshot or listing holds the key text itself.
  EXPECT_EQ(snap->SerializeAsString().find(key->api_key()), std::string::npos);
}

TEST_F(CatalogApiKeysTest, BadInputNamesTheField) {
  v1::CreateApiKeyRequest r;
  r.set_application("NoSuchApp");
  EXPECT_EQ(catalog_->CreateApiKey(r).status().code(), absl::StatusCode::kNotFound);
  r.set_application("BobsApp");
  r.add_ip_ranges("10.0.0.300");
  auto bad = catalog_->CreateApiKey(r);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("ip_ranges[0]: ", 0), 0u) << bad.status();
  r.clear_ip_ranges();
  r.add_origins("example.com");
  bad = catalog_->CreateApiKey(r);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("origins[0]: ", 0), 0u) << bad.status();
  r.clear_origins();
  r.add_apis("Nope:1");
  bad = catalog_->CreateApiKey(r);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(bad.status().message().find("no API 'Nope:1'"), std::string::npos) << bad.status();
  r.clear_apis();
  r.set_validity_s(-5);
  bad = catalog_->CreateApiKey(r);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("validity: ", 0), 0u) << bad.status();
  r.set_validity_s(-1);  // WSO2's "never"
  auto never = catalog_->CreateApiKey(r);
  ASSERT_TRUE(never.ok()) << never.status();
  EXPECT_EQ(never->expires_unix_s(), 0);
  r.set_key_type(static_cast<v1::KeyType>(7));
  EXPECT_EQ(catalog_->CreateApiKey(r).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->ListApiKeys("NoSuchApp").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogApiKeysTest, RevokeRemovesItFromTheSnapshot) {
  auto key = Create("BobsApp");
  ASSERT_TRUE(key.ok());
  size_t pushes = pushed_.size();
  ASSERT_TRUE(catalog_->RevokeApiKey(key->id()).ok());
  EXPECT_EQ(pushed_.size(), pushes + 1);
  EXPECT_EQ(catalog_->BuildSnapshot()->api_keys_size(), 0);
  EXPECT_TRUE(catalog_->ListApiKeys("")->empty());
  absl::Status again = catalog_->RevokeApiKey(key->id());
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(again.message(), "api key: no API key '" + key->id() + "' (see `wsgatectl apikey list`)");
  EXPECT_EQ(catalog_->RevokeApiKey("").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogApiKeysTest, OwnersForTheOwnApplicationRule) {
  auto bobs = Create("BobsApp");
  auto carols = Create("CarolsApp");
  ASSERT_TRUE(bobs.ok() && carols.ok());
  EXPECT_EQ(*catalog_->ApiKeyOwner(bobs->id()), "bob");
  EXPECT_EQ(*catalog_->ApiKeyOwner(carols->id()), "carol");
  EXPECT_EQ(catalog_->ApiKeyOwner("nope").status().code(), absl::StatusCode::kNotFound);
  auto all = catalog_->ListApiKeys("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);  // ordered by application name
  EXPECT_EQ((*all)[0].application_name(), "BobsApp");
  EXPECT_EQ((*all)[1].application_name(), "CarolsApp");
}

TEST_F(CatalogApiKeysTest, ExpiredKeysAreListedButNotPushed) {
  auto key = Create("BobsApp", 1);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(catalog_->BuildSnapshot()->api_keys_size(), 1);
  // The snapshot drops a key once its expiry has passed (engines close its sockets at expiry).
  sleep(2);
  EXPECT_EQ(catalog_->BuildSnapshot()->api_keys_size(), 0);
  EXPECT_EQ(catalog_->ListApiKeys("BobsApp")->size(), 1u);
}

TEST_F(CatalogApiKeysTest, KeysSurviveReopeningAndGoWithTheirApplication) {
  auto key = Create("BobsApp");
  ASSERT_TRUE(key.ok());
  Reopen();
  auto listed = catalog_->ListApiKeys("BobsApp");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id(), key->id());
  ASSERT_TRUE(catalog_->DeleteApplication("BobsApp").ok());
  EXPECT_TRUE(catalog_->ListApiKeys("")->empty());
  EXPECT_EQ(catalog_->BuildSnapshot()->api_keys_size(), 0);
}

}  // namespace
}  // namespace wsgate::agent
