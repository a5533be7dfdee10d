// File: engine/auth/api_key.cc
#include "engine/auth/api_key.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/tls/crypto.h"

namespace wsgate::engine::auth {

using common::Sv;

AuthResult AuthenticateApiKey(const config::Snapshot& snapshot, const config::RouteResult& route,
                              const Credentials& credentials, int64_t now_unix_s) {
  tls::Sha256Digest digest = tls::Sha256(credentials.api_key);
  std::string hash(reinterpret_cast<const char*>(digest.data()), digest.size());
  // The index is keyed by the hash itself: a hit compared equal already (and the hash of a
  // secret leaks nothing through timing).
  const config::ApiKey* found = credentials.api_key.empty() ? nullptr : snapshot.api_keys.Find(hash);
  if (found == nullptr) return AuthResult::Refused(401, std::string(kInvalidCredentials));
  const config::ApiKey& key = *found;
  if (key.expires_unix_s != 0 && now_unix_s >= key.expires_unix_s)
    return AuthResult::Refused(401, absl::StrCat(Sv(kInvalidCredentials), ": API key expired"));

  const config::Api& api = *route.api;
  if (!key.apis.empty() && std::find(key.apis.begin(), key.apis.end(), api.id) == key.apis.end())
    return AuthResult::Refused(403, absl::StrCat("Forbidden: this API key is not allowed for API ", api.name, ":", api.version));
  if (!key.ip.Allows(credentials.client))
    return AuthResult::Refused(403, absl::StrCat("Forbidden: this API key is not allowed from address ",
                                                 credentials.client.ToString()));
  if (key.origins && !key.origins->Allows(credentials.origin)) {
    if (!credentials.origin)
      return AuthResult::Refused(403, "Forbidden: this API key is allowed only with an Origin or Referer header");
    return AuthResult::Refused(403, absl::StrCat("Forbidden: this API key is not allowed from origin ", *credentials.origin));
  }

  AuthResult result;
  Identity& id = result.identity;
  id.application_id = key.application_id;
  id.key_type = key.key_type;
  id.expires_unix_s = key.expires_unix_s;
  id.api_key_sha256 = std::move(hash);
  return Admit(snapshot, route, {}, std::move(result));
}

bool ApiKeyStillListed(const config::Snapshot& snapshot, const Identity& identity) {
  const config::ApiKey* key = snapshot.api_keys.Find(identity.api_key_sha256);
  return key != nullptr && key->application_id == identity.application_id;
}

std::optional<std::string> RefererOrigin(std::string_view referer) {
  size_t scheme_end = referer.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
  size_t host_end = referer.find_first_of("/?#", scheme_end + 3);
  std::string_view origin = referer.substr(0, host_end);
  if (origin.size() == scheme_end + 3) return std::nullopt;
  return std::string(origin);
}

}  // namespace wsgate::engine::auth
