// File: agent/catalog.cc — opening, schema and migrations, seeding, policies and the snapshot
// (APIs and revisions: catalog_apis.cc; applications, keys and tokens: catalog_access.cc).
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
#include "agent/schema.h"
#include "engine/common/base64.h"
#include "engine/common/status_macros.h"
#include "engine/config/syntax.h"

namespace wsgate::agent {
namespace {

constexpr int kSchemaVersion = 11;
// NOTIFY channel of committed config versions, and how often watchers check without one.
constexpr const char* kCatalogChannel = "wsgate_catalog";
constexpr int kWatchFallbackMs = 2000;

v1::ThrottlePolicy Builtin(const std::string& name, uint64_t events, const std::string& description) {
  v1::ThrottlePolicy p;
  p.set_name(name);
  p.set_level(v1::SUBSCRIPTION);
  p.set_events(events);
  p.set_unlimited(events == 0);
  p.set_unit(v1::DAY);
  p.set_unit_count(1);
  p.set_stop_on_quota_reach(true);
  p.set_description(description);
  return p;
}
}  // namespace

namespace catalog_internal {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t NowS() { return NowMs() / 1000; }

std::string NewId() {
  std::string h = RandomHex(16);
  return absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-", h.substr(16, 4), "-", h.substr(20));
}

std::string Serialize(const google::protobuf::Message& m) { return m.SerializeAsString(); }

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string ApiRefText(const v1::ApiSpec& spec) { return absl::StrCat(spec.name(), ":", spec.version()); }
std::string KeyTypeName(v1::KeyType t) { return t == v1::SANDBOX ? "SANDBOX" : "PRODUCTION"; }
bool ValidScopeToken(const std::string& s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) { return c <= ' ' || c > '~' || c == '"' || c == '\\'; });
}

absl::Status ValidScopes(const std::string& field, const google::protobuf::RepeatedPtrField<std::string>& scopes) {
  for (const auto& s : scopes)
    if (!ValidScopeToken(s))
      return Invalid(field, absl::StrCat("bad scope '", s, "' (printable ASCII, no space, '\"' or '\\')"));
  return absl::OkStatus();
}

// Column 0 of every row of `st`; a step error is returned, not taken for the end.
absl::StatusOr<std::vector<std::string>> Ids(Statement& st) {
  std::vector<std::string> ids;
  while (st.Next()) ids.push_back(st.Text(0));
  WSGATE_RETURN_IF_ERROR(st.status());
  return ids;
}

}  // namespace catalog_internal

bool SplitApiRef(const std::string& ref, std::string* name, std::string* version) {
  size_t colon = ref.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == ref.size()) return false;
  *name = ref.substr(0, colon);
  *version = ref.substr(colon + 1);
  return true;
}
// ---------------------------------------------------------------------------------------------
// Opening, schema, seeding

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Open(const std::string& target, CatalogOptions options) {
  std::unique_ptr<Catalog> c(new Catalog(std::move(options)));
  std::lock_guard lock(c->mu_);
  WSGATE_RETURN_IF_ERROR(c->db_.Open(target));
  WSGATE_RETURN_IF_ERROR(c->Migrate());
  WSGATE_RETURN_IF_ERROR(c->Seed());
  Statement st = c->db_.Prepare("SELECT value FROM meta WHERE key = 'agent_id'");
  if (st.Next()) c->agent_id_ = st.Text(0);
  c->notified_version_ = c->config_version();
  Catalog* self = c.get();
  WSGATE_ASSIGN_OR_RETURN(c->watcher_, c->db_.Watch(kCatalogChannel, [self] { self->CheckVersion(); }, kWatchFallbackMs));
  return c;
}

void Catalog::CheckVersion() {
  uint64_t version = 0;
  std::function<void(uint64_t)> listener;
  {
    std::lock_guard lock(mu_);
    version = config_version();
    if (version <= notified_version_) return;
    notified_version_ = version;
    listener = listener_;
  }
  if (listener) listener(version);
}

