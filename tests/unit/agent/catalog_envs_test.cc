// Unit tests for the catalog's gateway environments (agent/catalog_envs.cc): the default
// environment, env rules, deploy checks, per-environment snapshots, settings and certificates
// (agent/certificate.cc) with certificates made here by OpenSSL.
#include <gtest/gtest.h>

#include "agent/settings.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "agent/catalog.h"
#include "agent/certificate.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

// A key and a certificate for tests: self-signed, or issued by `issuer`.
struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~TestCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::string CertPem() const {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, cert);
    char* d = nullptr;
    long n = BIO_get_mem_data(b, &d);
    std::string out(d, static_cast<size_t>(n));
    BIO_free(b);
    return out;
  }
  std::string KeyPem() const {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* d = nullptr;
    long n = BIO_get_mem_data(b, &d);
    std::string out(d, static_cast<size_t>(n));
    BIO_free(b);
    return out;
  }
};

std::unique_ptr<TestCert> MakeCert(const std::string& cn, const std::string& san, long valid_from_s, long valid_for_s,
                                   const TestCert* issuer = nullptr) {
  auto c = std::make_unique<TestCert>();
  c->key = EVP_EC_gen("P-256");
  c->cert = X509_new();
  X509_set_version(c->cert, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(c->cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(c->cert), valid_from_s);
  X509_gmtime_adj(X509_getm_notAfter(c->cert), valid_for_s);
  X509_set_pubkey(c->cert, c->key);
  X509_NAME* name = X509_get_subject_name(c->cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c->cert, issuer ? X509_get_subject_name(issuer->cert) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer->cert : c->cert, c->cert, nullptr, nullptr, 0);
  if (!san.empty()) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(c->cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (issuer == nullptr) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(c->cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(c->cert, issuer ? issuer->key : c->key, EVP_sha256());
  return c;
}

constexpr long kDay = 86400;

class CatalogEnvsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    char tmpl[] = "/tmp/wsgate-envs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), CatalogOptions());
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *std::move(c);
  }
  void TearDown() override {
    catalog_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  v1::Environment Env(const std::string& name, std::vector<std::string> vhosts, int default_index = -1) {
    v1::Environment e;
    e.set_name(name);
    for (size_t i = 0; i < vhosts.size(); ++i) {
      v1::Vhost* v = e.add_vhosts();
      v->set_name(vhosts[i]);
      v->set_is_default(static_cast<int>(i) == default_index);
    }
    return e;
  }
  // An API with revision 1 deployed to `env` / `vhost`.
  void Deploy(const std::string& name, const std::string& env, const std::string& vhost) {
    v1::ApiSpec s;
    s.set_name(name);
    s.set_context("/" + name);
    s.set_version("1.0.0");
    s.mutable_production_endpoint()->set_url("ws://localhost:8080");
    s.add_plans("AsyncGold");
    ASSERT_TRUE(catalog_->CreateApi(s).ok());
    ASSERT_TRUE(catalog_->ChangeLifecycle(name + ":1.0.0", "Publish").ok());
    ASSERT_TRUE(catalog_->CreateRevision(name + ":1.0.0", "").ok());
    auto d = catalog_->DeployRevision(name + ":1.0.0", 1, env, vhost);
    ASSERT_TRUE(d.ok()) << d.status();
  }
  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogEnvsTest, TheDefaultEnvironmentIsWso2sWithLocalhostAsItsDefaultVhost) {
  auto envs = catalog_->ListEnvironments();
  ASSERT_TRUE(envs.ok());
  ASSERT_EQ(envs->size(), 1u);
  const v1::Environment& e = (*envs)[0];
  EXPECT_EQ(e.name(), "Production and Sandbox");
  EXPECT_EQ(e.type(), "hybrid");
  ASSERT_EQ(e.vhosts_size(), 1);
  EXPECT_EQ(e.vhosts(0).name(), "localhost");
  EXPECT_TRUE(e.vhosts(0).is_default());
  EXPECT_EQ(e.vhosts(0).ws_port(), 9099u);
  EXPECT_EQ(e.vhosts(0).wss_port(), 8099u);
  auto snap = catalog_->BuildSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->vhosts_size(), 1);
  EXPECT_TRUE(snap->vhosts(0).is_default());
  EXPECT_EQ(snap->vhosts(0).environment(), "Production and Sandbox");
}

// A v2 catalog (before environments were objects) keeps serving what it deployed.
TEST_F(CatalogEnvsTest, MigratingFromV2SeedsTheDefaultEnvironment) {
  if (::wsgate::testing::TestCatalogIsPostgres()) GTEST_SKIP() << "SQLite only: rewrites an older SQLite catalog file";
  Deploy("chats", "", "");
  catalog_.reset();
  {
    Db db;
    ASSERT_TRUE(db.Open(dir_ + "/catalog.db").ok());
    ASSERT_TRUE(db.Exec("DROP TABLE certificates; DROP TABLE environments; PRAGMA user_version = 2;").ok());
  }
  auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), CatalogOptions());
  ASSERT_TRUE(c.ok()) << c.status();
  catalog_ = *std::move(c);
  auto snap = catalog_->BuildSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->apis_size(), 1);
  ASSERT_EQ(snap->vhosts_size(), 1);
  EXPECT_EQ(snap->vhosts(0).name(), "localhost");
  EXPECT_TRUE(snap->vhosts(0).is_default());
}

