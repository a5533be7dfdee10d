// File: tests/unit/agent/scope_grant_test.cc — the decision table of DecideScopes (issue 14
// item 1): which requested scopes a token may carry, from the admin's grants, the scopes the
// application's subscribed APIs declare with their role bindings, and the owner's roles.
#include "agent/scope_grant.h"

#include <gtest/gtest.h>

namespace wsgate::agent {
namespace {

using Strings = std::vector<std::string>;

struct Row {
  const char* name;
  Strings requested, admin_granted;
  std::vector<DeclaredScope> declared;
  Strings owner_roles;
  bool ok;
  Strings granted;
  const char* why_contains;
};

TEST(ScopeGrantTest, DecisionTable) {
  const DeclaredScope read{"chat:read", "Chats:1.0.0", {}};
  const DeclaredScope write_admin{"chat:write", "Chats:1.0.0", {"admin"}};
  const DeclaredScope write_pub{"chat:write", "Other:2.0", {"publisher", "creator"}};
  const Row rows[] = {
      {"nothing requested", {}, {}, {}, {}, true, {}, ""},
      {"undeclared, ungranted", {"admin"}, {}, {read}, {"admin"}, false, {}, "not declared by any API"},
      {"declared without roles", {"chat:read"}, {}, {read}, {}, true, {"chat:read"}, ""},
      {"declared, role held", {"chat:write"}, {}, {write_admin}, {"admin", "creator"}, true, {"chat:write"}, ""},
      {"declared, role missing", {"chat:write"}, {}, {write_admin}, {"subscriber"}, false, {},
       "bound to the roles admin"},
      {"declared, owner without roles", {"chat:write"}, {}, {write_admin}, {}, false, {}, "has none of them"},
      {"two APIs, the second's binding met", {"chat:write"}, {}, {write_admin, write_pub}, {"creator"}, true,
       {"chat:write"}, ""},
      {"two APIs, neither met: both named", {"chat:write"}, {}, {write_admin, write_pub}, {"subscriber"}, false, {},
       "declared by Chats:1.0.0, Other:2.0, it is bound to the roles admin, publisher, creator"},
      {"admin grant without declaration", {"legacy"}, {"legacy"}, {}, {}, true, {"legacy"}, ""},
      {"admin grant overrides a binding", {"chat:write"}, {"chat:write"}, {write_admin}, {}, true, {"chat:write"}, ""},
      {"one refused refuses all", {"chat:read", "chat:write"}, {}, {read, write_admin}, {}, false, {},
       "bound to the roles admin"},
      {"duplicates once, order kept", {"chat:write", "chat:read", "chat:write"}, {}, {read, write_admin}, {"admin"},
       true, {"chat:write", "chat:read"}, ""},
      {"role names are exact", {"chat:write"}, {}, {write_admin}, {"Admin"}, false, {}, "bound to the roles"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    ScopeGrant g = DecideScopes(r.requested, r.admin_granted, r.declared, r.owner_roles);
    EXPECT_EQ(g.ok, r.ok) << g.why;
    EXPECT_EQ(g.granted, r.granted);
    if (r.ok) {
      EXPECT_TRUE(g.why.empty());
    } else {
      EXPECT_NE(g.why.find(r.why_contains), std::string::npos) << g.why;
      EXPECT_FALSE(g.refused.empty());
    }
  }
}

TEST(ScopeGrantTest, AllRolesAreWso2s) {
  EXPECT_EQ(AllRoles(), (Strings{"admin", "creator", "publisher", "subscriber"}));
}

}  // namespace
}  // namespace wsgate::agent