absl::Status Catalog::Migrate() {
  const SchemaSql& sql = SchemaFor(db_.dialect());  // agent/schema_sqlite.cc, agent/schema_postgres.cc
  WSGATE_ASSIGN_OR_RETURN(int64_t version, sql.version(db_));
  if (version > kSchemaVersion)
    return absl::FailedPreconditionError(absl::StrCat("the catalog has schema version ", version,
                                                      ", newer than this agent understands (", kSchemaVersion, ")"));
  if (version == kSchemaVersion) return absl::OkStatus();
  Transaction tx(db_);
  WSGATE_RETURN_IF_ERROR(tx.Begin());
  WSGATE_RETURN_IF_ERROR(sql.lock(db_));
  WSGATE_ASSIGN_OR_RETURN(version, sql.version(db_));  // another agent may have migrated meanwhile
  if (version < 1) WSGATE_RETURN_IF_ERROR(db_.Exec(sql.v1));
  if (version < 2) WSGATE_RETURN_IF_ERROR(db_.Exec(sql.v2));
  if (version < 3) WSGATE_RETURN_IF_ERROR(MigrateEnvironments(sql.v3));  // catalog_envs.cc
  if (version < 4) WSGATE_RETURN_IF_ERROR(db_.Exec(sql.v4));              // the audit log
  if (version < 5) {  // token formats, opaque tokens, declared API scopes
    WSGATE_RETURN_IF_ERROR(sql.add_token_format(db_));
    WSGATE_RETURN_IF_ERROR(db_.Exec(sql.v5));
    WSGATE_RETURN_IF_ERROR(MigrateScopes());  // catalog_apis.cc
  }
  if (version < 8) WSGATE_RETURN_IF_ERROR(db_.Exec(sql.v8));                 // admin users (roles)
  if (version < 9) WSGATE_RETURN_IF_ERROR(db_.Exec(sql.v9));                 // API keys
  if (version < 10) WSGATE_RETURN_IF_ERROR(db_.Exec(sql.v10));               // identity providers (idp)
  if (version < 11) WSGATE_RETURN_IF_ERROR(MigrateBackendKeys(sql.v11));     // backend JWT keys (catalog_backend.cc)
  // Later migrations go here (their SQL in both agent/schema_*.cc): if (version < 12) { ... }
  if (version < kSchemaVersion) WSGATE_RETURN_IF_ERROR(sql.set_version(db_, kSchemaVersion));
  return tx.Commit();
}

absl::Status Catalog::Seed() {
  auto seeded = [this] {
    Statement has = db_.Prepare("SELECT COUNT(*) FROM meta WHERE key = 'agent_id'");
    return has.Next() && has.Int(0) > 0;
  };
  if (seeded()) return absl::OkStatus();
  Transaction tx(db_);
  WSGATE_RETURN_IF_ERROR(tx.Begin());
  WSGATE_RETURN_IF_ERROR(SchemaFor(db_.dialect()).lock(db_));  // agents starting together seed once
  if (seeded()) return absl::OkStatus();
  WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO meta VALUES('agent_id', ?)").Bind(1, NewId()).Run());
  WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO meta VALUES('config_version', '1')").Run());
  // WSO2's default subscription policies for streaming APIs, and an unlimited application policy.
  std::vector<v1::ThrottlePolicy> defaults = {
      Builtin("AsyncGold", 50000, "Allows 50000 events per day"),
      Builtin("AsyncSilver", 25000, "Allows 25000 events per day"),
      Builtin("AsyncBronze", 5000, "Allows 5000 events per day"),
      Builtin("AsyncUnlimited", 0, "Allows unlimited events"),
  };
  v1::ThrottlePolicy unlimited = Builtin("Unlimited", 0, "Allows unlimited events");
  unlimited.set_level(v1::APPLICATION);
  defaults.push_back(unlimited);
  for (const auto& p : defaults)
    WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO policies VALUES(?, ?, ?, 1)")
                               .Bind(1, p.name())
                               .Bind(2, static_cast<int64_t>(p.level()))
                               .BindBlob(3, Serialize(p))
                               .Run());
  WSGATE_ASSIGN_OR_RETURN(auto key, SigningKey::Generate(v1::RS256, RandomHex(8)));
  WSGATE_RETURN_IF_ERROR(InsertSigningKey(*key, true));
  return tx.Commit();
}

