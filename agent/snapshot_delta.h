// File: agent/snapshot_delta.h
//
// The ApplyDeltaRequest that turns the snapshot an engine applied into the catalog's next one,
// when they differ only in credentials: consumer keys, opaque tokens, revocations, subscriptions
// and signing keys (issue 20, incremental apply). The engine applies such a delta without
// recompiling its config; anything else (APIs, vhosts, settings, applications, policies, a
// revocation that went away, an opaque token changed under the same hash, duplicate keys) has no
// delta here and goes as a full snapshot. Pure; the pusher calls it.
//
//   if (auto d = CredentialDelta(applied, next)) stub->ApplyDelta(&ctx, *d, &resp);
#pragma once

#include <optional>

#include "wsgate/v1/config.pb.h"
#include "wsgate/v1/engine.pb.h"

namespace wsgate::agent {

// Based on `from` (agent_id, base_version = from.version()), giving `to` (version = to.version(),
// which must be greater). MergeDelta(from, delta) then indexes the same credentials as `to`.
std::optional<v1::ApplyDeltaRequest> CredentialDelta(const v1::Snapshot& from, const v1::Snapshot& to);

}  // namespace wsgate::agent