TEST_F(CatalogEnvsTest, EnvironmentRules) {
  auto bad = [&](v1::Environment e, const std::string& want) {
    auto r = catalog_->CreateEnvironment(e);
    ASSERT_FALSE(r.ok()) << e.ShortDebugString();
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status();
  };
  bad(Env("", {"a.test"}), "name: must be non-empty");
  bad(Env("a@b", {"a.test"}), "without '@'");
  bad(Env("E", {}), "vhosts: an environment needs at least one vhost");
  bad(Env("E", {"bad host"}), "vhosts[0].name: 'bad host' is not a host name");
  bad(Env("E", {"a.*.test"}), "is not a host name");
  bad(Env("E", {"a.test", "A.TEST"}), "vhosts[1].name: 'a.test' is listed twice");
  v1::Environment two_defaults = Env("E", {"a.test", "b.test"});
  two_defaults.mutable_vhosts(0)->set_is_default(true);
  two_defaults.mutable_vhosts(1)->set_is_default(true);
  bad(two_defaults, "vhosts[1].is_default: an environment has at most one default vhost");
  v1::Environment typed = Env("E", {"a.test"});
  typed.set_type("staging");
  bad(typed, "type: 'staging' is not production, sandbox or hybrid");
  v1::Environment port = Env("E", {"a.test"});
  port.mutable_vhosts(0)->set_ws_port(70000);
  bad(port, "vhosts[0].ws_port: must be 1-65535");
  v1::Environment tls = Env("E", {"a.test"});
  tls.mutable_vhosts(0)->mutable_tls()->set_cert_file("/x");
  bad(tls, "wsgatectl cert set");
  bad(Env("Production and Sandbox", {"a.test"}), "already exists");

  v1::Environment ok = Env("Staging", {"GW.Example.Test", "*.example.test"}, 1);
  ok.set_type("Production");
  ok.mutable_vhosts(0)->add_aliases("[::1]");
  auto created = catalog_->CreateEnvironment(ok);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->type(), "production");
  EXPECT_EQ(created->vhosts(0).name(), "gw.example.test");
  EXPECT_EQ(created->vhosts(0).environment(), "Staging");
  EXPECT_EQ(created->vhosts(0).ws_port(), 9099u);
  EXPECT_TRUE(created->vhosts(1).is_default());
  auto got = catalog_->GetEnvironment("Staging");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->SerializeAsString(), created->SerializeAsString());
  EXPECT_TRUE(absl::IsNotFound(catalog_->GetEnvironment("Nope").status()));
}

