// File: engine/config/credentials.h
//
// One credential (subscription, consumer key, signing key, opaque token, revocation) checked and
// put into a Snapshot's CowIndex. Compile() (compile.cc) calls these for every entry of a full
// snapshot and ApplyCompiledDelta() (incremental.h) for the entries of a delta, so both paths
// accept and index exactly the same things. `path` names the field in errors
// ("subscriptions[3]", "upsert_subscriptions[0]"). A new credential kind adds one function here.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/config/snapshot.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

// Needs the application (and the plan, when the snapshot has policies) in `out`. Replaces the
// subscription of the same (application, API); clears out->subscriptions_unique when that one
// had another id.
absl::Status AddSubscription(const v1::Subscription& in, const std::string& path, Snapshot* out);
// Removes the subscription with this id (no-op when none), with its (application, API) entry
// when that entry is this id's.
void RemoveSubscription(std::string_view id, Snapshot* out);
absl::Status AddConsumerKey(const v1::ConsumerKey& in, const std::string& path, Snapshot* out);
// A signing key's checks (kid, algorithm, PEM), shared with identity providers' keys (idp.h).
absl::StatusOr<SigningKey> CompileSigningKey(const std::string& path, const v1::SigningKey& in);
// `replace`: an existing kid is replaced (a delta's upsert) instead of refused (a duplicate in
// a full snapshot).
absl::Status AddSigningKey(const v1::SigningKey& in, const std::string& path, bool replace, Snapshot* out);
absl::Status AddOpaqueToken(const v1::OpaqueToken& in, const std::string& path, Snapshot* out);
void AddRevokedToken(const v1::RevokedToken& in, Snapshot* out);

}  // namespace wsgate::engine::config
