// File: agent/catalog_tokens.cc — the Catalog's access tokens: which scopes a token may carry
// (agent/scope_grant.h, issue 14 item 1), JWTs and agent-managed opaque tokens (issue 14 item 5),
// and their revocation.
//
// An opaque token is 32 random bytes in hex. The agent stores only its SHA-256 (table
// opaque_tokens) and pushes the hashes as Snapshot.opaque_tokens, so issuing or revoking one is a
// data-plane change: engines refuse a token that is no longer listed and close its live sockets
// with 4001, as they do for a revoked JWT. Expired rows are dropped as new tokens are issued.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "agent/scope_grant.h"
#include "engine/common/base64.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {
namespace {
// A revoked jti, kept until the token would have expired anyway.
constexpr const char* kRevokeJti =
    "INSERT INTO revoked_tokens VALUES(?, ?) ON CONFLICT (jti) DO UPDATE SET expires_s = excluded.expires_s";
}  // namespace

namespace catalog_internal {
absl::StatusOr<v1::TokenFormat> CheckTokenFormat(v1::TokenFormat format) {
  if (format == v1::TOKEN_FORMAT_UNSPECIFIED) return v1::TOKEN_FORMAT_JWT;
  if (format != v1::TOKEN_FORMAT_JWT && format != v1::TOKEN_FORMAT_OPAQUE)
    return Invalid("token_format", absl::StrCat("unknown format ", static_cast<int>(format), " (jwt or opaque)"));
  return format;
}
}  // namespace catalog_internal

// The one place scope role bindings get roles from: the owner's, from the users table (the
// built-in admin holds every role; an owner that is no user holds none).
std::vector<std::string> Catalog::OwnerRoles(const std::string& owner) { return UserRoles(owner); }

absl::StatusOr<std::vector<DeclaredScope>> Catalog::DeclaredScopesOf(const std::string& application_id) {
  Statement st = db_.Prepare(
      "SELECT p.name || ':' || p.version, p.spec FROM subscriptions s JOIN apis p ON p.id = s.api_id "
      "WHERE s.application_id = ? AND s.state != ? ORDER BY p.name, p.version");
  st.Bind(1, application_id).Bind(2, static_cast<int64_t>(v1::ON_HOLD));
  std::vector<DeclaredScope> out;
  while (st.Next()) {
    v1::ApiSpec spec;
    spec.ParseFromString(st.Text(1));
    for (const v1::ApiScope& scope : spec.scopes())
      out.push_back(DeclaredScope{scope.name(), st.Text(0), {scope.roles().begin(), scope.roles().end()}});
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

absl::StatusOr<v1::AccessToken> Catalog::IssueTokenLocked(const std::string& application_id,
                                                          const std::string& consumer_key, v1::KeyType type,
                                                          const std::vector<std::string>& scopes, uint32_t ttl_s,
                                                          bool opaque) {
  if (ttl_s == 0) ttl_s = options_.default_token_ttl_s;
  if (ttl_s > options_.max_token_ttl_s)
    return Invalid("ttl", absl::StrCat(ttl_s, " s is longer than the maximum ", options_.max_token_ttl_s, " s"));
  WSGATE_ASSIGN_OR_RETURN(auto app, LoadApplication(application_id));
  for (const auto& s : scopes)
    if (!ValidScopeToken(s)) return Invalid("scope", absl::StrCat("bad scope '", s, "' (printable ASCII, no space)"));
  // Only scopes the application may have: granted by an admin, or declared by an API it is
  // subscribed to whose role bindings its owner meets. Never self-granted by the client.
  WSGATE_ASSIGN_OR_RETURN(std::vector<DeclaredScope> declared, DeclaredScopesOf(app.id()));
  ScopeGrant grant = DecideScopes(scopes, {app.scopes().begin(), app.scopes().end()}, declared, OwnerRoles(app.owner()));
  if (!grant.ok)
    return Invalid("scope", absl::StrCat("application '", app.name(), "' was not granted scope '", grant.refused, "': ",
                                         grant.why, " (subscribe it to an API that declares the scope, or an admin "
                                         "grants it with `wsgatectl app update ", app.name(), " --scope S`)"));
  opaque = opaque || app.token_format() == v1::TOKEN_FORMAT_OPAQUE;
  int64_t now = NowS();
  std::string id = NewId();
  std::string scope = absl::StrJoin(grant.granted, " ");
  std::string token;
  if (opaque) {
    token = RandomHex(32);
    WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO opaque_tokens VALUES(?, ?, ?, ?, ?)")
                               .Bind(1, id)
                               .BindBlob(2, Sha256(token))
                               .Bind(3, consumer_key)
                               .Bind(4, scope)
                               .Bind(5, now + ttl_s)
                               .Run());
    WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM opaque_tokens WHERE expires_s < ?").Bind(1, now - 60).Run());
  } else {
    WSGATE_ASSIGN_OR_RETURN(auto key, ActiveKey());
    Json payload = {{"iss", options_.issuer}, {"sub", app.owner()},        {"aud", "wsgate"},
                    {"iat", now},             {"nbf", now},                {"exp", now + ttl_s},
                    {"jti", id},              {"client_id", consumer_key}, {"key_type", KeyTypeName(type)},
                    {"application", app.id()}, {"scope", scope}};
    WSGATE_ASSIGN_OR_RETURN(token, key->SignJwt(payload));
    WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO issued_tokens VALUES(?, ?, ?)")
                               .Bind(1, id)
                               .Bind(2, consumer_key)
                               .Bind(3, now + ttl_s)
                               .Run());
    // Forget tokens that can no longer be used, so the table stays small.
    WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM issued_tokens WHERE expires_s < ?").Bind(1, now - 60).Run());
  }
  v1::AccessToken out;
  out.set_access_token(token);
  out.set_token_type("Bearer");
  out.set_expires_in(ttl_s);
  out.set_scope(scope);
  out.set_jti(id);
  return out;
}