TEST_F(CatalogEnvsTest, DeployChecksTheEnvironmentAndVhost) {
  ASSERT_TRUE(catalog_->CreateEnvironment(Env("Edge", {"gw.example.test", "other.example.test"})).ok());
  Deploy("chats", "Edge", "GW.example.test");
  auto unknown_env = catalog_->DeployRevision("chats:1.0.0", 1, "Nope", "");
  EXPECT_EQ(unknown_env.status().message(),
            "env: unknown gateway environment 'Nope' (known: 'Edge', 'Production and Sandbox'; create one with "
            "`wsgatectl env create`)");
  auto unknown_vhost = catalog_->DeployRevision("chats:1.0.0", 1, "Edge", "localhost");
  EXPECT_EQ(unknown_vhost.status().message(),
            "vhost: environment 'Edge' has no vhost 'localhost' (it has: gw.example.test, other.example.test)");
  auto no_default = catalog_->DeployRevision("chats:1.0.0", 1, "Edge", "");
  EXPECT_NE(no_default.status().message().find("no default one: give --vhost"), std::string::npos);
  // The walkthrough's defaults still work.
  auto d = catalog_->DeployRevision("chats:1.0.0", 1, "", "");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->environment(), "Production and Sandbox");
  EXPECT_EQ(d->vhost(), "localhost");
}

TEST_F(CatalogEnvsTest, EachEnvironmentsSnapshotHoldsOnlyWhatIsDeployedToIt) {
  ASSERT_TRUE(catalog_->CreateEnvironment(Env("Edge", {"gw.example.test"})).ok());
  Deploy("edgeapi", "Edge", "gw.example.test");
  Deploy("localapi", "", "");
  auto edge = catalog_->BuildSnapshot("Edge");
  ASSERT_TRUE(edge.ok()) << edge.status();
  ASSERT_EQ(edge->apis_size(), 1);
  EXPECT_EQ(edge->apis(0).name(), "edgeapi");
  EXPECT_EQ(edge->apis(0).vhosts(0), "gw.example.test");
  ASSERT_EQ(edge->vhosts_size(), 1);
  EXPECT_EQ(edge->vhosts(0).name(), "gw.example.test");
  auto local = catalog_->BuildSnapshot("Production and Sandbox");
  ASSERT_TRUE(local.ok());
  ASSERT_EQ(local->apis_size(), 1);
  EXPECT_EQ(local->apis(0).name(), "localapi");
  EXPECT_EQ(local->throttle_policies_size(), edge->throttle_policies_size());  // global objects in both
  EXPECT_EQ(local->signing_keys_size(), edge->signing_keys_size());
  EXPECT_TRUE(absl::IsNotFound(catalog_->BuildSnapshot("Nope").status()));
}

TEST_F(CatalogEnvsTest, DeleteAndUpdateAreRefusedWhileDeployed) {
  ASSERT_TRUE(catalog_->CreateEnvironment(Env("Edge", {"gw.example.test", "b.example.test"})).ok());
  Deploy("chats", "Edge", "gw.example.test");
  absl::Status del = catalog_->DeleteEnvironment("Edge");
  EXPECT_TRUE(absl::IsFailedPrecondition(del));
  EXPECT_EQ(del.message(),
            "environment 'Edge' serves revision 1 of chats:1.0.0; undeploy every revision from it first");
  auto drop_vhost = catalog_->UpdateEnvironment(Env("Edge", {"b.example.test"}));
  EXPECT_TRUE(absl::IsFailedPrecondition(drop_vhost.status()));
  EXPECT_NE(drop_vhost.status().message().find("'gw.example.test' serves revision 1 of chats:1.0.0"),
            std::string::npos);
  v1::Environment more = Env("Edge", {"gw.example.test", "c.example.test"}, 1);
  more.set_description("edge gateways");
  auto updated = catalog_->UpdateEnvironment(more);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(catalog_->GetEnvironment("Edge")->description(), "edge gateways");
  ASSERT_TRUE(catalog_->UndeployRevision("chats:1.0.0", 1, "Edge").ok());
  EXPECT_TRUE(catalog_->DeleteEnvironment("Edge").ok());
  EXPECT_TRUE(absl::IsNotFound(catalog_->DeleteEnvironment("Edge")));
  EXPECT_TRUE(absl::IsNotFound(catalog_->UpdateEnvironment(Env("Edge", {"a.test"})).status()));
}

