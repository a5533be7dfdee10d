// File: engine/config/delta.cc
#include "engine/config/delta.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/config/incremental.h"

namespace wsgate::engine::config {
namespace {

using Keys = absl::flat_hash_set<std::string>;

// Drops every element whose key is in `drop`, in one pass (order kept).
template <typename Repeated, typename Key>
void RemoveKeys(Repeated* repeated, const Keys& drop, Key key) {
  if (drop.empty()) return;
  int w = 0;
  for (int r = 0; r < repeated->size(); ++r) {
    if (drop.contains(key(repeated->Get(r)))) continue;
    if (w != r) repeated->SwapElements(w, r);
    ++w;
  }
  repeated->DeleteSubrange(w, repeated->size() - w);
}

// Upserts by key, then removes `removed`: what Upsert-each-then-RemoveIf-each gives (every old
// element of an upserted or removed key goes; each upserted key's last version is appended, in
// the order of those last versions), in O(size + delta).
template <typename Repeated, typename Items, typename Key>
void UpsertThenRemove(Repeated* repeated, const Items& upserts, const Keys& removed, Key key) {
  Keys drop = removed;
  absl::flat_hash_map<std::string, int> last;
  for (int i = 0; i < upserts.size(); ++i) {
    drop.insert(key(upserts.Get(i)));
    last[key(upserts.Get(i))] = i;
  }
  RemoveKeys(repeated, drop, key);
  for (int i = 0; i < upserts.size(); ++i) {
    const std::string& k = key(upserts.Get(i));
    if (last[k] == i && !removed.contains(k)) *repeated->Add() = upserts.Get(i);
  }
}

template <typename Strings>
Keys ToKeys(const Strings& s) {
  return Keys(s.begin(), s.end());
}

}  // namespace

absl::StatusOr<v1::Snapshot> MergeDelta(const v1::Snapshot& base, const v1::ApplyDeltaRequest& d) {
  if (absl::Status s = CheckDeltaBase(base.version(), base.agent_id(), d); !s.ok()) return s;
  v1::Snapshot next = base;
  MergeDeltaInto(d, &next);
  return next;
}

void MergeDeltaInto(const v1::ApplyDeltaRequest& d, v1::Snapshot* next) {
  next->set_version(d.version());
  for (const auto& r : d.add_revoked_tokens()) *next->add_revoked_tokens() = r;
  // Added, then removed by hash: an added token whose hash is removed too is gone.
  Keys removed_tokens = ToKeys(d.remove_opaque_token_sha256());
  RemoveKeys(next->mutable_opaque_tokens(), removed_tokens, [](const v1::OpaqueToken& t) -> const std::string& { return t.sha256(); });
  for (const auto& t : d.add_opaque_tokens())
    if (!removed_tokens.contains(t.sha256())) *next->add_opaque_tokens() = t;
  UpsertThenRemove(next->mutable_subscriptions(), d.upsert_subscriptions(), ToKeys(d.remove_subscription_ids()),
                   [](const v1::Subscription& x) -> const std::string& { return x.id(); });
  UpsertThenRemove(next->mutable_consumer_keys(), d.upsert_consumer_keys(), ToKeys(d.remove_client_ids()),
                   [](const v1::ConsumerKey& x) -> const std::string& { return x.client_id(); });
  UpsertThenRemove(next->mutable_signing_keys(), d.upsert_signing_keys(), ToKeys(d.remove_kids()),
                   [](const v1::SigningKey& x) -> const std::string& { return x.kid(); });
}

}  // namespace wsgate::engine::config
