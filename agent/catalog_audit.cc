// File: agent/catalog_audit.cc — the catalog's audit log table (schema v5): what was changed
// through the Admin API, by whom, with what outcome. Bounded: every insert deletes what is past
// the newest audit_max_rows or older than audit_max_age_s, so the table never grows without
// limit (100000 rows or 90 days by default).
#include "absl/strings/str_cat.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {

absl::Status Catalog::RecordAudit(const v1::AuditEntry& e) {
  std::lock_guard lock(mu_);
  int64_t time_ms = e.time_unix_ms() != 0 ? e.time_unix_ms() : catalog_internal::NowMs();
  Transaction tx(db_);  // the entry and the trimming together
  WSGATE_RETURN_IF_ERROR(tx.Begin());
  WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO audit_log(time_ms, caller, method, object_kind, object, code, message) "
                                     "VALUES(?, ?, ?, ?, ?, ?, ?)")
                             .Bind(1, time_ms)
                             .Bind(2, e.caller())
                             .Bind(3, e.method())
                             .Bind(4, e.object_kind())
                             .Bind(5, e.object())
                             .Bind(6, e.code())
                             .Bind(7, e.message())
                             .Run());
  WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM audit_log WHERE seq <= (SELECT MAX(seq) FROM audit_log) - ?")
                             .Bind(1, options_.audit_max_rows)
                             .Run());
  WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM audit_log WHERE time_ms < ?")
                             .Bind(1, catalog_internal::NowMs() - options_.audit_max_age_s * 1000)
                             .Run());
  return tx.Commit();
}

absl::StatusOr<std::vector<v1::AuditEntry>> Catalog::ListAudit(int64_t since_unix_ms, uint32_t limit) {
  if (limit == 0) limit = 100;
  if (limit > 10000) return Invalid("limit", absl::StrCat(limit, " is over the maximum of 10000"));
  std::lock_guard lock(mu_);
  Statement st = db_.Prepare(
      "SELECT seq, time_ms, caller, method, object_kind, object, code, message FROM audit_log "
      "WHERE time_ms >= ? ORDER BY seq DESC LIMIT ?");
  st.Bind(1, since_unix_ms).Bind(2, static_cast<int64_t>(limit));
  std::vector<v1::AuditEntry> out;
  while (st.Next()) {
    v1::AuditEntry e;
    e.set_seq(static_cast<uint64_t>(st.Int(0)));
    e.set_time_unix_ms(st.Int(1));
    e.set_caller(st.Text(2));
    e.set_method(st.Text(3));
    e.set_object_kind(st.Text(4));
    e.set_object(st.Text(5));
    e.set_code(st.Text(6));
    e.set_message(st.Text(7));
    out.push_back(std::move(e));
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

}  // namespace wsgate::agent
