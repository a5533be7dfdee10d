// File: agent/catalog_users.cc — the catalog's admin users (schema v8): name, roles, the SHA-256
// of a random credential; and the owners of what a subscriber's call names.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "agent/roles.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {
namespace {

constexpr char kAdminUser[] = "admin";

absl::Status ValidUserName(const std::string& name) {
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      }))
    return Invalid("name", absl::StrCat("'", name, "' must be 1-64 of A-Z a-z 0-9 . _ -"));
  if (name == kAdminUser)
    return Invalid("name", "'admin' is the data directory's credential (DATA_DIR/admin.token); choose another name");
  return absl::OkStatus();
}

// "wsgu_" and 32 random bytes as hex: recognisable in a leak scan, 256 bits of secret.
std::string NewCredential() { return absl::StrCat("wsgu_", RandomHex(32)); }

v1::User UserOf(const std::string& name, int64_t roles, int64_t created_ms, int64_t rotated_ms) {
  v1::User u;
  u.set_name(name);
  for (auto& r : RoleNames(static_cast<RoleSet>(roles))) u.add_roles(std::move(r));
  u.set_created_unix_ms(created_ms);
  u.set_rotated_unix_ms(rotated_ms);
  return u;
}

absl::Status NoUser(const std::string& name) {
  return absl::NotFoundError(absl::StrCat("user: no user '", name, "' (see `wsgatectl user list`)"));
}

}  // namespace

absl::StatusOr<v1::UserCredential> Catalog::CreateUser(const std::string& name, const std::vector<std::string>& roles) {
  WSGATE_RETURN_IF_ERROR(ValidUserName(name));
  WSGATE_ASSIGN_OR_RETURN(RoleSet set, ParseRoles(roles));
  v1::UserCredential out;
  out.set_credential(NewCredential());
  int64_t now = NowMs();
  WSGATE_RETURN_IF_ERROR(Mutate(false, [&]() -> absl::Status {
    Statement has = db_.Prepare("SELECT COUNT(*) FROM users WHERE name = ?");
    has.Bind(1, name);
    if (has.Next() && has.Int(0) > 0)
      return absl::AlreadyExistsError(absl::StrCat("user: '", name, "' exists (rotate its credential with `wsgatectl user rotate ", name, "`)"));
    return db_.Prepare("INSERT INTO users(name, roles, credential_sha256, created_ms, rotated_ms) VALUES(?, ?, ?, ?, ?)")
        .Bind(1, name)
        .Bind(2, static_cast<int64_t>(set))
        .BindBlob(3, Sha256(out.credential()))
        .Bind(4, now)
        .Bind(5, now)
        .Run();
  }));
  *out.mutable_user() = UserOf(name, set, now, now);
  return out;
}

