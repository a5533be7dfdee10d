// File: agent/catalog_access.cc — the Catalog's applications (with their granted scopes),
// subscriptions, consumer keys, tokens and signing keys.
#include "agent/catalog.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/catalog_internal.h"
#include "agent/lifecycle.h"
#include "engine/common/base64.h"
#include "engine/common/status_macros.h"
#include "engine/config/syntax.h"

namespace wsgate::agent {

namespace catalog_internal {
bool JwtJti(const std::string& token, std::string* jti) {
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  if (d1 == std::string::npos || d1 == d2) return false;
  std::string payload;
  if (!common::Base64UrlDecode(std::string_view(token).substr(d1 + 1, d2 - d1 - 1), &payload)) return false;
  Json claims = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object() || !claims.contains("jti") || !claims["jti"].is_string()) return false;
  *jti = claims["jti"].get<std::string>();
  return !jti->empty();
}
}  // namespace catalog_internal


// ---------------------------------------------------------------------------------------------
// Applications, subscriptions, keys

absl::StatusOr<v1::ApplicationInfo> Catalog::LoadApplication(const std::string& ref) {
  Statement st = db_.Prepare(
      "SELECT id, name, description, owner, throttle_policy, blocked, created_ms, scopes, token_format FROM applications "
      "WHERE id = ?1 OR name = ?1");
  st.Bind(1, ref);
  if (!st.Next()) {
    WSGATE_RETURN_IF_ERROR(st.status());
    return absl::NotFoundError(absl::StrCat("application: no application '", ref, "' (see `wsgatectl app list`)"));
  }
  v1::ApplicationInfo a;
  a.set_id(st.Text(0));
  a.set_name(st.Text(1));
  a.set_description(st.Text(2));
  a.set_owner(st.Text(3));
  a.set_throttle_policy(st.Text(4));
  a.set_blocked(st.Int(5) != 0);
  a.set_created_unix_ms(st.Int(6));
  for (absl::string_view scope : absl::StrSplit(st.Text(7), ' ', absl::SkipEmpty())) a.add_scopes(std::string(scope));
  a.set_token_format(static_cast<v1::TokenFormat>(st.Int(8)));
  return a;
}

absl::StatusOr<v1::ApplicationInfo> Catalog::CreateApplication(const v1::CreateApplicationRequest& req) {
  if (req.name().empty() || req.name().size() > 70) return Invalid("name", "must be 1-70 characters");
  v1::ApplicationInfo a;
  a.set_id(NewId());
  a.set_name(req.name());
  a.set_description(req.description());
  a.set_owner(req.owner().empty() ? "admin" : req.owner());
  a.set_throttle_policy(req.throttle_policy().empty() ? "Unlimited" : req.throttle_policy());
  a.set_created_unix_ms(NowMs());
  WSGATE_RETURN_IF_ERROR(ValidScopes("scopes", req.scopes()));
  *a.mutable_scopes() = req.scopes();
  WSGATE_ASSIGN_OR_RETURN(v1::TokenFormat format, CheckTokenFormat(req.token_format()));
  a.set_token_format(format);
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    if (!PolicyExists(a.throttle_policy(), v1::APPLICATION))
      return Invalid("throttle_policy", absl::StrCat("unknown application policy '", a.throttle_policy(), "'"));
    absl::Status s = db_.Prepare("INSERT INTO applications VALUES(?, ?, ?, ?, ?, 0, ?, ?, ?)")
                         .Bind(1, a.id())
                         .Bind(2, a.name())
                         .Bind(3, a.description())
                         .Bind(4, a.owner())
                         .Bind(5, a.throttle_policy())
                         .Bind(6, a.created_unix_ms())
                         .Bind(7, absl::StrJoin(a.scopes(), " "))
                         .Bind(8, static_cast<int64_t>(a.token_format()))
                         .Run();
    if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat("an application named '", a.name(), "' already exists"));
    return s;
  }));
  return a;
}

