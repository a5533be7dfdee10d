// File: engine/admin/metrics.h
//
// The engine's /metrics page: every shard's counters (ShardStats, collected through the shards'
// mailboxes, so the shards keep plain memory and nothing on the relay path is atomic) turned
// into Prometheus families. The names, labels and meanings are listed in docs/operations.md.
//
// Label cardinality is bounded by design: APIs, API versions, topic templates, environments,
// application ids, codes, close sides, failure reasons and shard numbers; never connection ids,
// addresses or tokens. Pure logic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/server/stats.h"
#include "engine/throttle/cluster.h"

namespace wsgate::engine::admin {

struct MetricsInput {
  std::vector<server::ShardStats> shards;  // in shard order
  uint64_t config_version = 0;
  int64_t config_apply_duration_us = 0;
  bool ready = false;
  bool draining = false;
  // Cluster-wide quotas (issue 19): the engine's, or null with --quota-store local (no families).
  const throttle::ClusterQuota* quota = nullptr;
};

std::string RenderMetrics(const MetricsInput& in);

class Exposition;
// The wsgate_engine_quota_* families (quota_metrics.cc).
void RenderQuotaMetrics(Exposition& out, const throttle::ClusterQuota& quota);

}  // namespace wsgate::engine::admin
