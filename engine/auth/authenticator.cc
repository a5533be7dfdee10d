// File: engine/auth/authenticator.cc
#include "engine/auth/authenticator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/auth/api_key.h"
#include "engine/common/absl_compat.h"
#include "engine/tls/crypto.h"

namespace wsgate::engine::auth {
namespace {

using common::Sv;

AuthResult Refuse(int status, std::string message) { return AuthResult::Refused(status, std::move(message)); }

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if ((s[i] | 0x20) != (prefix[i] | 0x20)) return false;
  return true;
}

bool ApiServes(v1::LifecycleState state) {
  return state == v1::PUBLISHED || state == v1::DEPRECATED || state == v1::PRE_RELEASED;
}

// Whether the key `kid` still verifies tokens of `idp` (an identity provider's issuer; empty: the
// agent's own keys); false when the snapshot no longer has that provider or key.
bool StillHasKey(const config::Snapshot& snapshot, std::string_view idp, std::string_view kid) {
  if (idp.empty()) return snapshot.signing_keys.contains(kid);
  auto it = snapshot.identity_providers.find(Sv(idp));
  return it != snapshot.identity_providers.end() && it->second.signing_keys.contains(Sv(kid));
}

// The consumer key a client id names: the agent's own, or an identity provider's registered client.
const config::ConsumerKey* FindKey(const config::Snapshot& snapshot, std::string_view idp, std::string_view client_id) {
  if (idp.empty()) return snapshot.consumer_keys.Find(client_id);
  auto it = snapshot.identity_providers.find(Sv(idp));
  if (it == snapshot.identity_providers.end()) return nullptr;
  auto key_it = it->second.clients.find(Sv(client_id));
  return key_it == it->second.clients.end() ? nullptr : &key_it->second;
}

}  // namespace

AuthResult Authenticator::Authenticate(const config::Snapshot& snapshot, const config::RouteResult& route,
                                       const Credentials& credentials, int64_t now_unix_s) {
  const config::Api& api = *route.api;
  if (api.state == v1::BLOCKED) return Refuse(403, "API is blocked");
  if (!ApiServes(api.state)) return Refuse(404, std::string(config::kNoApiMessage));
  // Issue 14 item 4: the API key, unless a bearer token decides (WSO2 tries OAuth2 first).
  const bool has_token = !credentials.authorization.empty() || credentials.has_query_token;
  if (api.api_key && credentials.has_api_key && !(api.oauth2 && has_token))
    return AuthenticateApiKey(snapshot, route, credentials, now_unix_s);
  if (!api.oauth2 && has_token)
    return Refuse(401, absl::StrCat(Sv(kInvalidCredentials), ": this API accepts only API keys (the apikey header or ?apikey=)"));
  if (!api.oauth2 && !route.topic->unsecured) return Refuse(401, std::string(kMissingApiKey));

  // 1. The token: the header wins; Basic (or any other scheme) is refused.
  std::string_view token;
  if (!credentials.authorization.empty()) {
    if (!StartsWithIgnoreCase(credentials.authorization, "bearer "))
      return Refuse(401, absl::StrCat(Sv(kInvalidCredentials),
                                      ": only Bearer access tokens are accepted for WebSocket APIs"));
    token = credentials.authorization.substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  } else if (credentials.has_query_token) {
    token = credentials.access_token;
  }

  AuthResult result;
  if (token.empty()) {
    if (route.topic->unsecured) {
      result.identity.anonymous = true;
      result.identity.key_type = v1::PRODUCTION;
      result.endpoint = api.production ? &*api.production : nullptr;
      if (result.endpoint == nullptr) return Refuse(503, "this API has no production endpoint");
      return result;
    }
    return Refuse(401, std::string(kMissingCredentials));
  }

  // 2. Verify it.
  Identity& id = result.identity;
  std::vector<std::string> scopes;
  std::string token_key_type;
  if (LooksLikeJwt(token)) {
    auto cached = cache_.find(Sv(token));
    const JwtClaims* claims = nullptr;
    if (cached != cache_.end() && StillHasKey(snapshot, cached->second.claims.idp, cached->second.kid) &&
        now_unix_s < cached->second.claims.exp + snapshot.token_validation.clock_skew_s) {
      ++cache_hits_;
      claims = &cached->second.claims;
    } else {
      VerifiedJwt v = VerifyJwt(token, snapshot, now_unix_s);
      if (v.error != JwtError::kNone)
        return Refuse(401, absl::StrCat(Sv(kInvalidCredentials), ": ", Sv(Describe(v.error))));
      if (cache_.size() >= cache_capacity_) cache_.clear();  // bounded; cheap to refill
      std::string kid = v.claims.kid;
      auto [it, inserted] = cache_.insert_or_assign(std::string(token), CachedJwt{std::move(v.claims), std::move(kid)});
      claims = &it->second.claims;
    }
    if (!claims->jti.empty() && snapshot.revoked_jtis.contains(claims->jti))
      return Refuse(401, absl::StrCat(Sv(kInvalidCredentials), ": token revoked"));
    id.client_id = claims->client_id;
    id.idp = claims->idp;
    id.jti = claims->jti;
    id.expires_unix_s = claims->exp;
    scopes = claims->scopes;
    token_key_type = claims->key_type;
  } else {
    tls::Sha256Digest digest = tls::Sha256(token);
    std::string hash(reinterpret_cast<const char*>(digest.data()), digest.size());
    // The index is keyed by the hash itself: a hit compared equal already (and the hash of a
    // secret leaks nothing through timing).
    const config::OpaqueToken* opaque = snapshot.opaque_tokens.Find(hash);
    if (opaque == nullptr) return Refuse(401, std::string(kInvalidCredentials));
    if (opaque->expires_unix_s != 0 && now_unix_s >= opaque->expires_unix_s)
      return Refuse(401, absl::StrCat(Sv(kInvalidCredentials), ": token expired"));
    id.client_id = opaque->client_id;
    id.expires_unix_s = opaque->expires_unix_s;
    id.opaque_sha256 = hash;
    scopes = opaque->scopes;
  }

  // 3. Who it belongs to, and whether they may use this API and topic.
  const config::ConsumerKey* found = id.client_id.empty() ? nullptr : FindKey(snapshot, id.idp, id.client_id);
  if (found == nullptr)
    return Refuse(401, absl::StrCat(Sv(kInvalidCredentials), id.idp.empty() ? ": unknown consumer key"
                                                                           : ": client not registered for this identity provider"));
  const config::ConsumerKey& key = *found;
  id.key_type = key.key_type;
  if (!token_key_type.empty() && token_key_type != v1::KeyType_Name(key.key_type))
    return Refuse(401, absl::StrCat(Sv(kInvalidCredentials), ": key type mismatch"));
  id.application_id = key.application_id;
  return Admit(snapshot, route, scopes, std::move(result));
}