TEST_F(CatalogEnvsTest, SettingsArePerEnvironmentAndReachTheSnapshot) {
  ASSERT_TRUE(catalog_->CreateEnvironment(Env("Edge", {"gw.example.test"})).ok());
  uint64_t before = catalog_->config_version();
  auto set = catalog_->SetSettings("Edge", {"max_message_bytes=1KiB", "ping_interval=10s", "clock_skew=5s"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_GT(catalog_->config_version(), before);
  EXPECT_EQ(set->values_size(), static_cast<int>(settings::Table().size()));
  auto edge = catalog_->BuildSnapshot("Edge");
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge->settings().max_message_bytes(), 1024u);
  EXPECT_EQ(edge->settings().ping_interval_ms(), 10000u);
  EXPECT_EQ(edge->token_validation().clock_skew_s(), 5u);
  auto local = catalog_->BuildSnapshot();
  EXPECT_EQ(local->settings().max_message_bytes(), 0u);  // the engine default
  // All or nothing: one bad assignment changes nothing.
  auto bad = catalog_->SetSettings("Edge", {"queue_bytes=1MiB", "ping_interval=50ms"});
  EXPECT_EQ(bad.status().message(), "ping_interval: 50ms is out of range [1s, 1h]");
  EXPECT_EQ(catalog_->BuildSnapshot("Edge")->settings().queue_bytes(), 0u);
  EXPECT_TRUE(absl::IsNotFound(catalog_->SetSettings("Nope", {"ping_interval=1s"}).status()));
  ASSERT_TRUE(catalog_->SetSettings("Edge", {"max_message_bytes=default"}).ok());
  auto got = catalog_->GetSettings("Edge");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->settings().max_message_bytes(), 0u);
  EXPECT_EQ(got->settings().ping_interval_ms(), 10000u);
}

TEST_F(CatalogEnvsTest, ApiOverridesAreCheckedAndPushed) {
  Deploy("chats", "", "");
  v1::ApiSpec spec;
  spec.set_max_message_bytes(10);
  auto bad = catalog_->UpdateApi("chats:1.0.0", spec, {"max_message_bytes"});
  EXPECT_EQ(bad.status().message(), "max_message_bytes: 10B is out of range [1KiB, 1GiB]");
  spec.set_max_message_bytes(4096);
  ASSERT_TRUE(catalog_->UpdateApi("chats:1.0.0", spec, {"max_message_bytes"}).ok());
  v1::ApiSpec ep;
  ep.mutable_production_endpoint()->set_url("ws://localhost:8080");
  ep.mutable_production_endpoint()->set_connect_timeout_ms(50);
  EXPECT_EQ(catalog_->UpdateApi("chats:1.0.0", ep, {"production_endpoint"}).status().message(),
            "production_endpoint.connect_timeout_ms: 50ms is out of range [100ms, 5m]");
  ep.mutable_production_endpoint()->set_connect_timeout_ms(5000);
  ASSERT_TRUE(catalog_->UpdateApi("chats:1.0.0", ep, {"production_endpoint"}).ok());
  ASSERT_TRUE(catalog_->CreateRevision("chats:1.0.0", "").ok());
  ASSERT_TRUE(catalog_->DeployRevision("chats:1.0.0", 2, "", "").ok());
  auto snap = catalog_->BuildSnapshot();
  ASSERT_EQ(snap->apis_size(), 1);
  EXPECT_EQ(snap->apis(0).max_message_bytes(), 4096u);
  EXPECT_EQ(snap->apis(0).production_endpoint().connect_timeout_ms(), 5000u);
}

