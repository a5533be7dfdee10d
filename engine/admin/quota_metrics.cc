// File: engine/admin/quota_metrics.cc
//
// The cluster-wide quota families of /metrics (issue 19): whether the engine is in fallback and
// which mode decides, store errors, leases taken and the events in them, refusals by
// fail-closed. Only with --quota-store redis:// (or unix://).
#include "engine/admin/exposition.h"
#include "engine/admin/metrics.h"

namespace wsgate::engine::admin {

void RenderQuotaMetrics(Exposition& out, const throttle::ClusterQuota& quota) {
  const throttle::QuotaMode mode = quota.mode();
  const auto& st = quota.stats();
  out.Family("wsgate_engine_quota_fallback", "gauge",
             "1 while the quota store is unreachable and the engine counts by --quota-fallback.");
  out.Sample("wsgate_engine_quota_fallback", {}, mode == throttle::QuotaMode::kCluster ? 0 : 1);
  out.Family("wsgate_engine_quota_mode", "gauge", "1 for the mode deciding event quotas now (cluster, fail-local, fail-open, fail-closed).");
  for (throttle::QuotaMode m : {throttle::QuotaMode::kCluster, throttle::QuotaMode::kLocal, throttle::QuotaMode::kOpen,
                                throttle::QuotaMode::kClosed})
    out.Sample("wsgate_engine_quota_mode", {{"mode", throttle::QuotaModeName(m)}}, m == mode ? 1 : 0);
  out.Family("wsgate_engine_quota_engines", "gauge", "Engines sharing the quota store (--quota-engines).");
  out.Sample("wsgate_engine_quota_engines", {}, quota.params().engines);
  auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v) {
    out.Family(name, "counter", help);
    out.Sample(name, {}, static_cast<double>(v.load(std::memory_order_relaxed)));
  };
  counter("wsgate_engine_quota_store_errors_total", "Quota store calls that failed (connect, timeout, reply).",
          st.store_errors);
  counter("wsgate_engine_quota_fallbacks_total", "Times the engine lost the quota store and fell back.", st.fallbacks);
  counter("wsgate_engine_quota_leases_total", "Leases of events taken from the quota store.", st.leases);
  counter("wsgate_engine_quota_leased_events_total", "Events granted in those leases.", st.leased_events);
  counter("wsgate_engine_quota_fallback_refused_total", "Events refused because the store was down (fail-closed).",
          st.fallback_refusals);
}

}  // namespace wsgate::engine::admin