absl::StatusOr<std::vector<v1::User>> Catalog::ListUsers() {
  std::lock_guard lock(mu_);
  std::vector<v1::User> out;
  out.push_back(UserOf(kAdminUser, kAllRoles, 0, 0));
  Statement st = db_.Prepare("SELECT name, roles, created_ms, rotated_ms FROM users ORDER BY name");
  while (st.Next()) out.push_back(UserOf(st.Text(0), st.Int(1), st.Int(2), st.Int(3)));
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

absl::Status Catalog::DeleteUser(const std::string& name) {
  if (name == kAdminUser) return Invalid("name", "'admin' is the data directory's credential and cannot be deleted");
  return Mutate(false, [&]() -> absl::Status {
    Statement has = db_.Prepare("SELECT COUNT(*) FROM users WHERE name = ?");
    has.Bind(1, name);
    if (!has.Next() || has.Int(0) == 0) return NoUser(name);
    Statement apps = db_.Prepare("SELECT name FROM applications WHERE owner = ? ORDER BY name");
    apps.Bind(1, name);
    WSGATE_ASSIGN_OR_RETURN(std::vector<std::string> owned, Ids(apps));
    if (!owned.empty())
      return absl::FailedPreconditionError(absl::StrCat("user '", name, "' owns applications (", absl::StrJoin(owned, ", "),
                                                        "): delete them first (`wsgatectl app delete NAME`)"));
    return db_.Prepare("DELETE FROM users WHERE name = ?").Bind(1, name).Run();
  });
}

absl::StatusOr<v1::UserCredential> Catalog::RotateUserCredential(const std::string& name) {
  if (name == kAdminUser)
    return Invalid("name", "'admin' is DATA_DIR/admin.token: stop the agent, delete that file and start it again");
  v1::UserCredential out;
  out.set_credential(NewCredential());
  int64_t now = NowMs();
  WSGATE_RETURN_IF_ERROR(Mutate(false, [&]() -> absl::Status {
    Statement st = db_.Prepare("SELECT roles, created_ms FROM users WHERE name = ?");
    st.Bind(1, name);
    if (!st.Next()) return NoUser(name);
    *out.mutable_user() = UserOf(name, st.Int(0), st.Int(1), now);
    return db_.Prepare("UPDATE users SET credential_sha256 = ?, rotated_ms = ? WHERE name = ?")
        .BindBlob(1, Sha256(out.credential()))
        .Bind(2, now)
        .Bind(3, name)
        .Run();
  }));
  return out;
}

absl::StatusOr<v1::User> Catalog::AuthenticateUser(const std::string& credential) {
  std::lock_guard lock(mu_);
  // Looked up by the credential's hash: the comparison is on SHA-256 output, which tells a
  // timing attacker nothing about the credential.
  Statement st = db_.Prepare("SELECT name, roles, created_ms, rotated_ms FROM users WHERE credential_sha256 = ?");
  st.BindBlob(1, Sha256(credential));
  if (!st.Next()) {
    WSGATE_RETURN_IF_ERROR(st.status());
    return absl::UnauthenticatedError("unknown credential");
  }
  return UserOf(st.Text(0), st.Int(1), st.Int(2), st.Int(3));
}

std::vector<std::string> Catalog::UserRoles(std::string_view user) {
  if (user == kAdminUser) return RoleNames(kAllRoles);
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare("SELECT roles FROM users WHERE name = ?");
  st.Bind(1, user);
  if (!st.Next()) return {};
  return RoleNames(static_cast<RoleSet>(st.Int(0)));
}

absl::StatusOr<std::string> Catalog::ApplicationOwner(const std::string& application) {
  std::lock_guard lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(v1::ApplicationInfo app, LoadApplication(application));
  return app.owner();
}

absl::StatusOr<std::string> Catalog::SubscriptionOwner(const std::string& subscription) {
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare(
      "SELECT a.owner FROM subscriptions s JOIN applications a ON a.id = s.application_id WHERE s.id = ?");
  st.Bind(1, subscription);
  if (!st.Next()) {
    WSGATE_RETURN_IF_ERROR(st.status());
    return absl::NotFoundError(absl::StrCat("subscription: no subscription '", subscription, "'"));
  }
  return st.Text(0);
}

absl::StatusOr<std::string> Catalog::TokenOwner(const std::string& token, const std::string& jti_in,
                                                std::string* jti_out) {
  std::string jti = jti_in;
  if (jti.empty() && !JwtJti(token, &jti))
    return Invalid("token", "not a JWT issued by this agent (give the token or --jti)");
  if (jti_out != nullptr) *jti_out = jti;
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare(
      "SELECT a.owner FROM issued_tokens t JOIN consumer_keys k ON k.consumer_key = t.consumer_key "
      "JOIN applications a ON a.id = k.application_id WHERE t.jti = ?");
  st.Bind(1, jti);
  if (!st.Next()) {
    WSGATE_RETURN_IF_ERROR(st.status());
    return absl::NotFoundError(absl::StrCat("jti: no live token with jti '", jti, "' was issued by this agent"));
  }
  return st.Text(0);
}

}  // namespace wsgate::agent
