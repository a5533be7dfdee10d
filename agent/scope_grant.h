// File: agent/scope_grant.h — which scopes an access token may carry (issue 14 item 1).
//
// A client asks for scopes (the OAuth2 `scope` parameter, `wsgatectl token --scope`); the agent
// grants them all or refuses the request (RFC 6749 §5.2 invalid_scope) naming the first scope it
// may not have (`refused`) and why. A requested scope is granted when either
//   - an admin granted it to the application explicitly (ApplicationInfo.scopes), or
//   - an API the application is subscribed to (any state but ON_HOLD) declares it
//     (ApiSpec.scopes) and that declaration has no roles, or the owner holds one of its roles.
// Nothing else: a client cannot grant itself a scope.
//
//   ScopeGrant g = DecideScopes({"chat:write"}, app.scopes(), DeclaredScopes, OwnerRoles(owner));
//   if (!g.ok) return Invalid("scope", g.why);
//
// Pure: no catalog, no clock (tests/unit/agent/scope_grant_test.cc is its decision table).
#pragma once

#include <string>
#include <vector>

namespace wsgate::agent {

// One declaration of a scope by an API the application is subscribed to.
struct DeclaredScope {
  std::string name;
  std::string api;                 // "Name:Version", for the refusal text
  std::vector<std::string> roles;  // empty: anyone subscribed
};

struct ScopeGrant {
  bool ok = false;
  std::vector<std::string> granted;  // the requested scopes, de-duplicated, in request order
  std::string refused;               // when !ok: the first scope it may not have
  std::string why;                   // and why, e.g. "it is not declared by any API ..." 
};

ScopeGrant DecideScopes(const std::vector<std::string>& requested, const std::vector<std::string>& admin_granted,
                        const std::vector<DeclaredScope>& declared, const std::vector<std::string>& owner_roles);

// The roles there are (WSO2's): what Catalog::OwnerRoles gives the built-in admin.
const std::vector<std::string>& AllRoles();

}  // namespace wsgate::agent