absl::StatusOr<v1::ApplicationInfo> Catalog::GetApplication(const std::string& ref) {
  std::lock_guard lock(mu_);
  return LoadApplication(ref);
}

absl::StatusOr<std::vector<v1::ApplicationInfo>> Catalog::ListApplications() {
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare("SELECT id FROM applications ORDER BY name");
  WSGATE_ASSIGN_OR_RETURN(std::vector<std::string> ids, Ids(st));
  return LoadEach<v1::ApplicationInfo>(ids, [&](const std::string& id) { return LoadApplication(id); });
}

absl::StatusOr<v1::ApplicationInfo> Catalog::UpdateApplication(const v1::UpdateApplicationRequest& req) {
  v1::ApplicationInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(out, LoadApplication(req.application()));
    if (req.has_blocked()) out.set_blocked(req.blocked());
    if (req.has_description()) out.set_description(req.description());
    if (req.has_throttle_policy()) {
      if (!PolicyExists(req.throttle_policy(), v1::APPLICATION))
        return Invalid("throttle_policy", absl::StrCat("unknown application policy '", req.throttle_policy(), "'"));
      out.set_throttle_policy(req.throttle_policy());
    }
    if (req.has_scopes()) {
      WSGATE_RETURN_IF_ERROR(ValidScopes("scopes", req.scopes().scopes()));
      *out.mutable_scopes() = req.scopes().scopes();
    }
    if (req.has_token_format()) {
      WSGATE_ASSIGN_OR_RETURN(v1::TokenFormat format, CheckTokenFormat(req.token_format()));
      out.set_token_format(format);
    }
    return db_.Prepare(
               "UPDATE applications SET description = ?, throttle_policy = ?, blocked = ?, scopes = ?, token_format = ? "
               "WHERE id = ?")
        .Bind(1, out.description())
        .Bind(2, out.throttle_policy())
        .Bind(3, out.blocked() ? 1 : 0)
        .Bind(4, absl::StrJoin(out.scopes(), " "))
        .Bind(5, static_cast<int64_t>(out.token_format()))
        .Bind(6, out.id())
        .Run();
  }));
  return out;
}

absl::Status Catalog::DeleteApplication(const std::string& ref) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(ref));
    // Its subscriptions, keys and tokens go with it (its live sockets close on the push).
    for (const char* sql : {"DELETE FROM issued_tokens WHERE consumer_key IN (SELECT consumer_key FROM consumer_keys WHERE application_id = ?)",
                            "DELETE FROM opaque_tokens WHERE consumer_key IN (SELECT consumer_key FROM consumer_keys WHERE application_id = ?)",
                            "DELETE FROM api_keys WHERE application_id = ?",
                            "DELETE FROM subscriptions WHERE application_id = ?",
                            "DELETE FROM consumer_keys WHERE application_id = ?", "DELETE FROM idp_clients WHERE application_id = ?",
                            "DELETE FROM applications WHERE id = ?"})
      WSGATE_RETURN_IF_ERROR(db_.Prepare(sql).Bind(1, a.id()).Run());
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::SubscriptionInfo> Catalog::LoadSubscription(const std::string& id) {
  Statement st = db_.Prepare(
      "SELECT s.id, s.application_id, a.name, s.api_id, p.name || ':' || p.version, s.plan, s.state, s.created_ms "
      "FROM subscriptions s JOIN applications a ON a.id = s.application_id JOIN apis p ON p.id = s.api_id WHERE s.id = ?");
  st.Bind(1, id);
  if (!st.Next()) return absl::NotFoundError(absl::StrCat("subscription: no subscription '", id, "'"));
  v1::SubscriptionInfo s;
  s.set_id(st.Text(0));
  s.set_application_id(st.Text(1));
  s.set_application_name(st.Text(2));
  s.set_api_id(st.Text(3));
  s.set_api(st.Text(4));
  s.set_plan(st.Text(5));
  s.set_state(static_cast<v1::SubscriptionState>(st.Int(6)));
  s.set_created_unix_ms(st.Int(7));
  return s;
}

