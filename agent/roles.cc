// File: agent/roles.cc — the role names and THE table of which roles may call which Admin RPC.
#include "agent/roles.h"

#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/common/log.h"

namespace wsgate::agent {
namespace {

constexpr struct {
  Role role;
  const char* name;
} kRoleNames[] = {{Role::kAdmin, "admin"},
                  {Role::kCreator, "creator"},
                  {Role::kPublisher, "publisher"},
                  {Role::kSubscriber, "subscriber"}};

constexpr RoleSet kAdmin = Bit(Role::kAdmin);
constexpr RoleSet kCreator = Bit(Role::kCreator);
constexpr RoleSet kPublisher = Bit(Role::kPublisher);
constexpr RoleSet kSubscriber = Bit(Role::kSubscriber);
// Reading APIs: whoever works with them (a subscriber picks the API it subscribes to).
constexpr RoleSet kApiReaders = kCreator | kPublisher | kSubscriber;

struct Row {
  std::string_view method;
  RoleSet roles;
  bool own_applications;
};

// Every wsgate.v1.Admin RPC and who may call it (admin may call every one; it is not listed).
// WSO2's split: creator designs APIs, publisher runs their lifecycle and deployments, subscriber
// works with its own applications, admin runs the gateway (environments, settings, certificates,
// policies, signing keys, users, the audit log, connections, the whole-catalog export/apply).
// tests/unit/agent/roles_test.cc fails when an RPC of the service has no row here.
constexpr Row kTable[] = {
    // APIs: design (creator), read by anyone with a role.
    {"CreateApi", kCreator, false},
    {"GetApi", kApiReaders, false},
    {"ListApis", kApiReaders, false},
    {"UpdateApi", kCreator, false},
    {"DeleteApi", kCreator, false},
    {"AddTopic", kCreator, false},
    {"DeleteTopic", kCreator, false},
    {"SetPlans", kCreator, false},
    // Lifecycle and deployment (publisher); a revision is the creator's snapshot of its design.
    {"ChangeLifecycle", kPublisher, false},
    {"CreateRevision", kCreator | kPublisher, false},
    {"ListRevisions", kCreator | kPublisher, false},
    {"DeleteRevision", kCreator | kPublisher, false},
    {"RestoreRevision", kCreator, false},
    {"DeployRevision", kPublisher, false},
    {"UndeployRevision", kPublisher, false},
    {"ListDeployments", kCreator | kPublisher, false},
    // Applications, subscriptions, keys, tokens: a subscriber's own applications only.
    {"CreateApplication", kSubscriber, true},
    {"GetApplication", kSubscriber, true},
    {"ListApplications", kSubscriber, true},
    {"UpdateApplication", kSubscriber, true},
    {"DeleteApplication", kSubscriber, true},
    {"CreateSubscription", kSubscriber, true},
    {"ListSubscriptions", kSubscriber, true},
    {"UpdateSubscription", kSubscriber, true},
    {"DeleteSubscription", kSubscriber, true},
    {"GenerateKeys", kSubscriber, true},
    {"ListKeys", kSubscriber, true},
    {"DeleteKeys", kSubscriber, true},
    {"IssueToken", kSubscriber, true},
    {"RevokeToken", kSubscriber, true},
    {"GetUsage", kSubscriber, true},
    {"CreateApiKey", kSubscriber, true},  // issue 14 item 4
    {"ListApiKeys", kSubscriber, true},
    {"RevokeApiKey", kSubscriber, true},
    // Signing keys and throttle policies: admin; plans are read by those who set or pick them.
    {"RotateSigningKey", kAdmin, false},
    {"ListSigningKeys", kAdmin, false},
    {"CreateThrottlePolicy", kAdmin, false},
    {"ListThrottlePolicies", kApiReaders, false},
    {"DeleteThrottlePolicy", kAdmin, false},
    // Gateway environments: admin; a publisher reads them to deploy.
    {"ListEnvironments", kCreator | kPublisher, false},
    {"GetEnvironment", kCreator | kPublisher, false},
    {"CreateEnvironment", kAdmin, false},
    {"UpdateEnvironment", kAdmin, false},
    {"DeleteEnvironment", kAdmin, false},
    {"GetSettings", kAdmin, false},
    {"SetSettings", kAdmin, false},
    {"SetCertificate", kAdmin, false},
    {"ListCertificates", kAdmin, false},
    {"DeleteCertificate", kAdmin, false},
    // The agent's status (wsgatectl waits on it after every change).
    {"GetStatus", kAnyRole, false},
    // The whole catalog (every user's applications): admin.
    {"ExportCatalog", kAdmin, false},
    {"ApplyCatalog", kAdmin, false},
    // An environment's engine config, with the vhosts' private keys (issue 17): admin.
    {"GetEngineSnapshot", kAdmin, false},
    // Operations: admin.
    {"ListConnections", kAdmin, false},
    {"GetConnection", kAdmin, false},
    {"SendToConnection", kAdmin, false},
    {"CloseConnection", kAdmin, false},
    {"ListAudit", kAdmin, false},
    {"GetTraffic", kAdmin, false},  // wsgatectl top
    // Users.
    {"CreateUser", kAdmin, false},
    {"ListUsers", kAdmin, false},
    {"DeleteUser", kAdmin, false},
    {"RotateUserCredential", kAdmin, false},
    {"GetCurrentUser", kAnyRole, false},
    // External identity providers (issue 14 item 6): admin; a subscriber maps a provider's
    // client id to its own applications, as it generates their keys.
    {"CreateIdentityProvider", kAdmin, false},
    {"GetIdentityProvider", kAdmin, false},
    {"ListIdentityProviders", kAdmin, false},
    {"UpdateIdentityProvider", kAdmin, false},
    {"DeleteIdentityProvider", kAdmin, false},
    {"RegisterIdpClient", kSubscriber, true},
    {"UnregisterIdpClient", kSubscriber, true},
};

}  // namespace

std::vector<std::string> RoleNames(RoleSet roles) {
  std::vector<std::string> out;
  for (const auto& r : kRoleNames)
    if (roles & Bit(r.role)) out.push_back(r.name);
  return out;
}

absl::StatusOr<RoleSet> ParseRoles(const std::vector<std::string>& names) {
  RoleSet out = 0;
  for (const std::string& list : names) {
    for (absl::string_view name : absl::StrSplit(list, absl::ByAnyChar(", "), absl::SkipEmpty())) {
      RoleSet bit = 0;
      for (const auto& r : kRoleNames)
        if (name == r.name) bit = Bit(r.role);
      if (bit == 0)
        return absl::InvalidArgumentError(absl::StrCat("roles: unknown role '", name,
                                                       "' (use admin, creator, publisher or subscriber)"));
      out |= bit;
    }
  }
  if (out == 0)
    return absl::InvalidArgumentError("roles: give at least one of admin, creator, publisher, subscriber");
  return out;
}

RoleRule RuleFor(std::string_view method) {
  for (const Row& row : kTable)
    if (row.method == method) return RoleRule{row.roles, row.own_applications, true};
  static std::mutex mu;
  static std::set<std::string, std::less<>> warned;
  std::lock_guard lock(mu);
  if (warned.insert(std::string(method)).second)
    WSGATE_LOG(kWarning, "admin RPC %s has no row in agent/roles.cc's role table: admin only", std::string(method));
  return RoleRule{};
}

bool RoleAllows(RoleSet caller, std::string_view method) {
  return (caller & Bit(Role::kAdmin)) != 0 || (caller & RuleFor(method).roles) != 0;
}

std::vector<std::string_view> TableMethods() {
  std::vector<std::string_view> out;
  for (const Row& row : kTable) out.push_back(row.method);
  return out;
}

}  // namespace wsgate::agent
