// File: agent/schema_postgres.cc — the catalog's schema steps in PostgreSQL's dialect
// (agent/schema.h): SQLite's steps with BIGINT for INTEGER (ms timestamps pass 2^31), BYTEA for
// BLOB, TEXT COLLATE "C" so that ORDER BY sorts bytewise as SQLite does whatever the database's
// locale, BIGSERIAL for the audit log's sequence and api_keys.rowid (SQLite's implicit rowid,
// creation order within a millisecond). The version is the one row of schema_version; a
// transaction-scoped advisory lock keeps two agents from migrating one catalog at once.
#include "absl/strings/str_cat.h"
#include "agent/schema.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {
namespace {

// v1: the objects; entities whose shape may grow are protobuf blobs next to the looked-up columns.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT COLLATE "C" NOT NULL);
CREATE TABLE IF NOT EXISTS apis (
  id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL, version TEXT COLLATE "C" NOT NULL, context TEXT COLLATE "C" NOT NULL,
  state BIGINT NOT NULL, spec BYTEA NOT NULL, next_revision BIGINT NOT NULL,
  created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
  UNIQUE (name, version), UNIQUE (context, version));
CREATE TABLE IF NOT EXISTS revisions (
  api_id TEXT COLLATE "C" NOT NULL REFERENCES apis(id) ON DELETE CASCADE, number BIGINT NOT NULL,
  description TEXT COLLATE "C" NOT NULL, spec BYTEA NOT NULL, created_ms BIGINT NOT NULL,
  PRIMARY KEY (api_id, number));
CREATE TABLE IF NOT EXISTS deployments (
  api_id TEXT COLLATE "C" NOT NULL, revision BIGINT NOT NULL, environment TEXT COLLATE "C" NOT NULL, vhost TEXT COLLATE "C" NOT NULL,
  deployed_ms BIGINT NOT NULL, PRIMARY KEY (api_id, environment),
  FOREIGN KEY (api_id, revision) REFERENCES revisions(api_id, number));
CREATE TABLE IF NOT EXISTS applications (
  id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL UNIQUE, description TEXT COLLATE "C" NOT NULL, owner TEXT COLLATE "C" NOT NULL,
  throttle_policy TEXT COLLATE "C" NOT NULL, blocked BIGINT NOT NULL, created_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT COLLATE "C" PRIMARY KEY, application_id TEXT COLLATE "C" NOT NULL REFERENCES applications(id),
  api_id TEXT COLLATE "C" NOT NULL REFERENCES apis(id), plan TEXT COLLATE "C" NOT NULL, state BIGINT NOT NULL,
  created_ms BIGINT NOT NULL, UNIQUE (application_id, api_id));
CREATE TABLE IF NOT EXISTS consumer_keys (
  application_id TEXT COLLATE "C" NOT NULL REFERENCES applications(id), key_type BIGINT NOT NULL,
  consumer_key TEXT COLLATE "C" NOT NULL UNIQUE, secret_sha256 BYTEA NOT NULL, created_ms BIGINT NOT NULL,
  PRIMARY KEY (application_id, key_type));
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT COLLATE "C" PRIMARY KEY, algorithm BIGINT NOT NULL, private_pem TEXT COLLATE "C" NOT NULL, public_pem TEXT COLLATE "C" NOT NULL,
  active BIGINT NOT NULL, created_ms BIGINT NOT NULL, retire_after_s BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS issued_tokens (
  jti TEXT COLLATE "C" PRIMARY KEY, consumer_key TEXT COLLATE "C" NOT NULL, expires_s BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS revoked_tokens (jti TEXT COLLATE "C" PRIMARY KEY, expires_s BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS policies (name TEXT COLLATE "C" PRIMARY KEY, level BIGINT NOT NULL, policy BYTEA NOT NULL, builtin BIGINT NOT NULL);
)sql";

// v2: the scopes an admin granted each application.
constexpr const char* kSchemaV2 =
    R"sql(ALTER TABLE applications ADD COLUMN IF NOT EXISTS scopes TEXT COLLATE "C" NOT NULL DEFAULT '';)sql";

// v3: gateway environments and per-vhost certificates.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS environments (
  name TEXT COLLATE "C" PRIMARY KEY, env BYTEA NOT NULL, settings BYTEA NOT NULL, created_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
  environment TEXT COLLATE "C" NOT NULL REFERENCES environments(name) ON DELETE CASCADE, vhost TEXT COLLATE "C" NOT NULL,
  cert_pem TEXT COLLATE "C" NOT NULL, key_pem TEXT COLLATE "C" NOT NULL, info BYTEA NOT NULL, PRIMARY KEY (environment, vhost));
)sql";

