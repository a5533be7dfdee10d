// File: agent/sqlite.h
//
// A thin RAII layer over SQLite for the agent's catalog: a connection opened in WAL mode with
// foreign keys on, prepared statements with typed binds and columns, and transactions that roll
// back unless committed. Errors come back as absl::Status naming the statement.
//
//   Db db;  WSGATE_RETURN_IF_ERROR(db.Open(path));
//   Transaction tx(db);  WSGATE_RETURN_IF_ERROR(tx.Begin());
//   Statement st = db.Prepare("INSERT INTO apps(id, name) VALUES(?, ?)");
//   st.Bind(1, id).Bind(2, name);  WSGATE_RETURN_IF_ERROR(st.Run());
//   WSGATE_RETURN_IF_ERROR(tx.Commit());
//
// Not thread-safe: the Catalog serializes access with its mutex.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace wsgate::agent {

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
  Db* db_;
  sqlite3_stmt* stmt_ = nullptr;
  absl::Status status_;
  std::string sql_;
};

class Db {
 public:
  Db() = default;
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  absl::Status Open(const std::string& path);
  absl::Status Exec(std::string_view sql);
  Statement Prepare(std::string_view sql) { return Statement(*this, sql); }
  sqlite3* handle() { return db_; }
  std::string LastError() const;

 private:
  sqlite3* db_ = nullptr;
  friend class Transaction;
  int tx_depth_ = 0;  // open Transactions; inner ones are SAVEPOINTs
};

// BEGIN IMMEDIATE on Begin(); ROLLBACK in the destructor unless Commit() succeeded. A Transaction
// begun while another is open on the same Db nests as SAVEPOINT/RELEASE (ROLLBACK TO on failure),
// so a step that fails inside a larger transaction undoes only itself until the outer one decides.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction();
  absl::Status Begin();
  absl::Status Commit();

 private:
  Db& db_;
  bool open_ = false;
  int depth_ = 0;  // 0: the outermost (BEGIN/COMMIT); n > 0: SAVEPOINT tx<n>
};

}  // namespace wsgate::agent
