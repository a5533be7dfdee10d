// File: engine/auth/backend_jwt.h
//
// The backend JWT (issue 14 item 7, WSO2's "X-JWT-Assertion"): the claims about the caller an
// API's backend gets in the upgrade request, signed with the agent's pushed backend-signing key,
// and a per-shard cache so a reconnecting client costs no signature.
//
//   BackendClaims claims = ClaimsFor(snapshot, api, identity, auth_result.scopes);
//   const std::string& jwt = cache.Get(*snapshot.backend_key, claims, api.backend.jwt_validity_s, now_s);
//   // "X-JWT-Assertion: " + jwt
//
// Pure logic over tls/ (signing); no sockets or threads. A cache belongs to one shard.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/auth/authenticator.h"
#include "engine/config/snapshot.h"
#include "engine/tls/crypto.h"

namespace wsgate::engine::auth {

// WSO2's claim dialect.
inline constexpr std::string_view kWso2Claims = "http://wso2.org/claims/";

// What the JWT says, besides iat, exp and jti. Views into the snapshot and the identity.
struct BackendClaims {
  std::string_view issuer;            // iss: the token issuer (TokenValidation.issuer), else "wsgate"
  std::string_view subscriber;        // the application's owner
  std::string_view application_id, application_name, application_tier;  // tier: "" unknown (left out)
  std::string_view api_name, api_context, api_version;  // apicontext: "/chats/1.0.0", as WSO2
  std::string_view tier;              // the subscription's business plan
  std::string_view key_type;          // "PRODUCTION" or "SANDBOX"
  const std::vector<std::string>* scopes = nullptr;  // the token's; "scope", space-separated
};

// The claims of `identity` on `api` (scopes: the token's, AuthResult::scopes, which must outlive
// the claims).
BackendClaims ClaimsFor(const config::Snapshot& snapshot, const config::Api& api, const Identity& identity,
                        const std::vector<std::string>& scopes);

// The JSON payload: the claims with iat, exp and jti.
std::string BackendClaimsJson(const BackendClaims& claims, int64_t iat, int64_t exp, std::string_view jti);

// header.payload.signature with the header {"typ":"JWT","alg":...,"kid":...}.
std::string SignBackendJwt(const config::BackendKey& key, std::string_view payload_json);

// Signed assertions by everything they say (key, claims, validity), per shard. An entry is
// reused until three quarters of its validity have passed, so the backend always gets at least a
// quarter of it (15 s at the 60 s minimum); then it is signed again with a fresh jti. Bounded:
// when full, expired entries go, and if none had, all of them.
class BackendJwtCache {
 public:
  explicit BackendJwtCache(size_t capacity = 4096) : capacity_(capacity) {}
  const std::string& Get(const config::BackendKey& key, const BackendClaims& claims, uint32_t validity_s, int64_t now_s);
  size_t size() const { return entries_.size(); }
  uint64_t signatures() const { return signatures_; }

 private:
  struct Entry {
    std::string jwt;
    int64_t reuse_until = 0;
  };
  size_t capacity_;
  uint64_t signatures_ = 0;
  absl::flat_hash_map<std::string, Entry> entries_;
};

}  // namespace wsgate::engine::auth
