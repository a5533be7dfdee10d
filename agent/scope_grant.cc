// File: agent/scope_grant.cc
#include "agent/scope_grant.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace wsgate::agent {
namespace {
bool Has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }
}  // namespace

const std::vector<std::string>& AllRoles() {
  static const std::vector<std::string> roles = {"admin", "creator", "publisher", "subscriber"};
  return roles;
}

ScopeGrant DecideScopes(const std::vector<std::string>& requested, const std::vector<std::string>& admin_granted,
                        const std::vector<DeclaredScope>& declared, const std::vector<std::string>& owner_roles) {
  ScopeGrant g;
  for (const std::string& scope : requested) {
    if (Has(g.granted, scope)) continue;
    bool allowed = Has(admin_granted, scope);
    std::vector<std::string> needed_roles, apis;
    for (const DeclaredScope& d : declared) {
      if (allowed) break;
      if (d.name != scope) continue;
      apis.push_back(d.api);
      allowed = d.roles.empty() ||
                std::any_of(d.roles.begin(), d.roles.end(), [&](const std::string& r) { return Has(owner_roles, r); });
      for (const auto& r : d.roles)
        if (!Has(needed_roles, r)) needed_roles.push_back(r);
    }
    if (allowed) {
      g.granted.push_back(scope);
      continue;
    }
    g.refused = scope;
    if (apis.empty())
      g.why = "it is not declared by any API the application is subscribed to, nor granted to it by an admin";
    else
      g.why = absl::StrCat("declared by ", absl::StrJoin(apis, ", "), ", it is bound to the roles ",
                           absl::StrJoin(needed_roles, ", "), " and the application's owner has none of them");
    g.granted.clear();
    return g;
  }
  g.ok = true;
  return g;
}

}  // namespace wsgate::agent
