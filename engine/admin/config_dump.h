// File: engine/admin/config_dump.h
//
// /config_dump: the applied snapshot as JSON (protobuf's JSON util, proto field names), with
// its secrets taken out:
//   - vhosts[].tls.key_pem (a pushed private key) becomes "REDACTED" when set; key_file is a
//     path, kept (the file's contents are never read here);
//   - opaque_tokens[].sha256 is removed: the hash of a bearer token is what the engine checks
//     a presented token against, so it is treated like the token (the entry's client id,
//     expiry and scopes stay).
// Public keys (signing_keys[].public_key_pem) and certificates are not secrets and stay. Pure.
#pragma once

#include <string>

#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::admin {

inline constexpr char kRedacted[] = "REDACTED";

// A copy of `snapshot` without secrets.
v1::Snapshot RedactSecrets(const v1::Snapshot& snapshot);
// RedactSecrets, as indented JSON.
std::string ConfigDumpJson(const v1::Snapshot& snapshot);

}  // namespace wsgate::engine::admin