absl::StatusOr<v1::SubscriptionInfo> Catalog::CreateSubscription(const std::string& app, const std::string& api,
                                                                 const std::string& plan) {
  std::string id = NewId();
  v1::SubscriptionInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(api));
    if (row.state != v1::PUBLISHED && row.state != v1::PRE_RELEASED)
      return absl::FailedPreconditionError(absl::StrCat("API ", ApiRefText(row.spec), " is ", StateName(row.state),
                                                        "; only PUBLISHED APIs accept new subscriptions"));
    if (std::find(row.spec.plans().begin(), row.spec.plans().end(), plan) == row.spec.plans().end())
      return Invalid("plan", absl::StrCat("API ", ApiRefText(row.spec), " does not offer plan '", plan, "' (it offers: ",
                                          row.spec.plans().empty() ? "none" : absl::StrJoin(row.spec.plans(), ", "), ")"));
    absl::Status s = db_.Prepare("INSERT INTO subscriptions VALUES(?, ?, ?, ?, ?, ?)")
                         .Bind(1, id)
                         .Bind(2, a.id())
                         .Bind(3, row.id)
                         .Bind(4, plan)
                         .Bind(5, static_cast<int64_t>(v1::ACTIVE))
                         .Bind(6, NowMs())
                         .Run();
    if (absl::IsAlreadyExists(s))
      return absl::AlreadyExistsError(absl::StrCat("application '", a.name(), "' is already subscribed to ", ApiRefText(row.spec)));
    WSGATE_RETURN_IF_ERROR(s);
    WSGATE_ASSIGN_OR_RETURN(out, LoadSubscription(id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::SubscriptionInfo>> Catalog::ListSubscriptions(const std::string& app, const std::string& api) {
  std::lock_guard lock(mu_);
  std::string app_id, api_id;
  if (!app.empty()) {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
    app_id = a.id();
  }
  if (!api.empty()) {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(api));
    api_id = row.id;
  }
  Statement st = db_.Prepare(
      "SELECT id FROM subscriptions WHERE (?1 = '' OR application_id = ?1) AND (?2 = '' OR api_id = ?2) ORDER BY created_ms");
  st.Bind(1, app_id).Bind(2, api_id);
  WSGATE_ASSIGN_OR_RETURN(std::vector<std::string> ids, Ids(st));
  return LoadEach<v1::SubscriptionInfo>(ids, [&](const std::string& id) { return LoadSubscription(id); });
}

absl::StatusOr<v1::SubscriptionInfo> Catalog::UpdateSubscription(const v1::UpdateSubscriptionRequest& req) {
  v1::SubscriptionInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(out, LoadSubscription(req.subscription()));
    if (req.has_plan()) {
      WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(out.api_id()));
      if (std::find(row.spec.plans().begin(), row.spec.plans().end(), req.plan()) == row.spec.plans().end())
        return Invalid("plan", absl::StrCat("API ", ApiRefText(row.spec), " does not offer plan '", req.plan(), "'"));
      out.set_plan(req.plan());
    }
    if (req.has_state()) {
      if (req.state() == v1::SUBSCRIPTION_STATE_UNSPECIFIED) return Invalid("state", "must be set");
      out.set_state(req.state());
    }
    return db_.Prepare("UPDATE subscriptions SET plan = ?, state = ? WHERE id = ?")
        .Bind(1, out.plan())
        .Bind(2, static_cast<int64_t>(out.state()))
        .Bind(3, out.id())
        .Run();
  }));
  return out;
}

