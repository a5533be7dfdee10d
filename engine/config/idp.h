// File: engine/config/idp.h — compiling a snapshot's external identity providers (issue 14 item
// 6) into config::Snapshot: the providers indexed by issuer, each with its JWKS keys (the agent's
// own keys' rule: CompileSigningKey in credentials.h) and its clients by client id.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/config/snapshot.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

// in.identity_providers into out->identity_providers; applications must be compiled already
// (clients name them). Names and issuers are unique; a provider's kids and client ids too.
absl::Status CompileIdentityProviders(const v1::Snapshot& in, Snapshot* out);

}  // namespace wsgate::engine::config