TEST_F(CatalogEnvsTest, ApiAdmissionOverridesAreCheckedAndPushed) {
  Deploy("chats", "", "");
  v1::ApiSpec spec;
  spec.set_idle_timeout_ms(50);
  EXPECT_EQ(catalog_->UpdateApi("chats:1.0.0", spec, {"idle_timeout_ms"}).status().message(),
            "idle_timeout_ms: 50ms is out of range [100ms, 168h]");
  spec.set_idle_timeout_ms(300000);
  spec.set_max_lifetime_ms(3600000);
  spec.set_handshake_rate(20);
  spec.set_handshake_burst(40);
  ASSERT_TRUE(catalog_->UpdateApi("chats:1.0.0", spec,
                                  {"idle_timeout_ms", "max_lifetime_ms", "handshake_rate", "handshake_burst"})
                  .ok());
  ASSERT_TRUE(catalog_->CreateRevision("chats:1.0.0", "").ok());
  ASSERT_TRUE(catalog_->DeployRevision("chats:1.0.0", 2, "", "").ok());
  auto snap = catalog_->BuildSnapshot();
  ASSERT_EQ(snap->apis_size(), 1);
  EXPECT_EQ(snap->apis(0).idle_timeout_ms(), 300000u);
  EXPECT_EQ(snap->apis(0).max_lifetime_ms(), 3600000u);
  EXPECT_EQ(snap->apis(0).handshake_rate(), 20u);
  EXPECT_EQ(snap->apis(0).handshake_burst(), 40u);
}

