// File: engine/server/stats.cc
#include "engine/server/stats.h"

namespace wsgate::engine::server {

ShardStats ShardStats::Clone() const {
  ShardStats s;
  s.active_connections = active_connections;
  s.open_sockets = open_sockets;
  s.total_connections = total_connections;
  s.accepted = accepted;
  s.buffers_in_use = buffers_in_use;
  s.buffer_bytes_in_use = buffer_bytes_in_use;
  s.client_to_backend = client_to_backend;
  s.backend_to_client = backend_to_client;
  s.handshake_failures = handshake_failures;
  s.closes = closes;
  for (const auto& [id, c] : apis) s.apis[id] = std::make_unique<ApiCounters>(*c);
  return s;
}

void ShardStats::Merge(const ShardStats& o) {
  active_connections += o.active_connections;
  open_sockets += o.open_sockets;
  total_connections += o.total_connections;
  accepted += o.accepted;
  buffers_in_use += o.buffers_in_use;
  buffer_bytes_in_use += o.buffer_bytes_in_use;
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