absl::Status Catalog::DeleteSubscription(const std::string& id) {
  return Mutate(true, [&]() -> absl::Status {
    Statement del = db_.Prepare("DELETE FROM subscriptions WHERE id = ?");
    del.Bind(1, id);
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0) return absl::NotFoundError(absl::StrCat("subscription: no subscription '", id, "'"));
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::KeyPair> Catalog::GenerateKeys(const std::string& app, v1::KeyType type, bool regenerate) {
  if (type == v1::KEY_TYPE_UNSPECIFIED) type = v1::PRODUCTION;
  v1::KeyPair out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
    Statement existing = db_.Prepare("SELECT consumer_key FROM consumer_keys WHERE application_id = ? AND key_type = ?");
    existing.Bind(1, a.id()).Bind(2, static_cast<int64_t>(type));
    if (existing.Next()) {
      if (!regenerate)
        return absl::AlreadyExistsError(absl::StrCat("application '", a.name(), "' already has ", KeyTypeName(type),
                                                     " keys (consumer key ", existing.Text(0),
                                                     "); pass --regenerate to replace them"));
      std::string old = existing.Text(0);
      WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM issued_tokens WHERE consumer_key = ?").Bind(1, old).Run());
      WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM opaque_tokens WHERE consumer_key = ?").Bind(1, old).Run());
      WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM consumer_keys WHERE consumer_key = ?").Bind(1, old).Run());
    }
    out.set_application_id(a.id());
    out.set_key_type(type);
    out.set_consumer_key(RandomHex(14));
    out.set_consumer_secret(RandomHex(20));
    out.set_created_unix_ms(NowMs());
    // The secret is shown once and stored only as a hash (it is random, so SHA-256 suffices).
    return db_.Prepare("INSERT INTO consumer_keys VALUES(?, ?, ?, ?, ?)")
        .Bind(1, a.id())
        .Bind(2, static_cast<int64_t>(type))
        .Bind(3, out.consumer_key())
        .BindBlob(4, Sha256(out.consumer_secret()))
        .Bind(5, out.created_unix_ms())
        .Run();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::KeyPair>> Catalog::ListKeys(const std::string& app) {
  std::lock_guard lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
  std::vector<v1::KeyPair> out;
  Statement st = db_.Prepare("SELECT key_type, consumer_key, created_ms FROM consumer_keys WHERE application_id = ? ORDER BY key_type");
  st.Bind(1, a.id());
  while (st.Next()) {
    v1::KeyPair k;
    k.set_application_id(a.id());
    k.set_key_type(static_cast<v1::KeyType>(st.Int(0)));
    k.set_consumer_key(st.Text(1));
    k.set_created_unix_ms(st.Int(2));
    out.push_back(std::move(k));
  }
  return out;
}

absl::Status Catalog::DeleteKeys(const std::string& app, v1::KeyType type) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
    WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM opaque_tokens WHERE consumer_key IN (SELECT consumer_key FROM "
                                       "consumer_keys WHERE application_id = ? AND key_type = ?)")
                               .Bind(1, a.id())
                               .Bind(2, static_cast<int64_t>(type))
                               .Run());
    Statement del = db_.Prepare("DELETE FROM consumer_keys WHERE application_id = ? AND key_type = ?");
    del.Bind(1, a.id()).Bind(2, static_cast<int64_t>(type));
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0)
      return absl::NotFoundError(absl::StrCat("application '", a.name(), "' has no ", KeyTypeName(type), " keys"));
    return absl::OkStatus();
  });
}

absl::StatusOr<ClientIdentity> Catalog::AuthenticateClient(const std::string& consumer_key, const std::string& secret) {
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare("SELECT application_id, key_type, secret_sha256 FROM consumer_keys WHERE consumer_key = ?");
  st.Bind(1, consumer_key);
  std::string expected = st.Next() ? st.Text(2) : std::string(32, '\0');
  // Compare even for an unknown key, so timing does not tell which part was wrong.
  bool ok = SecureEquals(Sha256(secret), expected) && !st.Text(0).empty();
  if (!ok) return absl::UnauthenticatedError("invalid client credentials");
  return ClientIdentity{st.Text(0), static_cast<v1::KeyType>(st.Int(1))};
}