absl::StatusOr<v1::AccessToken> Catalog::IssueFor(const std::string& grant,
                                                  const std::function<absl::StatusOr<KeyOwner>()>& resolve,
                                                  const std::vector<std::string>& scopes, uint32_t ttl_s, bool opaque) {
  {
    std::lock_guard lock(mu_);
    WSGATE_ASSIGN_OR_RETURN(KeyOwner who, resolve());
    WSGATE_ASSIGN_OR_RETURN(auto app, LoadApplication(who.application_id));
    opaque = opaque || app.token_format() == v1::TOKEN_FORMAT_OPAQUE;
  }
  // An opaque token is pushed to the engines (a data-plane change); a JWT is not.
  v1::AccessToken out;
  v1::KeyType type = v1::KEY_TYPE_UNSPECIFIED;
  WSGATE_RETURN_IF_ERROR(Mutate(opaque, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(KeyOwner who, resolve());
    WSGATE_ASSIGN_OR_RETURN(out, IssueTokenLocked(who.application_id, who.consumer_key, who.key_type, scopes, ttl_s, opaque));
    type = who.key_type;
    return absl::OkStatus();
  }));
  std::lock_guard lock(mu_);
  ++tokens_issued_[{grant, KeyTypeName(type)}];  // signed and stored: counted (metrics)
  return out;
}

std::map<std::pair<std::string, std::string>, uint64_t> Catalog::TokensIssued() const {
  std::lock_guard lock(mu_);
  return tokens_issued_;
}

absl::StatusOr<v1::AccessToken> Catalog::IssueToken(const std::string& app, v1::KeyType type,
                                                    const std::vector<std::string>& scopes, uint32_t ttl_s, bool opaque) {
  if (type == v1::KEY_TYPE_UNSPECIFIED) type = v1::PRODUCTION;
  return IssueFor(
      "admin",
      [&]() -> absl::StatusOr<KeyOwner> {
        WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
        Statement st = db_.Prepare("SELECT consumer_key FROM consumer_keys WHERE application_id = ? AND key_type = ?");
        st.Bind(1, a.id()).Bind(2, static_cast<int64_t>(type));
        if (!st.Next())
          return absl::FailedPreconditionError(absl::StrCat("application '", a.name(), "' has no ", KeyTypeName(type),
                                                            " keys; generate them first (wsgatectl keys generate ",
                                                            a.name(), " --type ", KeyTypeName(type), ")"));
        return KeyOwner{a.id(), st.Text(0), type};
      },
      scopes, ttl_s, opaque);
}

