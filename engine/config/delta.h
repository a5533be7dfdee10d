// File: engine/config/delta.h
//
// An ApplyDelta request merged into the snapshot it is based on, as a pure function: revoked
// tokens and opaque tokens added, opaque tokens removed by hash, subscriptions, consumer keys
// and signing keys upserted (by id, client_id, kid) or removed. The result is a full snapshot
// the engine compiles and applies like any other.
#pragma once

#include "absl/status/statusor.h"
#include "wsgate/v1/config.pb.h"
#include "wsgate/v1/engine.pb.h"

namespace wsgate::engine::config {

// FAILED_PRECONDITION when the delta is not based on `base` (agent and version must match: the
// agent then sends a full snapshot); INVALID_ARGUMENT when its version does not move forward.
absl::StatusOr<v1::Snapshot> MergeDelta(const v1::Snapshot& base, const v1::ApplyDeltaRequest& delta);

// The same merge in place, without the base check (the caller made it), in O(size of the
// snapshot + size of the delta): the engine folds the deltas it applied incrementally into its
// proto copy this way, only when that copy is needed (/config_dump, a recompile).
void MergeDeltaInto(const v1::ApplyDeltaRequest& delta, v1::Snapshot* snapshot);

}  // namespace wsgate::engine::config
