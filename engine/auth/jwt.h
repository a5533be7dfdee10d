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

VerifiedJwt VerifyJwt(std::string_view token, const config::Snapshot& snapshot, int64_t now_unix_s);

}  // namespace wsgate::engine::auth
