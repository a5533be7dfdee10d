// File: agent/store.cc — the backend-neutral Db, Statement and Transaction over a StoreBackend
// (agent/sqlite.cc, agent/postgres.cc).
#include "agent/store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/postgres.h"
#include "agent/sqlite.h"

namespace wsgate::agent {

absl::StatusOr<StoreTarget> ParseStoreTarget(const std::string& target) {
  StoreTarget t;
  if (absl::StartsWith(target, "postgres://") || absl::StartsWith(target, "postgresql://")) {
    t.dialect = Dialect::kPostgres;
    t.location = target;
  } else if (absl::StartsWith(target, "sqlite:")) {
    t.location = target.substr(7);
    if (absl::StartsWith(t.location, "//")) t.location = t.location.substr(2);  // sqlite:///abs/path
  } else if (target.find("://") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", target, "' is neither sqlite:PATH nor postgres://USER@HOST:PORT/DB"));
  } else {
    t.location = target;
  }
  if (t.location.empty())
    return absl::InvalidArgumentError(absl::StrCat("'", target, "' names no file (sqlite:PATH)"));
  return t;
}

Statement::Statement(Db& db, std::string_view sql) {
  if (db.backend_ == nullptr) {
    status_ = absl::FailedPreconditionError("the catalog is not open");
    return;
  }
  absl::StatusOr<std::unique_ptr<StatementBackend>> st = db.backend_->Prepare(sql);
  if (st.ok()) {
    impl_ = *std::move(st);
  } else {
    status_ = st.status();
  }
}

Statement::~Statement() = default;
Statement::Statement(Statement&& other) noexcept = default;

Statement& Statement::Bind(int index, std::string_view text) {
  if (impl_) impl_->BindText(index, text);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  if (impl_) impl_->BindInt(index, value);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  if (impl_) impl_->BindBlob(index, bytes);
  return *this;
}

bool Statement::Next() {
  if (!impl_ || !status_.ok()) return false;
  absl::StatusOr<bool> row = impl_->Step();
  if (!row.ok()) {
    status_ = row.status();
    return false;
  }
  return *row;
}

absl::Status Statement::Run() {
  if (!status_.ok()) return status_;
  absl::StatusOr<bool> row = impl_->Step();
  return row.ok() ? absl::OkStatus() : row.status();
}

std::string Statement::Text(int column) const { return impl_ ? impl_->Text(column) : std::string(); }
int64_t Statement::Int(int column) const { return impl_ ? impl_->Int(column) : 0; }
int Statement::changes() const { return impl_ ? impl_->changes() : 0; }

Db::Db() = default;
Db::~Db() = default;

absl::Status Db::Open(const std::string& target) {
  absl::StatusOr<StoreTarget> t = ParseStoreTarget(target);
  if (!t.ok()) return t.status();
  absl::StatusOr<std::unique_ptr<StoreBackend>> backend =
      t->dialect == Dialect::kPostgres ? OpenPostgres(t->location) : OpenSqlite(t->location);
  if (!backend.ok()) return backend.status();
  backend_ = *std::move(backend);
  return absl::OkStatus();
}

absl::Status Db::Exec(std::string_view sql) {
  if (backend_ == nullptr) return absl::FailedPreconditionError("the catalog is not open");
  return backend_->Exec(sql);
}

absl::Status Db::Notify(const std::string& channel, const std::string& payload) {
  return backend_ ? backend_->Notify(channel, payload) : absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StoreWatcher>> Db::Watch(const std::string& channel, std::function<void()> on_change,
                                                        int fallback_ms) {
  if (backend_ == nullptr) return absl::FailedPreconditionError("the catalog is not open");
  return backend_->Watch(channel, std::move(on_change), fallback_ms);
}

Dialect Db::dialect() const { return backend_ ? backend_->dialect() : Dialect::kSqlite; }

Transaction::~Transaction() {
  if (!open_) return;
  if (depth_ == 0) {
    (void)db_.Exec("ROLLBACK");
  } else {
    (void)db_.Exec(absl::StrCat("ROLLBACK TO tx", depth_, "; RELEASE tx", depth_));
  }
  --db_.tx_depth_;
}

absl::Status Transaction::Begin() { return Open(false); }
absl::Status Transaction::BeginRead() { return Open(true); }

absl::Status Transaction::Open(bool read_only) {
  if (db_.backend_ == nullptr) return absl::FailedPreconditionError("the catalog is not open");
  depth_ = db_.tx_depth_;
  const char* begin = read_only ? db_.backend_->BeginReadSql() : db_.backend_->BeginSql();
  absl::Status s = db_.Exec(depth_ == 0 ? std::string(begin) : absl::StrCat("SAVEPOINT tx", depth_));
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