absl::StatusOr<v1::AccessToken> Catalog::IssueTokenForClient(const std::string& consumer_key,
                                                             const std::vector<std::string>& scopes) {
  return IssueFor(
      "client_credentials",
      [&]() -> absl::StatusOr<KeyOwner> {
        Statement st = db_.Prepare("SELECT application_id, key_type FROM consumer_keys WHERE consumer_key = ?");
        st.Bind(1, consumer_key);
        if (!st.Next()) return absl::UnauthenticatedError("invalid client credentials");
        return KeyOwner{st.Text(0), consumer_key, static_cast<v1::KeyType>(st.Int(1))};
      },
      scopes, 0, false);
}

absl::Status Catalog::RevokeTokenOfClient(const std::string& consumer_key, const std::string& token) {
  std::string jti;
  bool jwt = catalog_internal::JwtJti(token, &jti);
  return Mutate(true, [&]() -> absl::Status {
    if (!jwt)  // an opaque token of this client: forgetting its hash revokes it
      return db_.Prepare("DELETE FROM opaque_tokens WHERE sha256 = ? AND consumer_key = ?")
          .BindBlob(1, Sha256(token))
          .Bind(2, consumer_key)
          .Run();
    Statement st = db_.Prepare("SELECT expires_s FROM issued_tokens WHERE jti = ? AND consumer_key = ?");
    st.Bind(1, jti).Bind(2, consumer_key);
    if (!st.Next()) return absl::OkStatus();
    return db_.Prepare(kRevokeJti).Bind(1, jti).Bind(2, st.Int(0)).Run();
  });
}

absl::Status Catalog::RevokeToken(const std::string& token, const std::string& jti_in) {
  std::string jti = jti_in;
  bool opaque_text = jti.empty() && !catalog_internal::JwtJti(token, &jti);
  if (opaque_text && token.empty()) return Invalid("token", "give the token or --jti");
  return Mutate(true, [&]() -> absl::Status {
    // An opaque token by its text or by its id (the jti its issuance printed).
    Statement del = opaque_text ? db_.Prepare("DELETE FROM opaque_tokens WHERE sha256 = ?")
                                : db_.Prepare("DELETE FROM opaque_tokens WHERE id = ?");
    if (opaque_text)
      del.BindBlob(1, Sha256(token));
    else
      del.Bind(1, jti);
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() > 0) return absl::OkStatus();
    if (opaque_text)
      return absl::NotFoundError(
          "token: not a JWT, and no live opaque token with this text was issued by this agent (expired or revoked?)");
    Statement st = db_.Prepare("SELECT expires_s FROM issued_tokens WHERE jti = ?");
    st.Bind(1, jti);
    if (!st.Next()) return absl::NotFoundError(absl::StrCat("jti: no live token with jti '", jti, "' was issued by this agent"));
    return db_.Prepare(kRevokeJti).Bind(1, jti).Bind(2, st.Int(0)).Run();
  });
}

absl::Status Catalog::AddOpaqueTokensToSnapshot(int64_t now_s, v1::Snapshot& s) {
  Statement st = db_.Prepare("SELECT sha256, consumer_key, expires_s, scopes FROM opaque_tokens WHERE expires_s > ?");
  st.Bind(1, now_s);
  while (st.Next()) {
    v1::OpaqueToken* t = s.add_opaque_tokens();
    t->set_sha256(st.Text(0));
    t->set_client_id(st.Text(1));
    t->set_expires_unix_s(st.Int(2));
    for (absl::string_view scope : absl::StrSplit(st.Text(3), ' ', absl::SkipEmpty())) t->add_scopes(std::string(scope));
  }
  return st.status();
}

}  // namespace wsgate::agent
