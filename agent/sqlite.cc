// File: agent/sqlite.cc
#include "agent/sqlite.h"

#include "absl/strings/str_cat.h"

namespace wsgate::agent {
Statement::Statement(Db& db, std::string_view sql) : db_(&db), sql_(sql) {
  if (sqlite3_prepare_v2(db.handle(), sql_.c_str(), static_cast<int>(sql_.size()), &stmt_, nullptr) != SQLITE_OK)
    status_ = absl::InternalError(absl::StrCat("sqlite prepare (", sql_, "): ", db.LastError()));
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), status_(std::move(other.status_)), sql_(std::move(other.sql_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::Bind(int index, std::string_view text) {
  if (stmt_ != nullptr) sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  if (stmt_ != nullptr) sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  if (stmt_ != nullptr) sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

bool Statement::Next() {
  if (stmt_ == nullptr) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = absl::InternalError(absl::StrCat("sqlite step (", sql_, "): ", db_->LastError()));
  return false;
}

absl::Status Statement::Run() {
  if (!status_.ok()) return status_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
  if (rc == SQLITE_CONSTRAINT)
    return absl::AlreadyExistsError(absl::StrCat("constraint violated: ", db_->LastError()));
  return absl::InternalError(absl::StrCat("sqlite step (", sql_, "): ", db_->LastError()));
}

std::string Statement::Text(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

int Statement::changes() const { return sqlite3_changes(db_->handle()); }

Db::~Db() {
  if (db_ != nullptr) sqlite3_close(db_);
}

absl::Status Db::Open(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK)
    return absl::UnavailableError(absl::StrCat("cannot open the catalog ", path, ": ", LastError()));
  sqlite3_busy_timeout(db_, 5000);
  // WAL + synchronous=FULL: an acknowledged change is on disk, so it survives kill -9.
  if (absl::Status s = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"); !s.ok())
    return s;
  return absl::OkStatus();
}

absl::Status Db::Exec(std::string_view sql) {
  char* error = nullptr;
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status s = absl::InternalError(absl::StrCat("sqlite: ", error ? error : "unknown error"));
    sqlite3_free(error);
    return s;
  }
  return absl::OkStatus();
}

std::string Db::LastError() const { return db_ ? sqlite3_errmsg(db_) : "not open"; }

Transaction::~Transaction() {
  if (!open_) return;
  if (depth_ == 0) {
    (void)db_.Exec("ROLLBACK");
  } else {
    (void)db_.Exec(absl::StrCat("ROLLBACK TO tx", depth_, "; RELEASE tx", depth_));
  }
  --db_.tx_depth_;
}

absl::Status Transaction::Begin() {
  depth_ = db_.tx_depth_;
  absl::Status s = db_.Exec(depth_ == 0 ? std::string("BEGIN IMMEDIATE") : absl::StrCat("SAVEPOINT tx", depth_));
  open_ = s.ok();
  if (open_) ++db_.tx_depth_;
  return s;
}

absl::Status Transaction::Commit() {
  absl::Status s = db_.Exec(depth_ == 0 ? std::string("COMMIT") : absl::StrCat("RELEASE tx", depth_));
  if (s.ok()) {
    open_ = false;
    --db_.tx_depth_;
  }
  return s;
}

}  // namespace wsgate::agent
