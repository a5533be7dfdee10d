// File: engine/server/stats.cc
#include "engine/server/stats.h"

namespace wsgate::engine::server {

void LatencyHistogram::ObserveMs(int64_t ms) {
  if (ms < 0) ms = 0;
  double s = static_cast<double>(ms) / 1000.0;
  int i = 0;
  while (i < kBuckets && s > kUpperBoundsS[i]) ++i;
  ++counts[i];
  sum_ms += static_cast<uint64_t>(ms);
  ++count;
}

void LatencyHistogram::Add(const LatencyHistogram& o) {
  for (int i = 0; i <= kBuckets; ++i) counts[i] += o.counts[i];
  sum_ms += o.sum_ms;
  count += o.count;
}

ShardStats ShardStats::Clone() const {
  ShardStats s;
#define WSGATE_COPY(name, help) s.name = name;
  WSGATE_SHARD_COUNTERS(WSGATE_COPY)
#undef WSGATE_COPY
  s.client_to_backend = client_to_backend;  // zero in a live shard: the sum over the APIs below
  s.backend_to_client = backend_to_client;
  for (const auto& [id, c] : apis) {
    s.client_to_backend.Add(c->client_to_backend);
    s.backend_to_client.Add(c->backend_to_client);
  }
  s.handshake_failures = handshake_failures;
  s.closes = closes;
  s.handshake_latency = handshake_latency;
  s.connect_latency = connect_latency;
  s.backend_failures = backend_failures;
  s.closes_by_side = closes_by_side;
  for (const auto& [id, c] : apis) s.apis[id] = std::make_unique<ApiCounters>(*c);
  return s;
}

void ShardStats::Merge(const ShardStats& o) {
#define WSGATE_ADD(name, help) name += o.name;
  WSGATE_SHARD_COUNTERS(WSGATE_ADD)
#undef WSGATE_ADD
  client_to_backend.Add(o.client_to_backend);
  backend_to_client.Add(o.backend_to_client);
  for (const auto& [k, v] : o.handshake_failures) handshake_failures[k] += v;
  for (const auto& [k, v] : o.closes) closes[k] += v;
  for (const auto& [id, c] : o.apis) {
    auto& mine = apis[id];
    if (!mine) mine = std::make_unique<ApiCounters>(c->name, c->version);
    mine->active += c->active;
    mine->total += c->total;
    mine->client_to_backend.Add(c->client_to_backend);
    mine->backend_to_client.Add(c->backend_to_client);
    mine->refused_upgrades += c->refused_upgrades;
    mine->error_closes += c->error_closes;
    if (mine->environment.empty()) mine->environment = c->environment;
    for (const auto& [k, v] : c->active_by_topic) mine->active_by_topic[k] += v;
    for (const auto& [k, v] : c->throttled_by_app) mine->throttled_by_app[k] += v;
  }
  handshake_latency.Add(o.handshake_latency);
  connect_latency.Add(o.connect_latency);
  for (const auto& [k, v] : o.backend_failures) backend_failures[k] += v;
  for (const auto& [k, v] : o.closes_by_side) closes_by_side[k] += v;
}

}  // namespace wsgate::engine::server
