// File: engine/auth/authenticator.h
//
// The handshake's credential decision (DESIGN.md "Data flow"): find the token (Authorization:
// Bearer wins over ?access_token=), verify it (JWT by kid, or an opaque token by SHA-256), then
// check consumer key, application, API state, subscription, key type → endpoint, and topic
// scopes. On APIs with the api_key scheme an API key (api_key.h) is the other credential; a
// bearer token wins over it where oauth2 is enabled too (WSO2 tries OAuth2 first). Each refusal
// is an HTTP status with WSO2-compatible text.
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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/auth/jwt.h"
#include "engine/config/router.h"
#include "engine/config/snapshot.h"
#include "engine/policy/address.h"

namespace wsgate::engine::auth {

inline constexpr std::string_view kMissingCredentials =
    "No Authorization Header or access_token query parameter present";
inline constexpr std::string_view kInvalidCredentials = "Invalid Credentials";
// Issue 14 item 4: no credential on an API whose only scheme is api_key.
inline constexpr std::string_view kMissingApiKey = "No apikey header or apikey query parameter present";

// Where the client put its credential.
struct Credentials {
  std::string_view authorization;  // the Authorization header value, if any
  std::string access_token;        // the decoded ?access_token= value, if any
  bool has_query_token = false;
  // Issue 14 item 4 (api_key.h): the API key (the `apikey` header wins over ?apikey=), and what
  // its restrictions are checked against: the Origin (else the Referer's origin), the client address.
  std::string api_key;
  bool has_api_key = false;
  std::optional<std::string> origin;
  policy::IpAddress client = policy::IpAddress::FromV4(0);
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
  std::string api_key_sha256;  // for API keys (issue 14 item 4): likewise
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
  std::vector<std::string> scopes;  // the token's (issue 14 item 7: the backend JWT's "scope")

  static AuthResult Refused(int status, std::string message) {
    AuthResult r;
    r.status = status;
    r.message = std::move(message);
    return r;
  }
};

// The admission every credential shares once it names an application and key type (in
// result.identity): the application is not blocked, it is subscribed to the API (not blocked for
// the key type, not on hold), the key type has an endpoint, and `scopes` hold one of the topic's.
AuthResult Admit(const config::Snapshot& snapshot, const config::RouteResult& route,
                 const std::vector<std::string>& scopes, AuthResult result);
// Its re-check on a live connection: 0, or 4001.
uint16_t RecheckAdmission(const config::Snapshot& snapshot, std::string_view api_id, const Identity& identity);

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
