// File: agent/jwk.h — an identity provider's JWKS (RFC 7517) to verification keys the engine
// takes (issue 14 item 6): RSA (n, e) becomes an RS256 key, EC P-256 (x, y) an ES256 key, each as
// SubjectPublicKeyInfo PEM built with OpenSSL 3. Pure; the agent's OpenSSL, never BoringSSL.
//
//   std::vector<std::string> skipped;
//   absl::StatusOr<std::vector<v1::SigningKey>> keys = ParseJwks(body, &skipped);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::agent {

// One JWK object's JSON to a key: kty "RSA" (n, e; alg absent or RS256) or kty "EC" (crv P-256,
// x, y; alg absent or ES256). INVALID_ARGUMENT naming the member for anything else.
absl::StatusOr<v1::SigningKey> JwkToKey(std::string_view jwk_json);

// {"keys":[...]}: every usable signing key (with a kid; "use" absent or "sig"), sorted by kid.
// Unusable keys are skipped and described in `skipped` ("kid x: why"). INVALID_ARGUMENT when the
// document is not a JWKS, a kid repeats, or no key is usable (so the last good set is kept).
absl::StatusOr<std::vector<v1::SigningKey>> ParseJwks(std::string_view body, std::vector<std::string>* skipped);

}  // namespace wsgate::agent
