// File: engine/config/credentials.cc
#include "engine/config/credentials.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace wsgate::engine::config {
namespace {

absl::Status FieldError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

}  // namespace

absl::Status AddSubscription(const v1::Subscription& sub, const std::string& path, Snapshot* out) {
  if (!out->applications.contains(sub.application_id()))
    return FieldError(path + ".application_id", absl::StrCat("unknown application '", sub.application_id(), "'"));
  if (!sub.plan().empty() && !out->throttle_policies.empty() && !out->throttle_policies.contains(sub.plan()))
    return FieldError(path + ".plan", absl::StrCat("unknown policy '", sub.plan(), "'"));
  std::string key = SubscriptionKey(sub.application_id(), sub.api_id());
  if (const Subscription* held = out->subscriptions.Find(key);
      (held != nullptr && held->id != sub.id()) || out->subscription_keys.contains(sub.id()))
    out->subscriptions_unique = false;  // a second subscription of the pair, or a second entry of the id
  out->subscription_keys.Insert(sub.id(), key);
  out->subscriptions.Insert(std::move(key), Subscription{sub.id(), sub.application_id(), sub.api_id(), sub.plan(),
                                                         sub.state() == v1::SUBSCRIPTION_STATE_UNSPECIFIED ? v1::ACTIVE : sub.state()});
  return absl::OkStatus();
}

void RemoveSubscription(std::string_view id, Snapshot* out) {
  const std::string* key = out->subscription_keys.Find(id);
  if (key == nullptr) return;
  if (const Subscription* held = out->subscriptions.Find(*key); held != nullptr && held->id == id)
    out->subscriptions.Erase(*key);
  out->subscription_keys.Erase(id);
}

absl::Status AddConsumerKey(const v1::ConsumerKey& k, const std::string& path, Snapshot* out) {
  if (k.client_id().empty()) return FieldError(path + ".client_id", "must not be empty");
  if (!out->applications.contains(k.application_id()))
    return FieldError(path + ".application_id", absl::StrCat("unknown application '", k.application_id(), "'"));
  out->consumer_keys.Insert(k.client_id(), ConsumerKey{k.client_id(), k.application_id(),
                                                       k.key_type() == v1::SANDBOX ? v1::SANDBOX : v1::PRODUCTION});
  return absl::OkStatus();
}

absl::StatusOr<SigningKey> CompileSigningKey(const std::string& path, const v1::SigningKey& k) {
  if (k.kid().empty()) return FieldError(path + ".kid", "must not be empty");
  tls::SignatureAlgorithm alg;
  switch (k.algorithm()) {
    case v1::RS256:
    case v1::SIGNING_ALGORITHM_UNSPECIFIED: alg = tls::SignatureAlgorithm::kRs256; break;
    case v1::ES256: alg = tls::SignatureAlgorithm::kEs256; break;
    case v1::EDDSA: alg = tls::SignatureAlgorithm::kEdDsa; break;
    default: return FieldError(path + ".algorithm", "unknown algorithm");
  }
  auto key = tls::PublicKey::FromPem(alg, k.public_key_pem());
  if (!key.ok()) return FieldError(path + ".public_key_pem", key.status().message());
  return SigningKey{k.kid(), *std::move(key), k.retire_after_unix_s()};
}

absl::Status AddSigningKey(const v1::SigningKey& k, const std::string& path, bool replace, Snapshot* out) {
  WSGATE_ASSIGN_OR_RETURN(SigningKey key, CompileSigningKey(path, k));
  if (!replace && out->signing_keys.contains(k.kid()))
    return FieldError(path + ".kid", absl::StrCat("duplicate kid '", k.kid(), "'"));
  out->signing_keys.Insert(k.kid(), std::move(key));
  return absl::OkStatus();
}

absl::Status AddOpaqueToken(const v1::OpaqueToken& t, const std::string& path, Snapshot* out) {
  if (t.sha256().size() != 32) return FieldError(path + ".sha256", "must be 32 bytes");
  out->opaque_tokens.Insert(t.sha256(), OpaqueToken{t.client_id(), t.expires_unix_s(),
                                                    std::vector<std::string>(t.scopes().begin(), t.scopes().end())});
  return absl::OkStatus();
}

void AddRevokedToken(const v1::RevokedToken& r, Snapshot* out) { out->revoked_jtis.Insert(r.jti()); }

}  // namespace wsgate::engine::config
