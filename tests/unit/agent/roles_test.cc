// Unit tests for admin users and roles: the one table of which roles may call which Admin RPC
// (agent/roles.h; every RPC of the service must have a row), the PERMISSION_DENIED text
// (agent/admin_auth.h), and the catalog's users (agent/catalog_users.cc).
#include "agent/roles.h"
#include "tests/unit/agent/catalog_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "agent/admin_auth.h"
#include "agent/catalog.h"
#include "google/protobuf/descriptor.h"
#include "wsgate/v1/admin.grpc.pb.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

constexpr RoleSet kCreator = Bit(Role::kCreator), kPublisher = Bit(Role::kPublisher),
                  kSubscriber = Bit(Role::kSubscriber), kAdmin = Bit(Role::kAdmin);

TEST(RoleTableTest, EveryRpcOfTheServiceHasARowAndEveryRowIsAnRpc) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("wsgate.v1.Admin");
  ASSERT_NE(service, nullptr);
  std::set<std::string> rpcs;
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string& name = service->method(i)->name();
    rpcs.insert(name);
    EXPECT_TRUE(RuleFor(name).in_table) << "Admin RPC " << name
                                        << " has no row in agent/roles.cc's kTable: add one with the roles it needs";
  }
  std::set<std::string> rows;
  for (std::string_view m : TableMethods()) {
    EXPECT_TRUE(rows.insert(std::string(m)).second) << "two rows for " << m;
    EXPECT_TRUE(rpcs.count(std::string(m))) << "row " << m << " names no RPC of wsgate.v1.Admin";
  }
}

TEST(RoleTableTest, AnRpcNotInTheTableIsAdminOnly) {
  RoleRule rule = RuleFor("FrobnicateEverything");
  EXPECT_FALSE(rule.in_table);
  EXPECT_EQ(rule.roles, kAdmin);
  EXPECT_FALSE(RoleAllows(kCreator | kPublisher | kSubscriber, "FrobnicateEverything"));
  EXPECT_TRUE(RoleAllows(kAdmin, "FrobnicateEverything"));
  EXPECT_FALSE(RoleAllows(kAllRoles & ~kAdmin, ""));
}

TEST(RoleTableTest, WsoRolesSplitTheWork) {
  struct Case {
    const char* method;
    RoleSet role;
    bool allowed;
  } cases[] = {
      {"CreateApi", kCreator, true},        {"CreateApi", kSubscriber, false},
      {"CreateApi", kPublisher, false},     {"UpdateApi", kCreator, true},
      {"AddTopic", kCreator, true},         {"ChangeLifecycle", kPublisher, true},
      {"ChangeLifecycle", kCreator, false}, {"DeployRevision", kPublisher, true},
      {"DeployRevision", kCreator, false},  {"UndeployRevision", kCreator, false},
      {"CreateRevision", kCreator, true},   {"GetApi", kSubscriber, true},
      {"ListApis", kSubscriber, true},      {"CreateApplication", kSubscriber, true},
      {"CreateApplication", kCreator, false}, {"IssueToken", kSubscriber, true},
      {"IssueToken", kPublisher, false},    {"CreateUser", kSubscriber | kCreator | kPublisher, false},
      {"SetSettings", kPublisher, false},   {"SetCertificate", kCreator, false},
      {"CreateEnvironment", kPublisher, false}, {"CreateThrottlePolicy", kCreator, false},
      {"ApplyCatalog", kCreator | kPublisher | kSubscriber, false}, {"ListAudit", kPublisher, false},
      {"GetStatus", kSubscriber, true},     {"GetCurrentUser", kSubscriber, true},
  };
  for (const Case& c : cases) EXPECT_EQ(RoleAllows(c.role, c.method), c.allowed) << c.method << " " << int{c.role};
  for (std::string_view m : TableMethods()) EXPECT_TRUE(RoleAllows(kAdmin, m)) << m;
}

TEST(RoleTableTest, ApplicationRpcsAreLimitedToOwnApplications) {
  for (const char* m : {"CreateApplication", "GetApplication", "ListApplications", "UpdateApplication",
                        "DeleteApplication", "CreateSubscription", "ListSubscriptions", "UpdateSubscription",
                        "DeleteSubscription", "GenerateKeys", "ListKeys", "DeleteKeys", "IssueToken", "RevokeToken",
                        "GetUsage"})
    EXPECT_TRUE(RuleFor(m).own_applications) << m;
  for (const char* m : {"CreateApi", "ListApis", "DeployRevision", "CreateUser"}) EXPECT_FALSE(RuleFor(m).own_applications) << m;
}

