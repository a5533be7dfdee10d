// File: engine/config/incremental.cc
#include "engine/config/incremental.h"

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/config/credentials.h"

namespace wsgate::engine::config {

absl::Status CheckDeltaBase(uint64_t base_version, const std::string& base_agent, const v1::ApplyDeltaRequest& d) {
  if (d.agent_id() != base_agent || d.base_version() != base_version)
    return absl::FailedPreconditionError(absl::StrCat("delta is based on version ", d.base_version(), " of agent '",
                                                      d.agent_id(), "' but version ", base_version, " of agent '",
                                                      base_agent, "' is applied; send a full snapshot"));
  if (d.version() <= d.base_version()) return absl::InvalidArgumentError("version: must be greater than base_version");
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Snapshot>> ApplyCompiledDelta(const Snapshot& base, const v1::ApplyDeltaRequest& d) {
  WSGATE_RETURN_IF_ERROR(CheckDeltaBase(base.version, base.agent_id, d));
  bool touches_subscriptions = d.upsert_subscriptions_size() > 0 || d.remove_subscription_ids_size() > 0;
  if (touches_subscriptions && !base.subscriptions_unique) return std::shared_ptr<const Snapshot>();

  // Shares everything: the index buckets and APIs are shared_ptr, the rest is O(APIs + vhosts).
  auto next = std::make_shared<Snapshot>(base);
  next->version = d.version();
  for (const auto& r : d.add_revoked_tokens()) AddRevokedToken(r, next.get());
  for (int i = 0; i < d.add_opaque_tokens_size(); ++i)
    WSGATE_RETURN_IF_ERROR(AddOpaqueToken(d.add_opaque_tokens(i), absl::StrCat("add_opaque_tokens[", i, "]"), next.get()));
  for (const auto& h : d.remove_opaque_token_sha256()) next->opaque_tokens.Erase(h);
  for (int i = 0; i < d.upsert_subscriptions_size(); ++i) {
    const v1::Subscription& s = d.upsert_subscriptions(i);
    RemoveSubscription(s.id(), next.get());  // an upsert by id: its old (application, API) goes
    WSGATE_RETURN_IF_ERROR(AddSubscription(s, absl::StrCat("upsert_subscriptions[", i, "]"), next.get()));
  }
  // A pair now held twice: removing the winner by id must reveal the other (only the proto knows).
  if (!next->subscriptions_unique && d.remove_subscription_ids_size() > 0) return std::shared_ptr<const Snapshot>();
  for (const auto& id : d.remove_subscription_ids()) RemoveSubscription(id, next.get());
  for (int i = 0; i < d.upsert_consumer_keys_size(); ++i)
    WSGATE_RETURN_IF_ERROR(AddConsumerKey(d.upsert_consumer_keys(i), absl::StrCat("upsert_consumer_keys[", i, "]"), next.get()));
  for (const auto& id : d.remove_client_ids()) next->consumer_keys.Erase(id);
  for (int i = 0; i < d.upsert_signing_keys_size(); ++i)
    WSGATE_RETURN_IF_ERROR(
        AddSigningKey(d.upsert_signing_keys(i), absl::StrCat("upsert_signing_keys[", i, "]"), true, next.get()));
  for (const auto& kid : d.remove_kids()) next->signing_keys.Erase(kid);
  return std::shared_ptr<const Snapshot>(std::move(next));
}

}  // namespace wsgate::engine::config
