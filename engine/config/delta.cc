// File: engine/config/delta.cc
#include "engine/config/delta.h"

#include "absl/strings/str_cat.h"

namespace wsgate::engine::config {
namespace {

template <typename Repeated, typename Pred>
void RemoveIf(Repeated* repeated, Pred pred) {
  for (int i = repeated->size() - 1; i >= 0; --i)
    if (pred(repeated->Get(i))) repeated->DeleteSubrange(i, 1);
}

// Replaces the element whose key equals `item`'s, or appends it.
template <typename Repeated, typename Item, typename Key>
void Upsert(Repeated* repeated, const Item& item, Key key) {
  RemoveIf(repeated, [&](const Item& x) { return key(x) == key(item); });
  *repeated->Add() = item;
}

}  // namespace

absl::StatusOr<v1::Snapshot> MergeDelta(const v1::Snapshot& base, const v1::ApplyDeltaRequest& d) {
  if (d.agent_id() != base.agent_id() || d.base_version() != base.version())
    return absl::FailedPreconditionError(absl::StrCat("delta is based on version ", d.base_version(), " of agent '",
                                                      d.agent_id(), "' but version ", base.version(), " of agent '",
                                                      base.agent_id(), "' is applied; send a full snapshot"));
  if (d.version() <= d.base_version()) return absl::InvalidArgumentError("version: must be greater than base_version");
  v1::Snapshot next = base;
  next.set_version(d.version());
  for (const auto& r : d.add_revoked_tokens()) *next.add_revoked_tokens() = r;
  for (const auto& t : d.add_opaque_tokens()) *next.add_opaque_tokens() = t;
  for (const auto& h : d.remove_opaque_token_sha256())
    RemoveIf(next.mutable_opaque_tokens(), [&](const v1::OpaqueToken& t) { return t.sha256() == h; });
  for (const auto& s : d.upsert_subscriptions())
    Upsert(next.mutable_subscriptions(), s, [](const v1::Subscription& x) { return x.id(); });
  for (const auto& id : d.remove_subscription_ids())
    RemoveIf(next.mutable_subscriptions(), [&](const v1::Subscription& x) { return x.id() == id; });
  for (const auto& k : d.upsert_consumer_keys())
    Upsert(next.mutable_consumer_keys(), k, [](const v1::ConsumerKey& x) { return x.client_id(); });
  for (const auto& id : d.remove_client_ids())
    RemoveIf(next.mutable_consumer_keys(), [&](const v1::ConsumerKey& x) { return x.client_id() == id; });
  for (const auto& k : d.upsert_signing_keys())
    Upsert(next.mutable_signing_keys(), k, [](const v1::SigningKey& x) { return x.kid(); });
  for (const auto& kid : d.remove_kids())
    RemoveIf(next.mutable_signing_keys(), [&](const v1::SigningKey& x) { return x.kid() == kid; });
  return next;
}

}  // namespace wsgate::engine::config
