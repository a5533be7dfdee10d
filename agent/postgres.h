// File: agent/postgres.h
//
// The PostgreSQL StoreBackend (agent/store.h) over libpq, for catalogs several agents share
// (`--catalog postgres://USER@HOST:PORT/DB`). The catalog's `?` / `?N` placeholders become `$N`;
// statements run with PQexecParams (text, int8 for integers, binary bytea for blobs;
// text results, bytea decoded from hex); transactions are BEGIN/COMMIT with SAVEPOINTs for nesting,
// and a COMMIT after a statement failed inside the transaction is an error (PostgreSQL would
// otherwise answer it with a silent ROLLBACK). A constraint violation (SQLSTATE class 23) is
// ALREADY_EXISTS, as on SQLite; a lost connection is UNAVAILABLE and is re-established before
// the next statement outside a transaction.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/store.h"

namespace wsgate::agent {

// Connects to the libpq URI `uri` (connect_timeout 5 s unless the URI sets one). A malformed URI
// is INVALID_ARGUMENT, a server that cannot be reached UNAVAILABLE; both name the URI without its
// password.
absl::StatusOr<std::unique_ptr<StoreBackend>> OpenPostgres(const std::string& uri);

// `sql` with SQLite's placeholders (`?` numbered after the largest so far, `?N`) as `$N`, outside
// string literals and quoted names.
std::string PostgresPlaceholders(std::string_view sql);

// The URI with any password replaced by "***", for messages.
std::string RedactedUri(const std::string& uri);

}  // namespace wsgate::agent