void Catalog::SetChangeListener(std::function<void(uint64_t)> listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

std::string Catalog::agent_id() const { return agent_id_; }

uint64_t Catalog::config_version() const {
  std::lock_guard lock(mu_);
  Statement st = const_cast<Db&>(db_).Prepare("SELECT value FROM meta WHERE key = 'config_version'");
  return st.Next() ? std::stoull(st.Text(0)) : 0;
}

absl::Status Catalog::Mutate(bool data_plane, const std::function<absl::Status()>& fn) {
  uint64_t version = 0;
  std::function<void(uint64_t)> listener;
  {
    std::lock_guard lock(mu_);
    Transaction tx(db_);
    WSGATE_RETURN_IF_ERROR(tx.Begin());
    // The version row first (bumped for a data-plane change, else only written): its row lock
    // makes mutations through different agents on one PostgreSQL catalog run one after the other,
    // each reading what the one before committed (SQLite's BEGIN IMMEDIATE already serializes
    // everything). A failure rolls it back.
    WSGATE_RETURN_IF_ERROR(db_.Prepare(data_plane ? "UPDATE meta SET value = CAST(value AS BIGINT) + 1 WHERE key = 'config_version'"
                                                  : "UPDATE meta SET value = value WHERE key = 'config_version'")
                               .Run());
    WSGATE_RETURN_IF_ERROR(fn());
    if (data_plane) {
      Statement st = db_.Prepare("SELECT value FROM meta WHERE key = 'config_version'");
      if (st.Next()) version = std::stoull(st.Text(0));
      WSGATE_RETURN_IF_ERROR(db_.Notify(kCatalogChannel, std::to_string(version)));  // at commit
    }
    WSGATE_RETURN_IF_ERROR(tx.Commit());
    if (!applying_) listener = listener_;
    if (data_plane && !applying_) notified_version_ = version;
  }
  if (data_plane && listener) listener(version);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Policies

namespace catalog_internal {
absl::StatusOr<v1::ThrottlePolicy> NormalizedPolicy(const v1::ThrottlePolicy& in) {
  v1::ThrottlePolicy p = in;
  if (p.name().empty() || p.name().find_first_of(" /:") != std::string::npos)
    return Invalid("name", "must be non-empty without spaces, '/' or ':'");
  if (p.level() == v1::POLICY_LEVEL_UNSPECIFIED) p.set_level(v1::SUBSCRIPTION);
  // A connection-only policy (issue 15): --connections without --events counts no events.
  bool connections_only = !p.unlimited() && p.events() == 0 && p.max_connections() > 0;
  if (connections_only) {
    p.set_unlimited(true);
    if (p.unit() == v1::TIME_UNIT_UNSPECIFIED) p.set_unit(v1::DAY);
  }
  if (!p.unlimited() && p.events() == 0)
    return Invalid("events", "must be > 0 (or set unlimited, or connections for a connection-only policy)");
  if (p.unit() == v1::TIME_UNIT_UNSPECIFIED) return Invalid("unit", "must be SECOND, MINUTE, HOUR, DAY or MONTH");
  if (p.unit_count() == 0) p.set_unit_count(1);
  // Not given: a limit drops over quota (WSO2 default); an explicit false counts only.
  if (!in.has_stop_on_quota_reach() && !in.unlimited()) p.set_stop_on_quota_reach(true);
  if (p.description().empty())
    p.set_description(p.unlimited() ? "Allows unlimited events"
                                    : absl::StrCat("Allows ", p.events(), " events per ",
                                                   p.unit_count() == 1 ? "" : absl::StrCat(p.unit_count(), " "),
                                                   absl::AsciiStrToLower(v1::TimeUnit_Name(p.unit())),
                                                   p.unit_count() == 1 ? "" : "s"));
  if (in.description().empty() && p.max_connections() > 0)
    p.set_description(absl::StrCat(connections_only ? "Allows unlimited events" : p.description(), " and ",
                                   p.max_connections(), " concurrent connections"));
  return p;
}
}  // namespace catalog_internal

absl::StatusOr<v1::ThrottlePolicy> Catalog::CreatePolicy(const v1::ThrottlePolicy& in) {
  WSGATE_ASSIGN_OR_RETURN(v1::ThrottlePolicy p, catalog_internal::NormalizedPolicy(in));
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    absl::Status s = db_.Prepare("INSERT INTO policies VALUES(?, ?, ?, 0)")
                         .Bind(1, p.name())
                         .Bind(2, static_cast<int64_t>(p.level()))
                         .BindBlob(3, Serialize(p))
                         .Run();
    if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat("a policy named '", p.name(), "' already exists"));
    return s;
  }));
  return p;
}

