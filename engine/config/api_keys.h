// File: engine/config/api_keys.h
//
// Issue 14 item 4 (WSO2 4.3 API keys): compiling an API's security schemes (v1::Api
// .security_schemes: "oauth2", "api_key"; none listed = oauth2 only) and the snapshot's API keys
// (v1::ApiKey: SHA-256, application, key type, expiry and restrictions) into config::Snapshot.
// Errors name the field path ("api_keys[1].ip_ranges: allow[0]: ...").
#pragma once

#include <string>

#include "absl/status/status.h"
#include "engine/config/snapshot.h"

namespace wsgate::engine::config {

absl::Status CompileSecuritySchemes(const v1::Api& in, const std::string& path, Api& out);
absl::Status CompileApiKeys(const v1::Snapshot& in, Snapshot& out);

}  // namespace wsgate::engine::config
