// File: agent/sqlite.cc — the SQLite StoreBackend.
#include "agent/sqlite.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"

namespace wsgate::agent {
namespace {

class SqliteStatement : public StatementBackend {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt_); }

  void BindText(int index, std::string_view text) override {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void BindInt(int index, int64_t value) override { sqlite3_bind_int64(stmt_, index, value); }
  void BindBlob(int index, std::string_view bytes) override {
    sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }

  absl::StatusOr<bool> Step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_CONSTRAINT) return absl::AlreadyExistsError(absl::StrCat("constraint violated: ", sqlite3_errmsg(db_)));
    return absl::InternalError(absl::StrCat("sqlite step (", sql_, "): ", sqlite3_errmsg(db_)));
  }

  std::string Text(int column) const override {
    const void* p = sqlite3_column_blob(stmt_, column);
    int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<size_t>(n));
  }
  int64_t Int(int column) const override { return sqlite3_column_int64(stmt_, column); }
  int changes() const override { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
};

class SqliteStore : public StoreBackend {
 public:
  ~SqliteStore() override {
    if (db_ != nullptr) sqlite3_close(db_);
  }

  absl::Status Open(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK)
      return absl::UnavailableError(absl::StrCat("cannot open the catalog ", path, ": ", LastError()));
    sqlite3_busy_timeout(db_, 5000);
    // WAL + synchronous=FULL: an acknowledged change is on disk, so it survives kill -9.
    return Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  }

  Dialect dialect() const override { return Dialect::kSqlite; }
  const char* BeginSql() const override { return "BEGIN IMMEDIATE"; }
  const char* BeginReadSql() const override { return "BEGIN DEFERRED"; }

  absl::Status Exec(std::string_view sql) override {
    char* error = nullptr;
    std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      absl::Status s = absl::InternalError(absl::StrCat("sqlite: ", error ? error : "unknown error"));
      sqlite3_free(error);
      return s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<StatementBackend>> Prepare(std::string_view sql) override {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK)
      return absl::InternalError(absl::StrCat("sqlite prepare (", std::string(sql), "): ", LastError()));
    return std::make_unique<SqliteStatement>(db_, stmt, std::string(sql));
  }

 private:
  std::string LastError() const { return db_ ? sqlite3_errmsg(db_) : "not open"; }
  sqlite3* db_ = nullptr;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StoreBackend>> OpenSqlite(const std::string& path) {
  auto store = std::make_unique<SqliteStore>();
  if (absl::Status s = store->Open(path); !s.ok()) return s;
  return std::unique_ptr<StoreBackend>(std::move(store));
}

}  // namespace wsgate::agent
