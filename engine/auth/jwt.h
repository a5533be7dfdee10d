// File: engine/auth/jwt.h
//
// JWS compact tokens (RFC 7515/7519): base64url, a small JSON reader for the header and claims,
// and signature verification against the snapshot's keys with `alg` pinned by the key (so "none"
// and HMAC-with-a-public-key confusion cannot happen: the token's alg must equal the key's).
// Pure logic; the signature math goes through engine/tls.
//
//   absl::StatusOr<VerifiedToken> t = VerifyJwt(token, snapshot.signing_keys, now_unix_s, rules);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/base64.h"
#include "engine/config/snapshot.h"

namespace wsgate::engine::auth {

using common::Base64UrlDecode;
using common::Base64UrlEncode;

struct JwtClaims {
  std::string alg, kid;                 // header
  std::string iss, sub, jti, client_id, key_type;
  std::vector<std::string> aud;
  std::vector<std::string> scopes;      // from "scope" (space-separated) or "scp" (array)
  int64_t exp = 0, nbf = 0, iat = 0;
  bool has_exp = false, has_nbf = false;
  // Issue 14 item 6: the issuer of the identity provider whose keys verified it (its client id
  // and scopes then come from that provider's claims); empty for the agent's own tokens.
  std::string idp;
};

// Parses the JSON header and payload (no signature check). Exposed for tests and fuzzing.
bool ParseJwtHeader(std::string_view json, JwtClaims* out);
bool ParseJwtPayload(std::string_view json, JwtClaims* out);

enum class JwtError : uint8_t {
  kNone,
  kMalformed,       // not three base64url parts of JSON
  kUnknownKey,      // no key with this kid
  kAlgMismatch,     // header alg differs from the key's algorithm
  kBadSignature,
  kExpired,
  kNotYetValid,
  kMissingExp,
  kWrongIssuer,
  kWrongAudience,
};
std::string_view Describe(JwtError error);

struct VerifiedJwt {
  JwtError error = JwtError::kNone;
  JwtClaims claims;
};

// True if `token` looks like a JWS (exactly two dots), as WSO2 decides.
bool LooksLikeJwt(std::string_view token);

// A token whose `iss` is an identity provider's (snapshot.identity_providers) is verified with that
// provider's keys and audiences only, and its client id and scopes are read from the provider's
// claims (ReadIdpClaims); any other token with the agent's keys and TokenValidation.
VerifiedJwt VerifyJwt(std::string_view token, const config::Snapshot& snapshot, int64_t now_unix_s);

// Sets out->client_id from idp.client_id_claim (else "client_id") and out->scopes from
// idp.scope_claim (a space-separated string or an array of strings). False on malformed JSON or a
// claim of another type.
bool ReadIdpClaims(std::string_view payload_json, const config::IdentityProvider& idp, JwtClaims* out);

}  // namespace wsgate::engine::auth
