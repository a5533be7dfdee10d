// File: engine/admin/admin_routes.h
//
// What the engine's admin listener answers (docs/operations.md):
//   GET /metrics      Prometheus text 0.0.4 (metrics.h)
//   GET /healthz      200 "ok" while the process runs
//   GET /readyz       200 "ready", or 503 with the reason (no config yet, not listening, draining)
//   GET /config_dump  the applied snapshot as JSON, secrets removed (config_dump.h)
// Anything else: 404 with the list above. Runs on the admin thread; collecting the counters
// posts to every shard's mailbox and waits for the copies.
#pragma once

#include "engine/admin/admin_server.h"
#include "engine/server/server.h"

namespace wsgate::engine::admin {

AdminServer::Handler EngineAdminHandler(server::Server& server);

}  // namespace wsgate::engine::admin
