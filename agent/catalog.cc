// File: agent/catalog.cc — opening, schema and migrations, seeding, watching other agents'
// commits, the mutation wrapper (policies: catalog_policies.cc; the snapshot: catalog_snapshot.cc;
// APIs and revisions: catalog_apis.cc; applications, keys and tokens: catalog_access.cc).
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

}  // namespace wsgate::agent

