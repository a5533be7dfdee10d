// File: engine/admin/metrics.cc
#include "engine/admin/metrics.h"

#include <map>
#include <string_view>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "engine/admin/exposition.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::admin {
namespace {

using common::Sv;
using server::DirectionCounters;
using server::LatencyHistogram;
using server::ShardStats;

constexpr std::string_view kPrefix = "wsgate_engine_";
constexpr std::string_view kGauge = "gauge: ";

// Counters rendered per shard below, not in the generic list.
bool PerShard(std::string_view name) { return name == "completions" || name == "loop_busy_ns"; }

// API counters summed by their label values: two ids (revisions) of one API name and version
// are one series.
struct ApiKey {
  std::string api, version, environment;
  bool operator<(const ApiKey& o) const {
    return std::tie(api, version, environment) < std::tie(o.api, o.version, o.environment);
  }
};
struct ApiSums {
  uint64_t total = 0;
  DirectionCounters to_backend, to_client;
  std::map<std::string, uint64_t> active_by_topic, throttled_by_app;
};

Labels ApiLabels(const ApiKey& k) { return {{"api", k.api}, {"api_version", k.version}, {"environment", k.environment}}; }

void RenderHistogram(Exposition& out, std::string_view name, std::string_view help, const LatencyHistogram& h) {
  out.Family(name, "histogram", help);
  out.Histogram(name, {}, LatencyHistogram::kUpperBoundsS, h.counts, LatencyHistogram::kBuckets,
                static_cast<double>(h.sum_ms) / 1000.0);
}

}  // namespace