TEST(RoleNamesTest, ParseAndName) {
  EXPECT_EQ(*ParseRoles({"creator,publisher"}), kCreator | kPublisher);
  EXPECT_EQ(*ParseRoles({"subscriber", "creator"}), kCreator | kSubscriber);
  EXPECT_EQ(RoleNames(kPublisher | kAdmin), (std::vector<std::string>{"admin", "publisher"}));
  absl::StatusOr<RoleSet> bad = ParseRoles({"creator,owner"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("unknown role 'owner'"), std::string::npos) << bad.status();
  EXPECT_FALSE(ParseRoles({}).ok());
  EXPECT_FALSE(ParseRoles({" , "}).ok());
}

TEST(RoleNamesTest, PermissionDeniedNamesTheRoleNeeded) {
  absl::Status s = NeedsRole("CreateApi", RuleFor("CreateApi").roles, Caller{"bob", kSubscriber});
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("CreateApi needs the creator role (user 'bob' has subscriber"), std::string::npos) << s;
  s = NeedsRole("ListDeployments", RuleFor("ListDeployments").roles, Caller{"bob", kSubscriber});
  EXPECT_NE(s.message().find("one of the roles creator, publisher"), std::string::npos) << s;
  s = NeedsRole("CreateUser", RuleFor("CreateUser").roles, Caller{"carol", kCreator | kPublisher});
  EXPECT_NE(s.message().find("CreateUser needs the admin role (user 'carol' has creator, publisher"), std::string::npos)
      << s;
}

// A fresh catalog per test (tests/unit/agent/catalog_fixture.h).
class UsersTest : public CatalogFixture {};

TEST_F(UsersTest, CreateAuthenticateRotateDelete) {
  auto bob = catalog_->CreateUser("bob", {"subscriber"});
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(bob->credential().rfind("wsgu_", 0), 0u);
  EXPECT_EQ(bob->credential().size(), 5u + 64u);
  auto who = catalog_->AuthenticateUser(bob->credential());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->name(), "bob");
  EXPECT_EQ(std::vector<std::string>(who->roles().begin(), who->roles().end()), std::vector<std::string>{"subscriber"});
  EXPECT_EQ(catalog_->AuthenticateUser(bob->credential() + "x").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(catalog_->AuthenticateUser("").status().code(), absl::StatusCode::kUnauthenticated);

  auto rotated = catalog_->RotateUserCredential("bob");
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_NE(rotated->credential(), bob->credential());
  EXPECT_FALSE(catalog_->AuthenticateUser(bob->credential()).ok());
  EXPECT_TRUE(catalog_->AuthenticateUser(rotated->credential()).ok());

  // A user who owns an application cannot be deleted (its applications would pass to a later
  // user of the same name).
  v1::CreateApplicationRequest app;
  app.set_name("BobsApp");
  app.set_owner("bob");
  ASSERT_TRUE(catalog_->CreateApplication(app).ok());
  absl::Status del = catalog_->DeleteUser("bob");
  EXPECT_EQ(del.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(del.message().find("BobsApp"), std::string::npos) << del;
  ASSERT_TRUE(catalog_->DeleteApplication("BobsApp").ok());
  ASSERT_TRUE(catalog_->DeleteUser("bob").ok());
  EXPECT_FALSE(catalog_->AuthenticateUser(rotated->credential()).ok());
  EXPECT_EQ(catalog_->DeleteUser("bob").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_->RotateUserCredential("bob").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(UsersTest, NamesRolesAndTheAdminUser) {
  EXPECT_EQ(catalog_->CreateUser("admin", {"creator"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->CreateUser("bad name", {"creator"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->CreateUser("", {"creator"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->CreateUser("carol", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->CreateUser("carol", {"owner"}).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(catalog_->CreateUser("carol", {"creator,publisher"}).ok());
  EXPECT_EQ(catalog_->CreateUser("carol", {"subscriber"}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(catalog_->DeleteUser("admin").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->RotateUserCredential("admin").status().code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(catalog_->UserRoles("admin"), (std::vector<std::string>{"admin", "creator", "publisher", "subscriber"}));
  EXPECT_EQ(catalog_->UserRoles("carol"), (std::vector<std::string>{"creator", "publisher"}));
  EXPECT_TRUE(catalog_->UserRoles("nobody").empty());

  auto users = catalog_->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].name(), "admin");
  EXPECT_EQ((*users)[1].name(), "carol");
}

TEST_F(UsersTest, UsersSurviveReopening) {
  auto dave = catalog_->CreateUser("dave", {"publisher"});
  ASSERT_TRUE(dave.ok());
  catalog_.reset();
  auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), CatalogOptions());
  ASSERT_TRUE(c.ok()) << c.status();
  auto who = (*c)->AuthenticateUser(dave->credential());
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->name(), "dave");
}

}  // namespace
}  // namespace wsgate::agent