TEST_F(CatalogEnvsTest, CertificatesAreValidatedStoredAndPushedToTheirVhostOnly) {
  ASSERT_TRUE(catalog_->CreateEnvironment(Env("Edge", {"gw.example.test", "*.apps.test"})).ok());
  auto ca = MakeCert("Test CA", "", -kDay, 365 * kDay);
  auto leaf = MakeCert("gw.example.test", "DNS:gw.example.test", -kDay, 90 * kDay, ca.get());
  std::string chain = leaf->CertPem() + ca->CertPem();
  auto info = catalog_->SetCertificate("Edge", "gw.example.test", chain, leaf->KeyPem());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->subject(), "CN=gw.example.test");
  EXPECT_EQ(info->issuer(), "CN=Test CA");
  ASSERT_EQ(info->sans_size(), 1);
  EXPECT_EQ(info->sans(0), "gw.example.test");
  EXPECT_TRUE(info->warnings().empty());
  auto snap = catalog_->BuildSnapshot("Edge");
  ASSERT_TRUE(snap.ok());
  for (const auto& v : snap->vhosts()) {
    if (v.name() == "gw.example.test") {
      EXPECT_EQ(v.tls().cert_pem(), chain);
      EXPECT_EQ(v.tls().key_pem(), leaf->KeyPem());
    } else {
      EXPECT_FALSE(v.has_tls()) << v.name();
    }
  }
  EXPECT_FALSE(catalog_->BuildSnapshot()->vhosts(0).has_tls());
  auto list = catalog_->ListCertificates("");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].vhost(), "gw.example.test");
  EXPECT_EQ((*list)[0].SerializeAsString().find("PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(absl::IsNotFound(catalog_->SetCertificate("Edge", "nope.test", chain, leaf->KeyPem()).status()));
  ASSERT_TRUE(catalog_->DeleteCertificate("Edge", "gw.example.test").ok());
  EXPECT_TRUE(absl::IsNotFound(catalog_->DeleteCertificate("Edge", "gw.example.test")));
  EXPECT_FALSE(catalog_->BuildSnapshot("Edge")->vhosts(0).has_tls());
}

// policy create --count-only: an explicit stop_on_quota_reach=false is kept; not given, a limit
// drops over quota (WSO2's default).
TEST_F(CatalogEnvsTest, CountOnlyPoliciesKeepStopOnQuotaReachFalse) {
  v1::ThrottlePolicy p;
  p.set_name("Counted");
  p.set_events(10);
  p.set_unit(v1::MINUTE);
  p.set_unit_count(5);
  p.set_stop_on_quota_reach(false);
  auto counted = catalog_->CreatePolicy(p);
  ASSERT_TRUE(counted.ok()) << counted.status();
  EXPECT_FALSE(counted->stop_on_quota_reach());
  EXPECT_EQ(counted->description(), "Allows 10 events per 5 minutes");
  p.set_name("Dropping");
  p.clear_stop_on_quota_reach();
  EXPECT_TRUE(catalog_->CreatePolicy(p)->stop_on_quota_reach());
  bool found = false;
  auto snap = catalog_->BuildSnapshot();
  ASSERT_TRUE(snap.ok());
  for (const auto& sp : snap->throttle_policies())
    if (sp.name() == "Counted") {
      found = true;
      EXPECT_FALSE(sp.stop_on_quota_reach());
      EXPECT_EQ(sp.unit_count(), 5u);
    }
  EXPECT_TRUE(found);
}

TEST(CertificateTest, RefusesWhatWouldFailAtTheHandshake) {
  int64_t now = time(nullptr);
  auto ca = MakeCert("Test CA", "", -kDay, 365 * kDay);
  auto leaf = MakeCert("gw.example.test", "DNS:gw.example.test", -kDay, 90 * kDay, ca.get());
  auto other = MakeCert("other", "DNS:other.test", -kDay, 90 * kDay);
  auto check = [&](const std::string& cert, const std::string& key, const std::string& vhost) {
    return InspectCertificate(cert, key, vhost, now).status();
  };
  EXPECT_TRUE(check(leaf->CertPem() + ca->CertPem(), leaf->KeyPem(), "gw.example.test").ok());
  EXPECT_TRUE(check(leaf->CertPem(), leaf->KeyPem(), "GW.example.test").ok());
  EXPECT_EQ(check("junk", leaf->KeyPem(), "gw.example.test").message(),
            "cert: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)");
  EXPECT_EQ(check(leaf->CertPem(), "junk", "gw.example.test").message(),
            "key: no unencrypted PEM private key found (expected -----BEGIN PRIVATE KEY-----)");
  EXPECT_NE(check(leaf->CertPem(), leaf->CertPem(), "gw.example.test").message().find("swap --cert and --key"),
            std::string::npos);
  EXPECT_EQ(check(leaf->CertPem(), other->KeyPem(), "gw.example.test").message(),
            "key: does not match the certificate's public key (the first certificate of --cert)");
  EXPECT_NE(check(ca->CertPem() + leaf->CertPem(), leaf->KeyPem(), "gw.example.test").message().find(
                "put the leaf first"),
            std::string::npos);
  std::string wrong_name = std::string(check(leaf->CertPem(), leaf->KeyPem(), "api.example.test").message());
  EXPECT_EQ(wrong_name, "cert: does not cover vhost 'api.example.test' (subject CN=gw.example.test, SANs: gw.example.test)");
  auto expired = MakeCert("old.test", "DNS:old.test", -10 * kDay, -kDay);
  EXPECT_NE(check(expired->CertPem(), expired->KeyPem(), "old.test").message().find("cert: expired"),
            std::string::npos);
  auto future = MakeCert("new.test", "DNS:new.test", kDay, 10 * kDay);
  EXPECT_NE(check(future->CertPem(), future->KeyPem(), "new.test").message().find("not valid yet"),
            std::string::npos);
  auto soon = MakeCert("soon.test", "DNS:soon.test", -kDay, 10 * kDay);
  auto info = InspectCertificate(soon->CertPem(), soon->KeyPem(), "soon.test", now);
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->warnings_size(), 1);
  EXPECT_EQ(info->warnings(0), "the certificate expires in 10 day(s)");
  // Wildcards: a certificate for *.apps.test covers a.apps.test and the *.apps.test vhost; a
  // single-name certificate does not cover a wildcard vhost.
  auto wild = MakeCert("apps", "DNS:*.apps.test", -kDay, 90 * kDay);
  EXPECT_TRUE(check(wild->CertPem(), wild->KeyPem(), "a.apps.test").ok());
  EXPECT_TRUE(check(wild->CertPem(), wild->KeyPem(), "*.apps.test").ok());
  auto single = MakeCert("a.apps.test", "DNS:a.apps.test", -kDay, 90 * kDay);
  EXPECT_FALSE(check(single->CertPem(), single->KeyPem(), "*.apps.test").ok());
}

}  // namespace
}  // namespace wsgate::agent
