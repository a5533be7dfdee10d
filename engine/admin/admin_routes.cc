// File: engine/admin/admin_routes.cc
#include "engine/admin/admin_routes.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/admin/config_dump.h"
#include "engine/admin/metrics.h"

namespace wsgate::engine::admin {

AdminServer::Handler EngineAdminHandler(server::Server& server) {
  return [&server](const AdminRequest& req) {
    AdminResponse r;
    if (req.path == "/metrics") {
      MetricsInput in;
      in.shards = server.CollectShardStats();
      in.config_version = server.applied_version();
      in.config_apply_duration_us = server.last_apply_duration_us();
      in.ready = server.Ready(nullptr);
      in.draining = server.draining();
      in.quota = server.cluster_quota();
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = RenderMetrics(in);
    } else if (req.path == "/healthz") {
      r.body = "ok\n";
    } else if (req.path == "/readyz") {
      std::string why;
      if (!server.Ready(&why)) r.status = 503;
      r.body = why + "\n";
    } else if (req.path == "/config_dump") {
      r.content_type = "application/json";
      r.body = ConfigDumpJson(server.AppliedProto());
    } else {
      r.status = 404;
      r.body = absl::StrCat("Not Found: ", req.path, " (the admin listener serves /metrics, /healthz, /readyz, /config_dump)\n");
    }
    return r;
  };
}

}  // namespace wsgate::engine::admin
