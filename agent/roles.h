// File: agent/roles.h
//
// Admin users' roles (WSO2's admin, creator, publisher, subscriber) and the one table that maps
// every wsgate.v1.Admin RPC to the roles that may call it. AdminService checks it on every call
// (after the credential names the user); an RPC the table does not name is admin only, and the
// first call of each such RPC is logged, so a new RPC is never served unprotected.
//
//   RoleSet roles = *ParseRoles("creator,publisher");
//   if (!RoleAllows(roles, "CreateApi")) ...                 // PERMISSION_DENIED
//   RoleRule rule = RuleFor("CreateApplication");          // rule.own_applications
//
// Pure (no catalog, no gRPC); thread-safe (the "not in the table" log is rate limited per RPC).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace wsgate::agent {

enum class Role : uint8_t {
  kAdmin = 1 << 0,
  kCreator = 1 << 1,
  kPublisher = 1 << 2,
  kSubscriber = 1 << 3,
};
using RoleSet = uint8_t;  // a bit per Role
constexpr RoleSet Bit(Role r) { return static_cast<RoleSet>(r); }
constexpr RoleSet kAllRoles = Bit(Role::kAdmin) | Bit(Role::kCreator) | Bit(Role::kPublisher) | Bit(Role::kSubscriber);
// Any authenticated user, whatever its roles.
constexpr RoleSet kAnyRole = kAllRoles;

// "admin", "creator", ... in that order.
std::vector<std::string> RoleNames(RoleSet roles);
// "creator,publisher" (also "creator publisher" or repeated flags joined): INVALID_ARGUMENT naming
// the unknown role and the valid ones; an empty list is INVALID_ARGUMENT too.
absl::StatusOr<RoleSet> ParseRoles(const std::vector<std::string>& names);

// What an RPC needs: any one of `roles` (admin always passes); `own_applications`: a caller that is
// not admin acts only on applications it owns (others' are NOT_FOUND, lists filtered).
struct RoleRule {
  RoleSet roles = Bit(Role::kAdmin);
  bool own_applications = false;
  bool in_table = false;  // false: the "admin only" default of an RPC the table does not name
};

// The rule for an Admin RPC by its short name ("CreateApi"). Not in the table: admin only, and a
// WARN line the first time each such name is asked about.
RoleRule RuleFor(std::string_view method);
bool RoleAllows(RoleSet caller, std::string_view method);
// Every RPC name the table has a row for (the unit test checks it against the service descriptor).
std::vector<std::string_view> TableMethods();

}  // namespace wsgate::agent