AuthResult Admit(const config::Snapshot& snapshot, const config::RouteResult& route,
                 const std::vector<std::string>& scopes, AuthResult result) {
  const config::Api& api = *route.api;
  Identity& id = result.identity;
  const config::Application* app = snapshot.applications.Find(id.application_id);
  if (app == nullptr) return Refuse(401, absl::StrCat(Sv(kInvalidCredentials), ": unknown application"));
  if (app->blocked) return Refuse(403, "Blocked from accessing the API");

  const config::Subscription* sub = snapshot.FindSubscription(id.application_id, api.id);
  if (sub == nullptr)
    return Refuse(403, "User is NOT authorized to access the Resource. API Subscription validation failed.");
  if (sub->state == v1::BLOCKED_ALL || sub->state == v1::ON_HOLD ||
      (sub->state == v1::BLOCKED_PRODUCTION && id.key_type == v1::PRODUCTION))
    return Refuse(403, "Subscription is blocked or not yet approved");
  id.subscription_id = sub->id;

  result.endpoint = id.key_type == v1::SANDBOX ? (api.sandbox ? &*api.sandbox : nullptr)
                                               : (api.production ? &*api.production : nullptr);
  if (result.endpoint == nullptr)
    return Refuse(503, id.key_type == v1::SANDBOX ? "this API has no sandbox endpoint"
                                                  : "this API has no production endpoint");

  const std::vector<std::string>& required = route.topic->scopes;
  if (!required.empty()) {
    bool held = std::any_of(required.begin(), required.end(), [&](const std::string& s) {
      return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
    });
    if (!held) return Refuse(403, "User NOT authorized to access the resource");
  }
  result.scopes = std::move(scopes);
  return result;
}

uint16_t Authenticator::Recheck(const config::Snapshot& snapshot, std::string_view api_id, const Identity& identity,
                                int64_t now_unix_s) {
  auto api_it = snapshot.apis_by_id.find(Sv(api_id));
  if (api_it == snapshot.apis_by_id.end() || !ApiServes(api_it->second->state)) return 1001;
  if (identity.anonymous) return 0;
  if (identity.ExpiredAt(now_unix_s, snapshot.token_validation.clock_skew_s)) return 4001;
  if (!identity.api_key_sha256.empty())  // api_key.h
    return ApiKeyStillListed(snapshot, identity) ? RecheckAdmission(snapshot, api_id, identity) : 4001;
  if (!identity.jti.empty() && snapshot.revoked_jtis.contains(identity.jti)) return 4001;
  if (!identity.opaque_sha256.empty() && !snapshot.opaque_tokens.contains(identity.opaque_sha256)) return 4001;
  // An identity provider's key rollover changes no consumer key: a live socket stays open.
  const config::ConsumerKey* key = FindKey(snapshot, identity.idp, identity.client_id);
  if (key == nullptr || key->application_id != identity.application_id) return 4001;
  return RecheckAdmission(snapshot, api_id, identity);
}

uint16_t RecheckAdmission(const config::Snapshot& snapshot, std::string_view api_id, const Identity& identity) {
  const config::Application* app = snapshot.applications.Find(identity.application_id);
  if (app == nullptr || app->blocked) return 4001;
  const config::Subscription* sub = snapshot.FindSubscription(identity.application_id, api_id);
  if (sub == nullptr || sub->state == v1::BLOCKED_ALL || sub->state == v1::ON_HOLD ||
      (sub->state == v1::BLOCKED_PRODUCTION && identity.key_type == v1::PRODUCTION))
    return 4001;
  return 0;
}

}  // namespace wsgate::engine::auth
