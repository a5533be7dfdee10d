// File: agent/schema.h
//
// The catalog's schema in each dialect: the DDL of every migration step and how the schema
// version is kept (SQLite: PRAGMA user_version, as every older catalog has it; PostgreSQL: the one
// row of table schema_version). Catalog::Migrate() (agent/catalog.cc) runs the steps in order in
// one transaction, with the data migrations between them shared by both backends. Both dialects
// end in the same logical schema: the same tables, columns and keys; SQLite's INTEGER/BLOB are
// PostgreSQL's BIGINT/BYTEA, and text compares bytewise on both (COLLATE "C").
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/store.h"

namespace wsgate::agent {

struct SchemaSql {
  const char* v1;   // meta, APIs, revisions, deployments, applications, subscriptions, keys, tokens, policies
  const char* v2;   // applications.scopes
  const char* v3;   // environments, certificates (then MigrateEnvironments seeds the default one)
  const char* v4;   // the audit log
  const char* v5;   // opaque tokens (after add_token_format; then MigrateScopes)
  const char* v8;   // admin users
  const char* v9;   // API keys
  const char* v10;  // identity providers and their clients
  const char* v11;  // backend-signing keys (then MigrateBackendKeys makes one)
  // v5: adds applications.token_format unless it is there.
  absl::Status (*add_token_format)(Db& db);
  // Locks the schema against other agents migrating at once, inside the migration's transaction.
  absl::Status (*lock)(Db& db);
  // The stored schema version; 0 for a new catalog.
  absl::StatusOr<int64_t> (*version)(Db& db);
  absl::Status (*set_version)(Db& db, int64_t version);
};

const SchemaSql& SqliteSchema();    // agent/schema_sqlite.cc
const SchemaSql& PostgresSchema();  // agent/schema_postgres.cc
inline const SchemaSql& SchemaFor(Dialect d) { return d == Dialect::kPostgres ? PostgresSchema() : SqliteSchema(); }

}  // namespace wsgate::agent
