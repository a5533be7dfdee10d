// Unit tests for the audit log: which Admin RPCs are audited and what object a record names
// (agent/admin_audit.h), and the catalog's bounded audit table (agent/catalog_audit.cc).
#include "agent/admin_audit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "wsgate/v1/admin.pb.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

TEST(AuditRpcTest, MutationsAreEveryRpcButGetAndList) {
  EXPECT_EQ(MethodName("/wsgate.v1.Admin/CreateApi"), "CreateApi");
  for (const char* m : {"CreateApi", "DeleteApplication", "SendToConnection", "CloseConnection", "IssueToken",
                        "RevokeToken", "DeployRevision", "RotateSigningKey"})
    EXPECT_TRUE(IsMutation(m)) << m;
  for (const char* m : {"GetApi", "ListApis", "GetStatus", "ListAudit", "ListConnections", "GetConnection", ""})
    EXPECT_FALSE(IsMutation(m)) << m;
}

TEST(AuditRpcTest, ObjectIsTheReferenceTheRequestNamed) {
  v1::CreateApiRequest create;
  create.mutable_spec()->set_name("Chats");
  create.mutable_spec()->set_version("1.0.0");
  create.mutable_spec()->mutable_production_endpoint()->set_url("ws://user:secret@backend");
  AuditObject o = ObjectOf("CreateApi", create);
  EXPECT_EQ(o.kind, "api");
  EXPECT_EQ(o.name, "Chats:1.0.0");
  v1::DeployRevisionRequest deploy;
  deploy.set_api("Chats:1.0.0");
  deploy.set_revision(2);
  o = ObjectOf("DeployRevision", deploy);
  EXPECT_EQ(o.kind, "revision");
  EXPECT_EQ(o.name, "Chats:1.0.0 revision 2");
  v1::ThrottlePolicy policy;
  policy.set_name("Tiny");
  o = ObjectOf("CreateThrottlePolicy", policy);
  EXPECT_EQ(o.kind, "throttle policy");
  EXPECT_EQ(o.name, "Tiny");
  v1::AdminCloseRequest close;
  close.set_id("ab-0-1-2");
  close.set_reason("bye");
  EXPECT_EQ(ObjectOf("CloseConnection", close).name, "ab-0-1-2");
  // A token is never the object: revoking by value records no name, by jti records the jti.
  v1::RevokeTokenRequest revoke;
  revoke.set_token("eyJhbGciOi.secret.token");
  o = ObjectOf("RevokeToken", revoke);
  EXPECT_EQ(o.kind, "token");
  EXPECT_EQ(o.name, "");
  revoke.set_jti("jti-7");
  EXPECT_EQ(ObjectOf("RevokeToken", revoke).name, "jti-7");
}

class AuditTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    char tmpl[] = "/tmp/wsgate-audit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    catalog_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  void Open(CatalogOptions options) {
    auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), options);
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *std::move(c);
  }
  static v1::AuditEntry Entry(const std::string& object, int64_t time_ms = 0) {
    v1::AuditEntry e;
    e.set_time_unix_ms(time_ms);
    e.set_caller("admin");
    e.set_method("CreateApplication");
    e.set_object_kind("application");
    e.set_object(object);
    e.set_code("OK");
    return e;
  }
  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(AuditTableTest, KeepsTheNewestRowsAndNothingTooOld) {
  CatalogOptions options;
  options.audit_max_rows = 3;
  options.audit_max_age_s = 3600;
  Open(options);
  int64_t now_ms = static_cast<int64_t>(time(nullptr)) * 1000;
  ASSERT_TRUE(catalog_->RecordAudit(Entry("ancient", now_ms - 7200 * 1000)).ok());
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(catalog_->RecordAudit(Entry("app" + std::to_string(i))).ok());
  auto rows = catalog_->ListAudit(0, 100);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u) << "bounded to audit_max_rows";
  EXPECT_EQ((*rows)[0].object(), "app5") << "newest first";
  EXPECT_EQ((*rows)[2].object(), "app3");
  EXPECT_GT((*rows)[0].seq(), (*rows)[1].seq());
  EXPECT_EQ((*rows)[0].caller(), "admin");
  EXPECT_EQ((*rows)[0].code(), "OK");
  EXPECT_GE((*rows)[0].time_unix_ms(), now_ms - 5000);

  // An old row is gone even when the table is not full.
  ASSERT_TRUE(catalog_->RecordAudit(Entry("old", now_ms - 7200 * 1000)).ok());
  rows = catalog_->ListAudit(0, 100);
  ASSERT_TRUE(rows.ok());
  for (const auto& r : *rows) EXPECT_NE(r.object(), "old");

  EXPECT_EQ(catalog_->ListAudit(now_ms + 60000, 100)->size(), 0u) << "since the future: nothing";
  EXPECT_EQ(catalog_->ListAudit(0, 1)->size(), 1u);
  EXPECT_EQ(catalog_->ListAudit(0, 10001).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTableTest, SurvivesAReopen) {
  Open(CatalogOptions());
  ASSERT_TRUE(catalog_->RecordAudit(Entry("kept")).ok());
  catalog_.reset();
  Open(CatalogOptions());
  auto rows = catalog_->ListAudit(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].object(), "kept");
}

}  // namespace
}  // namespace wsgate::agent