std::string RenderMetrics(const MetricsInput& in) {
  ShardStats total;
  for (const ShardStats& s : in.shards) total.Merge(s);
  Exposition out;

  out.Family("wsgate_engine_ready", "gauge", "1 while /readyz answers 200 (config applied, listening, not draining).");
  out.Sample("wsgate_engine_ready", {}, in.ready ? 1 : 0);
  out.Family("wsgate_engine_draining", "gauge", "1 once the engine is draining (shutting down).");
  out.Sample("wsgate_engine_draining", {}, in.draining ? 1 : 0);
  out.Family("wsgate_engine_config_version", "gauge", "Version of the applied config snapshot (0: none yet).");
  out.Sample("wsgate_engine_config_version", {}, static_cast<double>(in.config_version));
  out.Family("wsgate_engine_config_apply_duration_seconds", "gauge",
             "How long the last config push took to compile and swap on every shard.");
  out.Sample("wsgate_engine_config_apply_duration_seconds", {}, static_cast<double>(in.config_apply_duration_us) / 1e6);

  // Every scalar shard counter (WSGATE_SHARD_COUNTERS), summed over shards. Gauges keep their
  // name; running totals end in _total.
  total.ForEachCounter([&](std::string_view name, std::string_view help, uint64_t value) {
    if (PerShard(name)) return;
    bool gauge = help.substr(0, kGauge.size()) == kGauge;
    std::string full = absl::StrCat(Sv(kPrefix), Sv(name), gauge ? "" : "_total");
    out.Family(full, gauge ? "gauge" : "counter", gauge ? help.substr(kGauge.size()) : help);
    out.Sample(full, {}, static_cast<double>(value));
  });

  out.Family("wsgate_engine_loop_completions_total", "counter", "Completions (CQEs) each shard's loop handled.");
  for (size_t i = 0; i < in.shards.size(); ++i)
    out.Sample("wsgate_engine_loop_completions_total", {{"shard", absl::StrCat(i)}},
               static_cast<double>(in.shards[i].completions));
  out.Family("wsgate_engine_loop_busy_seconds_total", "counter",
             "Time each shard's loop spent handling completions and timers rather than waiting.");
  for (size_t i = 0; i < in.shards.size(); ++i)
    out.Sample("wsgate_engine_loop_busy_seconds_total", {{"shard", absl::StrCat(i)}},
               static_cast<double>(in.shards[i].loop_busy_ns) / 1e9);

  out.Family("wsgate_engine_upgrades_total", "counter",
             "Upgrade requests answered, by HTTP status (101: relayed; others: refused).");
  out.Sample("wsgate_engine_upgrades_total", {{"code", "101"}}, static_cast<double>(total.total_connections));
  for (const auto& [status, n] : total.handshake_failures)
    out.Sample("wsgate_engine_upgrades_total", {{"code", absl::StrCat(status)}}, static_cast<double>(n));

  RenderHistogram(out, "wsgate_engine_handshake_duration_seconds",
                  "From accepting a client to sending it 101 (route, auth, backend connect and handshake).",
                  total.handshake_latency);
  RenderHistogram(out, "wsgate_engine_backend_connect_duration_seconds",
                  "From starting the backend connect to the TCP connection being up.", total.connect_latency);

  out.Family("wsgate_engine_backend_failures_total", "counter",
             "Backend connections that failed before the relay, by reason (resolve, socket, connect_error, "
             "connect_timeout, handshake_refused, handshake_closed, handshake_timeout, tls).");
  for (const auto& [reason, n] : total.backend_failures)
    out.Sample("wsgate_engine_backend_failures_total", {{"reason", reason}}, static_cast<double>(n));

  out.Family("wsgate_engine_closes_total", "counter",
             "Relayed connections that ended, by the close code sent to the client and the side that closed "
             "first (client, backend, engine).");
  for (const auto& [key, n] : total.closes_by_side)
    out.Sample("wsgate_engine_closes_total", {{"code", absl::StrCat(key.first)}, {"side", key.second}},
               static_cast<double>(n));

  std::map<ApiKey, ApiSums> apis;
  for (const auto& [id, c] : total.apis) {
    ApiSums& a = apis[ApiKey{c->name, c->version, c->environment}];
    a.total += c->total;
    a.to_backend.Add(c->client_to_backend);
    a.to_client.Add(c->backend_to_client);
    for (const auto& [k, v] : c->active_by_topic) a.active_by_topic[k] += v;
    for (const auto& [k, v] : c->throttled_by_app) a.throttled_by_app[k] += v;
  }
  out.Family("wsgate_engine_connections", "gauge", "Connections relaying now, by API, topic template and environment.");
  for (const auto& [k, a] : apis) {
    for (const auto& [topic, n] : a.active_by_topic) {
      Labels l = ApiLabels(k);
      l.emplace_back("topic", topic);
      out.Sample("wsgate_engine_connections", l, static_cast<double>(n));
    }
  }
  out.Family("wsgate_engine_api_connections_total", "counter", "Upgrades relayed (101), by API.");
  for (const auto& [k, a] : apis) out.Sample("wsgate_engine_api_connections_total", ApiLabels(k), static_cast<double>(a.total));
  auto per_direction = [&](std::string_view name, std::string_view help, uint64_t DirectionCounters::*field) {
    out.Family(name, "counter", help);
    for (const auto& [k, a] : apis) {
      for (const auto& [dir, d] : {std::pair<const char*, const DirectionCounters*>{"to_backend", &a.to_backend},
                                   {"to_client", &a.to_client}}) {
        Labels l = ApiLabels(k);
        l.emplace_back("direction", dir);
        out.Sample(name, l, static_cast<double>(d->*field));
      }
    }
  };
  per_direction("wsgate_engine_frames_total", "Data frames relayed, by API and direction.", &DirectionCounters::frames);
  per_direction("wsgate_engine_payload_bytes_total", "Payload bytes of the data frames relayed, by API and direction.",
                &DirectionCounters::bytes);
  out.Family("wsgate_engine_throttled_frames_total", "counter",
             "Data frames dropped by a throttle policy, by API and application.");
  for (const auto& [k, a] : apis) {
    for (const auto& [app, n] : a.throttled_by_app) {
      Labels l = ApiLabels(k);
      l.emplace_back("application", app);
      out.Sample("wsgate_engine_throttled_frames_total", l, static_cast<double>(n));
    }
  }
  if (in.quota != nullptr) RenderQuotaMetrics(out, *in.quota);
  return out.Take();
}

}  // namespace wsgate::engine::admin
