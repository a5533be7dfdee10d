// File: agent/store.h
//
// The catalog's storage, backend-neutral: a Db is a connection to SQLite (agent/sqlite.cc, the
// embedded default) or PostgreSQL (agent/postgres.cc, libpq), chosen by the target Open() is
// given; statements with `?` / `?N` binds and typed columns; transactions that roll back unless
// committed. Errors come back as absl::Status naming the statement; a constraint violation is
// ALREADY_EXISTS on both backends.
//
//   Db db;  WSGATE_RETURN_IF_ERROR(db.Open("sqlite:/var/lib/wsgate/catalog.db"));
//   Transaction tx(db);  WSGATE_RETURN_IF_ERROR(tx.Begin());
//   Statement st = db.Prepare("INSERT INTO apps(id, name) VALUES(?, ?)");
//   st.Bind(1, id).Bind(2, name);  WSGATE_RETURN_IF_ERROR(st.Run());
//   WSGATE_RETURN_IF_ERROR(tx.Commit());
//
// The SQL the catalog writes is the subset both backends accept (upserts as ON CONFLICT, BIGINT
// where a value may pass 2^31); where they cannot agree (the schema's types, the schema version)
// the two variants live in agent/schema_sqlite.cc and agent/schema_postgres.cc.
// Not thread-safe: the Catalog serializes access with its mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wsgate::agent {

enum class Dialect { kSqlite, kPostgres };

// What a backend implements for one statement: binds before the first Step(), then rows.
class StatementBackend {
 public:
  virtual ~StatementBackend() = default;
  virtual void BindText(int index, std::string_view text) = 0;
  virtual void BindInt(int index, int64_t value) = 0;
  virtual void BindBlob(int index, std::string_view bytes) = 0;
  // True while a row is available, false at the end.
  virtual absl::StatusOr<bool> Step() = 0;
  virtual std::string Text(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual int changes() const = 0;
};

// Watches a store for changes other processes commit (see StoreBackend::Watch); stops when destroyed.
class StoreWatcher {
 public:
  virtual ~StoreWatcher() = default;
};

// What a backend implements for a connection.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual Dialect dialect() const = 0;
  // One or more statements without binds or rows (schema, transaction control).
  virtual absl::Status Exec(std::string_view sql) = 0;
  virtual absl::StatusOr<std::unique_ptr<StatementBackend>> Prepare(std::string_view sql) = 0;
  // The statement that opens an outermost transaction.
  virtual const char* BeginSql() const = 0;
  // The statement that opens an outermost read-only transaction whose reads all see one snapshot
  // of the catalog (PostgreSQL: REPEATABLE READ; SQLite: a deferred transaction, which in WAL mode
  // reads one snapshot), so a Snapshot built from many SELECTs is one version's.
  virtual const char* BeginReadSql() const = 0;
  // Tells every watcher of `channel`, when the current transaction commits (PostgreSQL: NOTIFY).
  // SQLite has no other writer (one agent per data directory): nothing to tell.
  virtual absl::Status Notify(const std::string& channel, const std::string& payload) { return absl::OkStatus(); }
  // Calls `on_change` from its own thread after each notification on `channel`, and at least every
  // `fallback_ms` (a periodic check in case one is missed: a lost connection). Null where no other
  // process writes (SQLite).
  virtual absl::StatusOr<std::unique_ptr<StoreWatcher>> Watch(const std::string& channel,
                                                              std::function<void()> on_change, int fallback_ms) {
    return std::unique_ptr<StoreWatcher>();
  }
};

class Db;

class Statement {
 public:
  Statement(Db& db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& BindBlob(int index, std::string_view bytes);

  // Steps once. Returns true while a row is available; false at the end or on error (see status()).
  bool Next();
  // Runs a statement that returns no rows.
  absl::Status Run();
  absl::Status status() const { return status_; }

  std::string Text(int column) const;
  int64_t Int(int column) const;
  // Rows changed by the last Run().
  int changes() const;

 private:
  std::unique_ptr<StatementBackend> impl_;
  absl::Status status_;
};

class Db {
 public:
  Db();
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // `target`: "sqlite:PATH", "postgres://…" / "postgresql://…" (a libpq connection URI), or a
  // plain path (SQLite). Anything else with "://" is INVALID_ARGUMENT.
  absl::Status Open(const std::string& target);
  absl::Status Exec(std::string_view sql);
  Statement Prepare(std::string_view sql) { return Statement(*this, sql); }
  Dialect dialect() const;
  absl::Status Notify(const std::string& channel, const std::string& payload);
  absl::StatusOr<std::unique_ptr<StoreWatcher>> Watch(const std::string& channel, std::function<void()> on_change,
                                                      int fallback_ms);

 private:
  friend class Statement;
  friend class Transaction;
  std::unique_ptr<StoreBackend> backend_;
  int tx_depth_ = 0;  // open Transactions; inner ones are SAVEPOINTs
};

// BEGIN on Begin() (BEGIN IMMEDIATE on SQLite); ROLLBACK in the destructor unless Commit()
// succeeded. A Transaction begun while another is open on the same Db nests as SAVEPOINT/RELEASE
// (ROLLBACK TO on failure), so a step that fails inside a larger transaction undoes only itself
// until the outer one decides.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction();
  absl::Status Begin();
  // A read-only transaction on one snapshot (BeginReadSql); nested, an ordinary SAVEPOINT.
  absl::Status BeginRead();
  absl::Status Commit();

 private:
  absl::Status Open(bool read_only);
  Db& db_;
  bool open_ = false;
  int depth_ = 0;  // 0: the outermost (BEGIN/COMMIT); n > 0: SAVEPOINT tx<n>
};

// Where a catalog target points, for messages and for picking the backend.
struct StoreTarget {
  Dialect dialect = Dialect::kSqlite;
  std::string location;  // the SQLite path, or the PostgreSQL URI as given
};
// Parses a target as Db::Open() takes it; INVALID_ARGUMENT says which forms are accepted.
absl::StatusOr<StoreTarget> ParseStoreTarget(const std::string& target);

}  // namespace wsgate::agent
