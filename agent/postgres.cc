// File: agent/postgres.cc — the PostgreSQL StoreBackend over libpq.
#include "agent/postgres.h"

#include <libpq-fe.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace wsgate::agent {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::string Trimmed(const char* message) {
  return std::string(absl::StripTrailingAsciiWhitespace(message == nullptr ? "" : message));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

// bytea in the text result format (bytea_output = hex): "\x" then two hex digits a byte.
std::string DecodeBytea(const char* p, int n) {
  if (n < 2 || p[0] != '\\' || p[1] != 'x') return std::string(p, static_cast<size_t>(n));
  std::string out;
  out.reserve(static_cast<size_t>(n - 2) / 2);
  for (int i = 2; i + 1 < n; i += 2) out.push_back(static_cast<char>(HexValue(p[i]) << 4 | HexValue(p[i + 1])));
  return out;
}

class PostgresStore;

// Connects with the agent's defaults: connect_timeout 5 s unless the URI sets one (the URI's own
// value, expanded from dbname after it, overrides it).
PGconn* ConnectPg(const std::string& uri) {
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"5", uri.c_str(), nullptr};
  return PQconnectdbParams(keys, values, /*expand_dbname=*/1);
}

// LISTEN on its own connection, in its own thread: `on_change` after each notification, after a
// reconnection (notifications sent meanwhile are lost) and every `fallback_ms` regardless.
class PostgresWatcher : public StoreWatcher {
 public:
  PostgresWatcher(std::string uri, std::string channel, std::function<void()> on_change, int fallback_ms)
      : uri_(std::move(uri)), channel_(std::move(channel)), on_change_(std::move(on_change)), fallback_ms_(fallback_ms) {}
  ~PostgresWatcher() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (conn_ != nullptr) PQfinish(conn_);
  }

  absl::Status Start() {
    if (!Listen())
      return absl::UnavailableError(absl::StrCat("LISTEN ", channel_, " on ", RedactedUri(uri_), ": ",
                                                 Trimmed(PQerrorMessage(conn_))));
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

 private:
  bool Listen() {
    if (conn_ == nullptr)
      conn_ = ConnectPg(uri_);
    else
      PQreset(conn_);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return false;
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    char* name = PQescapeIdentifier(conn_, channel_.c_str(), channel_.size());
    if (name == nullptr) return false;
    Result r(PQexec(conn_, absl::StrCat("LISTEN ", name).c_str()));
    PQfreemem(name);
    return PQresultStatus(r.get()) == PGRES_COMMAND_OK;
  }

  void Run() {
    auto last = std::chrono::steady_clock::now();
    while (!stop_) {
      bool changed = false;
      if (PQstatus(conn_) != CONNECTION_OK) {
        if (Listen()) {
          changed = true;  // whatever was notified while it was down
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      } else {
        pollfd p{PQsocket(conn_), POLLIN, 0};
        if (::poll(&p, 1, 100) > 0 && PQconsumeInput(conn_) == 1) {
          while (PGnotify* n = PQnotifies(conn_)) {
            changed = true;
            PQfreemem(n);
          }
        }
      }
      auto now = std::chrono::steady_clock::now();
      if (now - last >= std::chrono::milliseconds(fallback_ms_)) changed = true;
      if (changed && !stop_) {
        last = now;
        on_change_();
      }
    }
  }

  std::string uri_, channel_;
  std::function<void()> on_change_;
  int fallback_ms_;
  PGconn* conn_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class PostgresStatement : public StatementBackend {
 public:
  PostgresStatement(PostgresStore& store, std::string sql) : store_(store), sql_(std::move(sql)) {}

  void BindText(int index, std::string_view text) override { Set(index, std::string(text), kTextOid, 0); }
  void BindInt(int index, int64_t value) override { Set(index, absl::StrCat(value), kInt8Oid, 0); }
  void BindBlob(int index, std::string_view bytes) override { Set(index, std::string(bytes), kByteaOid, 1); }

  absl::StatusOr<bool> Step() override;

  std::string Text(int column) const override {
    if (!HasValue(column)) return std::string();
    const char* p = PQgetvalue(result_.get(), row_, column);
    int n = PQgetlength(result_.get(), row_, column);
    if (PQftype(result_.get(), column) == kByteaOid) return DecodeBytea(p, n);
    return std::string(p, static_cast<size_t>(n));
  }
  int64_t Int(int column) const override {
    if (!HasValue(column)) return 0;
    const char* p = PQgetvalue(result_.get(), row_, column);
    if (PQftype(result_.get(), column) == kBoolOid) return p[0] == 't' ? 1 : 0;
    return std::strtoll(p, nullptr, 10);
  }
  int changes() const override { return result_ ? std::atoi(PQcmdTuples(result_.get())) : 0; }

 private:
  void Set(int index, std::string value, Oid type, int format) {
    if (index < 1) return;
    size_t i = static_cast<size_t>(index - 1);
    if (values_.size() <= i) {
      values_.resize(i + 1);
      types_.resize(i + 1, kTextOid);  // one the SQL does not use still needs a type
      formats_.resize(i + 1, 0);
      bound_.resize(i + 1, false);
    }
    values_[i] = std::move(value);
    types_[i] = type;
    formats_[i] = format;
    bound_[i] = true;
  }
  bool HasValue(int column) const {
    return result_ && row_ >= 0 && row_ < PQntuples(result_.get()) && column < PQnfields(result_.get()) &&
           !PQgetisnull(result_.get(), row_, column);
  }

  PostgresStore& store_;
  std::string sql_;
  std::vector<std::string> values_;
  std::vector<Oid> types_;
  std::vector<int> formats_;
  std::vector<bool> bound_;
  Result result_;
  int row_ = -1;
};

class PostgresStore : public StoreBackend {
 public:
  ~PostgresStore() override {
    if (conn_ != nullptr) PQfinish(conn_);
  }

  absl::Status Connect(const std::string& uri) {
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(uri.c_str(), &parse_error);
    if (options == nullptr) {
      std::string why = parse_error != nullptr ? Trimmed(parse_error) : "out of memory";
      PQfreemem(parse_error);
      return absl::InvalidArgumentError(absl::StrCat("'", RedactedUri(uri), "' is not a PostgreSQL URI: ", why));
    }
    PQconninfoFree(options);
    uri_ = uri;
    name_ = RedactedUri(uri);
    conn_ = ConnectPg(uri);
    if (conn_ == nullptr) return absl::ResourceExhaustedError("libpq: out of memory");
    return Setup();
  }

  Dialect dialect() const override { return Dialect::kPostgres; }
  const char* BeginSql() const override { return "BEGIN"; }
  const char* BeginReadSql() const override { return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"; }

  absl::Status Exec(std::string_view sql) override {
    const bool begin = sql == BeginSql() || sql == BeginReadSql();
    const bool end = sql == "COMMIT" || sql == "ROLLBACK";
    if (end && !in_tx_) return absl::OkStatus();
    if (absl::Status s = Usable(); !s.ok()) {
      if (end) in_tx_ = false;
      return s;
    }
    // PostgreSQL answers COMMIT in a failed transaction with ROLLBACK and no error: refuse it here,
    // so the caller knows nothing was kept (its Transaction then rolls back).
    if (sql == "COMMIT" && PQtransactionStatus(conn_) == PQTRANS_INERROR)
      return absl::AbortedError("a statement failed inside the transaction, so nothing was committed");
    Result r(PQexec(conn_, std::string(sql).c_str()));
    ExecStatusType st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      absl::Status s = Error(r.get(), sql);
      if (end) in_tx_ = false;
      return s;
    }
    if (begin) in_tx_ = true;
    if (end) in_tx_ = false;
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<StatementBackend>> Prepare(std::string_view sql) override {
    return std::make_unique<PostgresStatement>(*this, PostgresPlaceholders(sql));
  }

  absl::Status Notify(const std::string& channel, const std::string& payload) override {
    PostgresStatement st(*this, "SELECT pg_notify($1, $2)");
    st.BindText(1, channel);
    st.BindText(2, payload);
    return st.Step().status();
  }

  absl::StatusOr<std::unique_ptr<StoreWatcher>> Watch(const std::string& channel, std::function<void()> on_change,
                                                      int fallback_ms) override {
    auto w = std::make_unique<PostgresWatcher>(uri_, channel, std::move(on_change), fallback_ms);
    if (absl::Status s = w->Start(); !s.ok()) return s;
    return std::unique_ptr<StoreWatcher>(std::move(w));
  }

  // Reconnects a lost connection when no transaction depends on it.
  absl::Status Usable() {
    if (PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
    if (in_tx_)
      return absl::UnavailableError(absl::StrCat("the connection to the PostgreSQL catalog ", name_,
                                                 " was lost inside a transaction: ", Trimmed(PQerrorMessage(conn_))));
    PQreset(conn_);
    return Setup();
  }

  absl::Status Error(PGresult* r, std::string_view sql) const {
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string message = Trimmed(r != nullptr && *PQresultErrorMessage(r) != '\0' ? PQresultErrorMessage(r)
                                                                                      : PQerrorMessage(conn_));
    if (state != nullptr && absl::StartsWith(state, "23"))
      return absl::AlreadyExistsError(absl::StrCat("constraint violated: ", message));
    if (PQstatus(conn_) != CONNECTION_OK)
      return absl::UnavailableError(absl::StrCat("the PostgreSQL catalog ", name_, " is unreachable: ", message));
    return absl::InternalError(absl::StrCat("postgres (", std::string(sql), "): ", message));
  }

  PGconn* conn() { return conn_; }

 private:
  absl::Status Setup() {
    if (PQstatus(conn_) != CONNECTION_OK)
      return absl::UnavailableError(
          absl::StrCat("cannot connect to the PostgreSQL catalog ", name_, ": ", Trimmed(PQerrorMessage(conn_))));
    // Notices (IF NOT EXISTS skipping, ...) are not errors and go nowhere; bytea comes back as hex.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    Result r(PQexec(conn_, "SET client_min_messages = warning; SET bytea_output = hex; SET TIME ZONE 'UTC'"));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Error(r.get(), "SET");
    return absl::OkStatus();
  }

  PGconn* conn_ = nullptr;
  std::string uri_;
  std::string name_;
  bool in_tx_ = false;
};

absl::StatusOr<bool> PostgresStatement::Step() {
  if (!result_) {
    if (absl::Status s = store_.Usable(); !s.ok()) return s;
    std::vector<const char*> values(values_.size());
    std::vector<int> lengths(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) {
      values[i] = bound_[i] ? values_[i].data() : nullptr;
      lengths[i] = static_cast<int>(values_[i].size());
    }
    result_.reset(PQexecParams(store_.conn(), sql_.c_str(), static_cast<int>(values_.size()), types_.data(),
                               values.data(), lengths.data(), formats_.data(), /*resultFormat=*/0));
    ExecStatusType st = PQresultStatus(result_.get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      absl::Status s = store_.Error(result_.get(), sql_);
      result_.reset();
      return s;
    }
    row_ = -1;
  }
  ++row_;
  return row_ < PQntuples(result_.get());
}

}  // namespace

std::string PostgresPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 8);
  int largest = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: the same text
      out.push_back(c);
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
      continue;
    }
    if (c != '?') {
      out.push_back(c);
      continue;
    }
    size_t j = i + 1;
    while (j < sql.size() && absl::ascii_isdigit(sql[j])) ++j;
    int n = j > i + 1 ? std::atoi(std::string(sql.substr(i + 1, j - i - 1)).c_str()) : largest + 1;
    if (n > largest) largest = n;
    absl::StrAppend(&out, "$", n);
    i = j - 1;
  }
  return out;
}

std::string RedactedUri(const std::string& uri) {
  std::string out = uri;
  size_t scheme = out.find("://");
  size_t at = out.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  size_t pw = out.find("password=");
  if (pw != std::string::npos) {
    size_t end = out.find('&', pw);
    out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "***");
  }
  return out;
}

absl::StatusOr<std::unique_ptr<StoreBackend>> OpenPostgres(const std::string& uri) {
  auto store = std::make_unique<PostgresStore>();
  if (absl::Status s = store->Connect(uri); !s.ok()) return s;
  return std::unique_ptr<StoreBackend>(std::move(store));
}

}  // namespace wsgate::agent
