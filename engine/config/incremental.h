// File: engine/config/incremental.h
//
// An ApplyDeltaRequest applied to a compiled Snapshot without recompiling it (issue 20): the
// result is a copy of `base` that shares its APIs, routes, vhosts, TLS contexts and every
// credential-index bucket the delta does not touch (cow_index.h), with the delta's entries
// checked and indexed by the same functions Compile() uses (credentials.h), in MergeDelta's
// order. Looking anything up in the result gives what compiling MergeDelta(proto, delta) gives.
//
//   auto next = ApplyCompiledDelta(*current, delta);
//   if (!next.ok()) return next.status();          // FAILED_PRECONDITION / INVALID_ARGUMENT
//   if (*next == nullptr) ... MergeDelta + Compile  // a case the index cannot apply exactly
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "engine/config/snapshot.h"
#include "wsgate/v1/engine.pb.h"

namespace wsgate::engine::config {

// FAILED_PRECONDITION when the delta is not based on `base` (agent and version must match), and
// INVALID_ARGUMENT when its version does not move forward, as MergeDelta (delta.h); INVALID_ARGUMENT
// naming the delta's field (upsert_consumer_keys[0].application_id) for an entry Compile would
// refuse. Null (OK) when the delta cannot be applied exactly without the proto: it touches
// subscriptions of a snapshot where two share an (application, API) or an id.
absl::StatusOr<std::shared_ptr<const Snapshot>> ApplyCompiledDelta(const Snapshot& base, const v1::ApplyDeltaRequest& delta);

// The status MergeDelta gives for a delta that does not fit `base`, or OK.
absl::Status CheckDeltaBase(uint64_t base_version, const std::string& base_agent, const v1::ApplyDeltaRequest& delta);

}  // namespace wsgate::engine::config
