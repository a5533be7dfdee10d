// File: agent/schema_sqlite.cc — the catalog's schema steps in SQLite's dialect (agent/schema.h),
// exactly as every older catalog was created, and PRAGMA user_version as its schema version.
#include "absl/strings/str_cat.h"
#include "agent/schema.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {
namespace {

// Schema v1. Entities whose shape may grow (API specs, policies) are stored as protobuf blobs next
// to the columns that are looked up or constrained; the SQL stays portable to PostgreSQL.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE apis (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, context TEXT NOT NULL,
  state INTEGER NOT NULL, spec BLOB NOT NULL, next_revision INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  UNIQUE (name, version), UNIQUE (context, version));
CREATE TABLE revisions (
  api_id TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE, number INTEGER NOT NULL,
  description TEXT NOT NULL, spec BLOB NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (api_id, number));
CREATE TABLE deployments (
  api_id TEXT NOT NULL, revision INTEGER NOT NULL, environment TEXT NOT NULL, vhost TEXT NOT NULL,
  deployed_ms INTEGER NOT NULL, PRIMARY KEY (api_id, environment),
  FOREIGN KEY (api_id, revision) REFERENCES revisions(api_id, number));
CREATE TABLE applications (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL, owner TEXT NOT NULL,
  throttle_policy TEXT NOT NULL, blocked INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE subscriptions (
  id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id),
  api_id TEXT NOT NULL REFERENCES apis(id), plan TEXT NOT NULL, state INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, UNIQUE (application_id, api_id));
CREATE TABLE consumer_keys (
  application_id TEXT NOT NULL REFERENCES applications(id), key_type INTEGER NOT NULL,
  consumer_key TEXT NOT NULL UNIQUE, secret_sha256 BLOB NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (application_id, key_type));
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY, algorithm INTEGER NOT NULL, private_pem TEXT NOT NULL, public_pem TEXT NOT NULL,
  active INTEGER NOT NULL, created_ms INTEGER NOT NULL, retire_after_s INTEGER NOT NULL);
CREATE TABLE issued_tokens (
  jti TEXT PRIMARY KEY, consumer_key TEXT NOT NULL, expires_s INTEGER NOT NULL);
CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, expires_s INTEGER NOT NULL);
CREATE TABLE policies (name TEXT PRIMARY KEY, level INTEGER NOT NULL, policy BLOB NOT NULL, builtin INTEGER NOT NULL);
)sql";

// v2: the scopes an admin granted each application (space-separated), the only ones its tokens
// may carry.
constexpr const char* kSchemaV2 = "ALTER TABLE applications ADD COLUMN scopes TEXT NOT NULL DEFAULT '';";

// Schema v3: an environment is a blob (type, description, vhosts) keyed by its name, with its
// settings next to it; certificates per (environment, vhost), the key only readable by the agent
// (the catalog file is 0600).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE environments (
  name TEXT PRIMARY KEY, env BLOB NOT NULL, settings BLOB NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE certificates (
  environment TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE, vhost TEXT NOT NULL,
  cert_pem TEXT NOT NULL, key_pem TEXT NOT NULL, info BLOB NOT NULL, PRIMARY KEY (environment, vhost));
)sql";

// v4 (issue 13, operations): the audit log of admin mutations (catalog_audit.cc). Written with
// IF NOT EXISTS so that it applies after whichever version it finds.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, caller TEXT NOT NULL, method TEXT NOT NULL,
  object_kind TEXT NOT NULL, object TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log(time_ms);
)sql";

// v5 (issue 14 items 1 and 5, helper scopes): per-application token format (TokenFormat, 0 =
// JWT) and agent-managed opaque tokens, stored as SHA-256 only. API scope declarations live in
// the spec blobs; MigrateScopes declares the scopes older topics name. Idempotent, like v4: the
// column is added only when missing.
constexpr const char* kSchemaV5Column = "ALTER TABLE applications ADD COLUMN token_format INTEGER NOT NULL DEFAULT 0;";

constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE IF NOT EXISTS opaque_tokens (
  id TEXT PRIMARY KEY, sha256 BLOB NOT NULL UNIQUE, consumer_key TEXT NOT NULL, scopes TEXT NOT NULL,
  expires_s INTEGER NOT NULL);
)sql";

// v8 (issue 14 item 8, roles): admin users, their roles (bits of agent/roles.h's Role) and the
// SHA-256 of their credential (catalog_users.cc).
constexpr const char* kSchemaV8 = R"sql(
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, roles INTEGER NOT NULL, credential_sha256 BLOB NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL, rotated_ms INTEGER NOT NULL);
)sql";

// Schema v9 (issue 14 item 4): applications' API keys, by SHA-256 only (catalog_api_keys.cc).
// Restrictions are space-separated lists (API ids, CIDRs, origins: none holds a space).
constexpr const char* kSchemaV9 = R"sql(
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id), key_type INTEGER NOT NULL,
  sha256 BLOB NOT NULL UNIQUE, prefix TEXT NOT NULL, apis TEXT NOT NULL, ip_ranges TEXT NOT NULL,
  origins TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_s INTEGER NOT NULL);
)sql";

// v10 (issue 14 item 6, helper idp): external identity providers (the spec as a blob; the last
// good JWKS key set as a serialized v1::IdentityProvider holding only `keys`) and the client ids
// registered to applications (catalog_idp.cc).
constexpr const char* kSchemaV10 = R"sql(
CREATE TABLE IF NOT EXISTS identity_providers (
  name TEXT PRIMARY KEY, issuer TEXT NOT NULL UNIQUE, spec BLOB NOT NULL, keys BLOB NOT NULL,
  fetched_ms INTEGER NOT NULL, last_error TEXT NOT NULL, next_fetch_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idp_clients (
  idp TEXT NOT NULL REFERENCES identity_providers(name), client_id TEXT NOT NULL,
  application_id TEXT NOT NULL REFERENCES applications(id), key_type INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (idp, client_id));
)sql";

constexpr const char* kSchemaV11 = R"sql(
CREATE TABLE IF NOT EXISTS backend_keys (
  kid TEXT PRIMARY KEY, algorithm INTEGER NOT NULL, private_pem TEXT NOT NULL, public_pem TEXT NOT NULL,
  active INTEGER NOT NULL, created_ms INTEGER NOT NULL, retire_after_s INTEGER NOT NULL);
)sql";

absl::Status AddTokenFormat(Db& db) {
  bool has_column = false;
  {
    Statement column = db.Prepare("SELECT COUNT(*) FROM pragma_table_info('applications') WHERE name = 'token_format'");
    has_column = column.Next() && column.Int(0) > 0;
  }
  return has_column ? absl::OkStatus() : db.Exec(kSchemaV5Column);
}

// BEGIN IMMEDIATE already holds the database's write lock.
absl::Status Lock(Db&) { return absl::OkStatus(); }

absl::StatusOr<int64_t> Version(Db& db) {
  Statement st = db.Prepare("PRAGMA user_version");
  int64_t version = st.Next() ? st.Int(0) : 0;
  WSGATE_RETURN_IF_ERROR(st.status());
  return version;
}

absl::Status SetVersion(Db& db, int64_t version) { return db.Exec(absl::StrCat("PRAGMA user_version = ", version)); }

}  // namespace

const SchemaSql& SqliteSchema() {
  static const SchemaSql kSql = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4,      kSchemaV5, kSchemaV8,
                                 kSchemaV9, kSchemaV10, kSchemaV11, AddTokenFormat, Lock,      Version,
                                 SetVersion};
  return kSql;
}

}  // namespace wsgate::agent
