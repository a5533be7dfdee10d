// File: engine/auth/authenticator.h
//
// The handshake's credential decision (DESIGN.md "Data flow"): find the token (Authorization:
// Bearer wins over ?access_token=), verify it (JWT by kid, or an opaque token by SHA-256), then
// check consumer key, application, API state, subscription, key type → endpoint, and topic
// scopes. Each refusal is an HTTP status with WSO2-compatible text.
//
// Per shard: an Authenticator owns a bounded cache of verified JWTs (signature and claims), so a
// reconnecting client costs one hash lookup instead of an RSA verify. The snapshot-dependent
// checks (revocation, subscription, blocking) run on every handshake, so a push takes effect at
// once.
//
//   Authenticator auth;                       // one per shard; not thread-safe
//   AuthResult r = auth.Authenticate(snapshot, route, credentials, now_unix_s);
//   if (r.status != 0) Reply(r.status, r.message);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/auth/jwt.h"
#include "engine/config/router.h"
#include "engine/config/snapshot.h"

namespace wsgate::engine::auth {

inline constexpr std::string_view kMissingCredentials =
    "No Authorization Header or access_token query parameter present";
inline constexpr std::string_view kInvalidCredentials = "Invalid Credentials";

// Where the client put its credential.
struct Credentials {
  std::string_view authorization;  // the Authorization header value, if any
  std::string access_token;        // the decoded ?access_token= value, if any
  bool has_query_token = false;
};

// Who is calling; kept by the connection for the life of the socket, so a later snapshot can be
// re-checked against it (revocation, subscription removal, blocking, expiry).
struct Identity {
  std::string client_id;
  std::string idp;  // issue 14 item 6: the identity provider's issuer (client_id is its client); empty: the agent's
  std::string application_id;
  std::string subscription_id;
  std::string jti;           // empty for opaque tokens
  std::string opaque_sha256; // for opaque tokens: their hash, so removing the token closes the socket
  int64_t expires_unix_s = 0;
  v1::KeyType key_type = v1::PRODUCTION;
  bool anonymous = false;    // an unsecured topic

  // The one expiry rule (handshake cache, re-checks, live sockets): a credential with an expiry
  // is dead from `expires + skew` on. Anonymous identities and tokens without exp never expire.
  bool ExpiredAt(int64_t now_unix_s, int64_t clock_skew_s) const {
    return !anonymous && expires_unix_s != 0 && now_unix_s >= ExpiresWithSkew(clock_skew_s);
  }
  int64_t ExpiresWithSkew(int64_t clock_skew_s) const { return expires_unix_s + clock_skew_s; }
};

struct AuthResult {
  int status = 0;       // 0: allowed; else 401, 403, 404 or 503
  std::string message;  // the response body when refused
  Identity identity;
  const config::Endpoint* endpoint = nullptr;  // production or sandbox, by key type
};

class Authenticator {
 public:
  explicit Authenticator(size_t cache_capacity = 10000) : cache_capacity_(cache_capacity) {}

  AuthResult Authenticate(const config::Snapshot& snapshot, const config::RouteResult& route,
                          const Credentials& credentials, int64_t now_unix_s);

  // Re-checks a live connection's identity against a new snapshot. Returns 0 if it may stay
  // open, else the close code (4001 for credential problems, 1001 when the API is gone).
  static uint16_t Recheck(const config::Snapshot& snapshot, std::string_view api_id, const Identity& identity,
                          int64_t now_unix_s);

  size_t cache_size() const { return cache_.size(); }
  uint64_t cache_hits() const { return cache_hits_; }

 private:
  struct CachedJwt {
    JwtClaims claims;
    std::string kid;
  };
  size_t cache_capacity_;
  absl::flat_hash_map<std::string, CachedJwt> cache_;
  uint64_t cache_hits_ = 0;
};

}  // namespace wsgate::engine::auth