absl::StatusOr<std::vector<v1::ThrottlePolicy>> Catalog::ListPolicies(v1::PolicyLevel level) {
  std::lock_guard lock(mu_);
  std::vector<v1::ThrottlePolicy> out;
  Statement st = db_.Prepare("SELECT policy FROM policies WHERE ?1 = 0 OR level = ?1 ORDER BY level, builtin DESC, name");
  st.Bind(1, static_cast<int64_t>(level));
  while (st.Next()) {
    v1::ThrottlePolicy p;
    p.ParseFromString(st.Text(0));
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status Catalog::DeletePolicy(const std::string& name) {
  return Mutate(true, [&]() -> absl::Status {
    Statement used = db_.Prepare(
        "SELECT 'subscription' FROM subscriptions WHERE plan = ?1 UNION ALL "
        "SELECT 'application' FROM applications WHERE throttle_policy = ?1 LIMIT 1");
    used.Bind(1, name);
    if (used.Next())
      return absl::FailedPreconditionError(absl::StrCat("policy '", name, "' is used by a ", used.Text(0)));
    // An API's offered plans are in its spec blob.
    Statement apis = db_.Prepare("SELECT spec FROM apis");
    while (apis.Next()) {
      v1::ApiSpec spec;
      spec.ParseFromString(apis.Text(0));
      if (std::find(spec.plans().begin(), spec.plans().end(), name) != spec.plans().end() || spec.throttle_policy() == name)
        return absl::FailedPreconditionError(absl::StrCat("policy '", name, "' is used by API ", ApiRefText(spec)));
    }
    Statement del = db_.Prepare("DELETE FROM policies WHERE name = ?");
    del.Bind(1, name);
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0) return absl::NotFoundError(absl::StrCat("policy: no policy '", name, "'"));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// The snapshot

absl::StatusOr<v1::Snapshot> Catalog::BuildSnapshot(const std::string& environment_in) {
  const std::string& environment = environment_in.empty() ? options_.environment : environment_in;
  std::lock_guard lock(mu_);
  // Every SELECT below reads one snapshot: with several agents, another agent's commit in the
  // middle must not give a snapshot labelled N that holds part of N+1. Read-only: rolled back.
  Transaction read(db_);
  WSGATE_RETURN_IF_ERROR(read.BeginRead());
  v1::Snapshot s;
  Statement version = db_.Prepare("SELECT value FROM meta WHERE key = 'config_version'");
  if (version.Next()) s.set_version(std::stoull(version.Text(0)));
  s.set_agent_id(agent_id_);
  s.set_created_unix_ms(NowMs());
  s.mutable_token_validation()->set_issuer(options_.issuer);
  WSGATE_RETURN_IF_ERROR(AddEnvironmentToSnapshot(environment, s));  // vhosts, certificates, settings

  // Deployed revisions of APIs in a serving (or blocked) state.
  Statement deployed = db_.Prepare(
      "SELECT a.id, a.state, d.revision, d.vhost, r.spec FROM deployments d JOIN apis a ON a.id = d.api_id "
      "JOIN revisions r ON r.api_id = d.api_id AND r.number = d.revision WHERE d.environment = ? ORDER BY a.id");
  deployed.Bind(1, environment);
  while (deployed.Next()) {
    auto state = static_cast<v1::LifecycleState>(deployed.Int(1));
    if (state == v1::CREATED || state == v1::RETIRED) continue;
    v1::ApiSpec spec;
    spec.ParseFromString(deployed.Text(4));
    v1::Api* api = s.add_apis();
    api->set_id(deployed.Text(0));
    api->set_name(spec.name());
    api->set_context(spec.context());
    api->set_version(spec.version());
    api->set_revision(static_cast<uint32_t>(deployed.Int(2)));
    api->set_is_default_version(spec.is_default_version());
    api->set_state(state);
    if (!spec.production_endpoint().url().empty()) *api->mutable_production_endpoint() = spec.production_endpoint();
    if (!spec.sandbox_endpoint().url().empty()) *api->mutable_sandbox_endpoint() = spec.sandbox_endpoint();
    *api->mutable_topics() = spec.topics();
    api->add_vhosts(deployed.Text(3));
    api->set_throttle_policy(spec.throttle_policy());
    *api->mutable_plans() = spec.plans();
    if (spec.has_access()) *api->mutable_access() = spec.access();
    if (spec.has_backend()) *api->mutable_backend() = spec.backend();
    api->set_max_message_bytes(spec.max_message_bytes());
    api->set_idle_timeout_ms(spec.idle_timeout_ms());
    api->set_max_lifetime_ms(spec.max_lifetime_ms());
    api->set_handshake_rate(spec.handshake_rate());
    api->set_handshake_burst(spec.handshake_burst());
    *api->mutable_security_schemes() = spec.security();
  }
  WSGATE_RETURN_IF_ERROR(deployed.status());

  Statement apps = db_.Prepare("SELECT id, name, owner, blocked, throttle_policy FROM applications");
  while (apps.Next()) {
    v1::Application* a = s.add_applications();
    a->set_id(apps.Text(0));
    a->set_name(apps.Text(1));
    a->set_owner(apps.Text(2));
    a->set_blocked(apps.Int(3) != 0);
    a->set_throttle_policy(apps.Text(4));
  }
  Statement subs = db_.Prepare("SELECT id, application_id, api_id, plan, state FROM subscriptions");
  while (subs.Next()) {
    v1::Subscription* sub = s.add_subscriptions();
    sub->set_id(subs.Text(0));
    sub->set_application_id(subs.Text(1));
    sub->set_api_id(subs.Text(2));
    sub->set_plan(subs.Text(3));
    sub->set_state(static_cast<v1::SubscriptionState>(subs.Int(4)));
  }
  Statement keys = db_.Prepare("SELECT consumer_key, application_id, key_type FROM consumer_keys");
  while (keys.Next()) {
    v1::ConsumerKey* k = s.add_consumer_keys();
    k->set_client_id(keys.Text(0));
    k->set_application_id(keys.Text(1));
    k->set_key_type(static_cast<v1::KeyType>(keys.Int(2)));
  }
  int64_t now = NowS();
  Statement signing = db_.Prepare(
      "SELECT kid, algorithm, public_pem, retire_after_s FROM signing_keys WHERE active = 1 OR retire_after_s > ?");
  signing.Bind(1, now);
  while (signing.Next()) {
    v1::SigningKey* k = s.add_signing_keys();
    k->set_kid(signing.Text(0));
    k->set_algorithm(static_cast<v1::SigningAlgorithm>(signing.Int(1)));
    k->set_public_key_pem(signing.Text(2));
    k->set_retire_after_unix_s(signing.Int(3));
  }
  Statement revoked = db_.Prepare("SELECT jti, expires_s FROM revoked_tokens WHERE expires_s > ?");
  revoked.Bind(1, now - 60);
  while (revoked.Next()) {
    v1::RevokedToken* r = s.add_revoked_tokens();
    r->set_jti(revoked.Text(0));
    r->set_expires_unix_s(revoked.Int(1));
  }
  Statement policies = db_.Prepare("SELECT policy FROM policies");
  while (policies.Next()) s.add_throttle_policies()->ParseFromString(policies.Text(0));
  WSGATE_RETURN_IF_ERROR(AddOpaqueTokensToSnapshot(now, s));  // catalog_tokens.cc
  WSGATE_RETURN_IF_ERROR(AddApiKeysToSnapshot(now, s));       // catalog_api_keys.cc
  WSGATE_RETURN_IF_ERROR(AddBackendKeyToSnapshot(s));         // catalog_backend.cc
  WSGATE_RETURN_IF_ERROR(AddIdentityProvidersToSnapshot(s));  // catalog_idp.cc
  return s;
}

}  // namespace wsgate::agent

