// File: engine/config/idp.h — compiling a snapshot's signing keys and external identity
// providers (issue 14 item 6) into config::Snapshot: one key rule for the agent's own keys and
// each provider's JWKS keys, and the providers indexed by issuer with their clients by client id.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/config/snapshot.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

// A verification key: a non-empty kid, a known algorithm, a SubjectPublicKeyInfo PEM of that
// algorithm. INVALID_ARGUMENT naming `path` + ".kid" / ".algorithm" / ".public_key_pem".
absl::StatusOr<SigningKey> CompileSigningKey(const std::string& path, const v1::SigningKey& k);

// in.identity_providers into out->identity_providers; applications must be compiled already
// (clients name them). Names and issuers are unique; a provider's kids and client ids too.
absl::Status CompileIdentityProviders(const v1::Snapshot& in, Snapshot* out);

}  // namespace wsgate::engine::config
