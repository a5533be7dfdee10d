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

namespace wsgate::engine::admin {

struct MetricsInput {
  std::vector<server::ShardStats> shards;  // in shard order
  uint64_t config_version = 0;
  int64_t config_apply_duration_us = 0;
  bool ready = false;
  bool draining = false;
};

std::string RenderMetrics(const MetricsInput& in);

}  // namespace wsgate::engine::admin
