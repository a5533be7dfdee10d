// File: engine/common/conn_id.h
//
// The connection registry's ids: "<engine id>-<shard>-<slot>-<generation>", e.g.
// "3f9a0c1d2e4b5a69-2-517-9". The engine id is random per engine process start (16 lower-case
// hex digits, EngineStatus.engine_id), so ids from two engines, or from one engine before and
// after a restart, never collide; shard and slot locate the connection inside the engine; the
// slot's generation (24 bits) changes every time the slot is reused, so an id never names a later
// connection (until one slot has been reused 2^24 times in one process).
//
// The agent reads the engine id from an id to route a send or close to the engine that owns it.
//
//   std::string id = FormatConnId({engine_id, 2, 517, 9});
//   absl::StatusOr<ConnId> parsed = ParseConnId(id);   // INVALID_ARGUMENT naming the id
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace wsgate::common {

struct ConnId {
  std::string engine_id;
  uint32_t shard = 0;
  uint32_t slot = 0;
  uint32_t generation = 0;
  bool operator==(const ConnId& o) const {
    return engine_id == o.engine_id && shard == o.shard && slot == o.slot && generation == o.generation;
  }
};

std::string FormatConnId(const ConnId& id);
// INVALID_ARGUMENT ("connection id 'x': ...") unless `text` is FormatConnId's form.
absl::StatusOr<ConnId> ParseConnId(std::string_view text);

}  // namespace wsgate::common
