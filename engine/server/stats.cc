// File: engine/server/stats.cc
#include "engine/server/stats.h"

namespace wsgate::engine::server {

ShardStats ShardStats::Clone() const {
  ShardStats s;
#define WSGATE_COPY(name, help) s.name = name;
  WSGATE_SHARD_COUNTERS(WSGATE_COPY)
#undef WSGATE_COPY
  s.client_to_backend = client_to_backend;
  s.backend_to_client = backend_to_client;
  s.handshake_failures = handshake_failures;
  s.closes = closes;
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
  }
}

}  // namespace wsgate::engine::server