// v4: the audit log.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE IF NOT EXISTS audit_log (
  seq BIGSERIAL PRIMARY KEY, time_ms BIGINT NOT NULL, caller TEXT COLLATE "C" NOT NULL, method TEXT COLLATE "C" NOT NULL,
  object_kind TEXT COLLATE "C" NOT NULL, object TEXT COLLATE "C" NOT NULL, code TEXT COLLATE "C" NOT NULL, message TEXT COLLATE "C" NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_time ON audit_log(time_ms);
)sql";

// v5: per-application token formats and opaque tokens (SHA-256 only).
constexpr const char* kSchemaV5 = R"sql(
ALTER TABLE applications ADD COLUMN IF NOT EXISTS token_format BIGINT NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS opaque_tokens (
  id TEXT COLLATE "C" PRIMARY KEY, sha256 BYTEA NOT NULL UNIQUE, consumer_key TEXT COLLATE "C" NOT NULL, scopes TEXT COLLATE "C" NOT NULL,
  expires_s BIGINT NOT NULL);
)sql";

// v8: admin users.
constexpr const char* kSchemaV8 = R"sql(
CREATE TABLE IF NOT EXISTS users (
  name TEXT COLLATE "C" PRIMARY KEY, roles BIGINT NOT NULL, credential_sha256 BYTEA NOT NULL UNIQUE,
  created_ms BIGINT NOT NULL, rotated_ms BIGINT NOT NULL);
)sql";

// v9: API keys (SHA-256 only).
constexpr const char* kSchemaV9 = R"sql(
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT COLLATE "C" PRIMARY KEY, application_id TEXT COLLATE "C" NOT NULL REFERENCES applications(id), key_type BIGINT NOT NULL,
  sha256 BYTEA NOT NULL UNIQUE, prefix TEXT COLLATE "C" NOT NULL, apis TEXT COLLATE "C" NOT NULL, ip_ranges TEXT COLLATE "C" NOT NULL,
  origins TEXT COLLATE "C" NOT NULL, created_ms BIGINT NOT NULL, expires_s BIGINT NOT NULL,
  rowid BIGSERIAL);
)sql";

// v10: external identity providers and their client ids.
constexpr const char* kSchemaV10 = R"sql(
CREATE TABLE IF NOT EXISTS identity_providers (
  name TEXT COLLATE "C" PRIMARY KEY, issuer TEXT COLLATE "C" NOT NULL UNIQUE, spec BYTEA NOT NULL, keys BYTEA NOT NULL,
  fetched_ms BIGINT NOT NULL, last_error TEXT COLLATE "C" NOT NULL, next_fetch_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS idp_clients (
  idp TEXT COLLATE "C" NOT NULL REFERENCES identity_providers(name), client_id TEXT COLLATE "C" NOT NULL,
  application_id TEXT COLLATE "C" NOT NULL REFERENCES applications(id), key_type BIGINT NOT NULL, created_ms BIGINT NOT NULL,
  PRIMARY KEY (idp, client_id));
)sql";

// v11: backend-signing keys.
constexpr const char* kSchemaV11 = R"sql(
CREATE TABLE IF NOT EXISTS backend_keys (
  kid TEXT COLLATE "C" PRIMARY KEY, algorithm BIGINT NOT NULL, private_pem TEXT COLLATE "C" NOT NULL, public_pem TEXT COLLATE "C" NOT NULL,
  active BIGINT NOT NULL, created_ms BIGINT NOT NULL, retire_after_s BIGINT NOT NULL);
)sql";

constexpr const char* kVersionTable = "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)";

// v5's column is part of kSchemaV5 (ADD COLUMN IF NOT EXISTS).
absl::Status AddTokenFormat(Db&) { return absl::OkStatus(); }

// Any fixed key: this lock is the catalog's migration lock, released at COMMIT or ROLLBACK.
absl::Status Lock(Db& db) {
  WSGATE_RETURN_IF_ERROR(db.Exec("SELECT pg_advisory_xact_lock(7306355376447301)"));
  return db.Exec(kVersionTable);
}

absl::StatusOr<int64_t> Version(Db& db) {
  Statement exists = db.Prepare("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists.Next()) return exists.status().ok() ? absl::InternalError("to_regclass: no row") : exists.status();
  if (exists.Int(0) == 0) return 0;
  Statement st = db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
  int64_t version = st.Next() ? st.Int(0) : 0;
  WSGATE_RETURN_IF_ERROR(st.status());
  return version;
}

absl::Status SetVersion(Db& db, int64_t version) {
  WSGATE_RETURN_IF_ERROR(db.Exec("DELETE FROM schema_version"));
  return db.Prepare("INSERT INTO schema_version VALUES(?)").Bind(1, version).Run();
}

}  // namespace

const SchemaSql& PostgresSchema() {
  static const SchemaSql kSql = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4,      kSchemaV5, kSchemaV8,
                                 kSchemaV9, kSchemaV10, kSchemaV11, AddTokenFormat, Lock,      Version,
                                 SetVersion};
  return kSql;
}

}  // namespace wsgate::agent
