// File: agent/catalog_internal.h — helpers shared by the Catalog's source files (catalog.cc:
// opening, schema, watching; catalog_policies.cc; catalog_snapshot.cc; catalog_apis.cc: APIs,
// revisions, deployments; catalog_access.cc: applications, subscriptions, keys, tokens, signing
// keys; and one file per other object kind). Not for other code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/store.h"
#include "wsgate/v1/admin.pb.h"

namespace wsgate::agent::catalog_internal {

int64_t NowMs();
int64_t NowS();
// A random UUID-shaped id.
std::string NewId();
std::string Serialize(const google::protobuf::Message& m);
// INVALID_ARGUMENT "field: why".
absl::Status Invalid(const std::string& field, const std::string& why);
// "Name:Version".
std::string ApiRefText(const v1::ApiSpec& spec);
std::string KeyTypeName(v1::KeyType t);
// Loads each of `ids` with `load`, in order; the first failure is returned.
template <typename T, typename Load>
absl::StatusOr<std::vector<T>> LoadEach(const std::vector<std::string>& ids, Load load) {
  std::vector<T> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    absl::StatusOr<T> item = load(id);
    if (!item.ok()) return item.status();
    out.push_back(*std::move(item));
  }
  return out;
}

// A throttle policy validated, with its defaults filled in (level SUBSCRIPTION, unit_count 1,
// stop_on_quota_reach, a description): what CreatePolicy stores.
absl::StatusOr<v1::ThrottlePolicy> NormalizedPolicy(const v1::ThrottlePolicy& in);

// Normalizes and checks an environment as given by a client (catalog_envs.cc): type lower-case
// (default hybrid), vhost names and aliases lower-case, ports defaulted, vhost.environment set.
absl::Status CheckEnvironment(v1::Environment& env, uint32_t ws_port, uint32_t wss_port);

// The jti of a JWT's payload (no signature check): for revocation of a token this agent issued.
bool JwtJti(const std::string& token, std::string* jti);
// RFC 6749 §3.3 scope-token: non-empty printable ASCII except space, '"' and '\\'.
bool ValidScopeToken(const std::string& scope);
// INVALID_ARGUMENT naming `field` and the first scope that is not a scope-token.
absl::Status ValidScopes(const std::string& field, const google::protobuf::RepeatedPtrField<std::string>& scopes);

// An application's token format as stored: UNSPECIFIED becomes JWT; an unknown value is
// INVALID_ARGUMENT "token_format: ..." (catalog_tokens.cc).
absl::StatusOr<v1::TokenFormat> CheckTokenFormat(v1::TokenFormat format);

// A signing key's row (kid, algorithm, public_pem, active, created_ms, retire_after_s), token or
// backend key alike (catalog_access.cc, catalog_backend.cc).
v1::SigningKeyInfo SigningKeyRow(Statement& st);

// Column 0 of every row of `st`; a step error is returned, not taken for the end.
absl::StatusOr<std::vector<std::string>> Ids(Statement& st);

}  // namespace wsgate::agent::catalog_internal

namespace wsgate::agent {
// The catalog's sources call them unqualified.
using catalog_internal::ApiRefText;
using catalog_internal::CheckEnvironment;
using catalog_internal::CheckTokenFormat;
using catalog_internal::Ids;
using catalog_internal::Invalid;
using catalog_internal::JwtJti;
using catalog_internal::KeyTypeName;
using catalog_internal::LoadEach;
using catalog_internal::NewId;
using catalog_internal::NowMs;
using catalog_internal::NowS;
using catalog_internal::Serialize;
using catalog_internal::ValidScopes;
using catalog_internal::ValidScopeToken;
}  // namespace wsgate::agent
