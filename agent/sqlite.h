// File: agent/sqlite.h
//
// The SQLite StoreBackend (agent/store.h), the catalog's embedded default: a connection opened in
// WAL mode with synchronous=FULL and foreign keys on, prepared statements with typed binds and
// columns, BEGIN IMMEDIATE for transactions.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/store.h"

namespace wsgate::agent {

// Opens (creating if needed) the SQLite file at `path`.
absl::StatusOr<std::unique_ptr<StoreBackend>> OpenSqlite(const std::string& path);

}  // namespace wsgate::agent