// ---------------------------------------------------------------------------------------------
// Tokens and signing keys

absl::Status Catalog::InsertSigningKey(const SigningKey& key, bool active) {
  if (active) WSGATE_RETURN_IF_ERROR(db_.Prepare("UPDATE signing_keys SET active = 0, retire_after_s = ? WHERE active = 1")
                                         .Bind(1, NowS() + options_.max_token_ttl_s + 60)
                                         .Run());
  return db_.Prepare("INSERT INTO signing_keys VALUES(?, ?, ?, ?, ?, ?, 0)")
      .Bind(1, key.kid())
      .Bind(2, static_cast<int64_t>(key.algorithm()))
      .Bind(3, key.PrivatePem())
      .Bind(4, key.PublicPem())
      .Bind(5, active ? 1 : 0)
      .Bind(6, NowMs())
      .Run();
}

namespace catalog_internal {
v1::SigningKeyInfo SigningKeyRow(Statement& st) {
  v1::SigningKeyInfo k;
  k.set_kid(st.Text(0));
  k.set_algorithm(static_cast<v1::SigningAlgorithm>(st.Int(1)));
  k.set_public_key_pem(st.Text(2));
  k.set_active(st.Int(3) != 0);
  k.set_created_unix_ms(st.Int(4));
  k.set_retire_after_unix_s(st.Int(5));
  return k;
}
}  // namespace catalog_internal

absl::StatusOr<std::unique_ptr<SigningKey>> Catalog::ActiveKey() {
  Statement st = db_.Prepare("SELECT kid, algorithm, private_pem FROM signing_keys WHERE active = 1");
  if (!st.Next()) return absl::InternalError("no active signing key");
  return SigningKey::FromPrivatePem(static_cast<v1::SigningAlgorithm>(st.Int(1)), st.Text(0), st.Text(2));
}

absl::StatusOr<v1::SigningKeyInfo> Catalog::RotateSigningKey(v1::SigningAlgorithm alg) {
  if (alg == v1::SIGNING_ALGORITHM_UNSPECIFIED) alg = v1::RS256;
  WSGATE_ASSIGN_OR_RETURN(auto key, SigningKey::Generate(alg, RandomHex(8)));
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() { return InsertSigningKey(*key, true); }));
  v1::SigningKeyInfo info;
  info.set_kid(key->kid());
  info.set_algorithm(alg);
  info.set_public_key_pem(key->PublicPem());
  info.set_active(true);
  info.set_created_unix_ms(NowMs());
  return info;
}

absl::StatusOr<std::vector<v1::SigningKeyInfo>> Catalog::ListSigningKeys() {
  std::lock_guard lock(mu_);
  std::vector<v1::SigningKeyInfo> out;
  Statement st = db_.Prepare(
      "SELECT kid, algorithm, public_pem, active, created_ms, retire_after_s FROM signing_keys "
      "WHERE active = 1 OR retire_after_s > ? ORDER BY created_ms");
  st.Bind(1, NowS());
  while (st.Next()) out.push_back(catalog_internal::SigningKeyRow(st));
  return out;
}

absl::StatusOr<std::string> Catalog::Jwks() {
  std::lock_guard lock(mu_);
  Json keys = Json::array();
  Statement st = db_.Prepare(
      "SELECT kid, algorithm, private_pem FROM signing_keys WHERE active = 1 OR retire_after_s > ? ORDER BY created_ms");
  st.Bind(1, NowS());
  while (st.Next()) {
    WSGATE_ASSIGN_OR_RETURN(auto key, SigningKey::FromPrivatePem(static_cast<v1::SigningAlgorithm>(st.Int(1)), st.Text(0), st.Text(2)));
    keys.push_back(key->Jwk());
  }
  WSGATE_RETURN_IF_ERROR(AddBackendJwks(keys));  // catalog_backend.cc
  return DumpJson({{"keys", std::move(keys)}});
}

}  // namespace wsgate::agent
