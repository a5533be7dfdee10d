// File: agent/snapshot_delta.cc
#include "agent/snapshot_delta.h"

#include <google/protobuf/util/message_differencer.h>

#include <string>

#include "absl/container/flat_hash_map.h"

namespace wsgate::agent {
namespace {

using google::protobuf::util::MessageDifferencer;

template <typename Msg>
using ByKey = absl::flat_hash_map<std::string, const Msg*>;

// key → element; false when a key repeats (a list the delta's upsert-by-key cannot reproduce).
template <typename Repeated, typename Key>
bool Index(const Repeated& list, Key key, ByKey<typename Repeated::value_type>* out) {
  for (const auto& x : list)
    if (!out->emplace(key(x), &x).second) return false;
  return true;
}

// Upserts (new, or changed under their key when `may_change`) and removals (keys gone) from
// `from` to `to`. False when a key repeats in either list, or an entry changed that may not.
template <typename Repeated, typename Key, typename Upsert, typename Remove>
bool Diff(const Repeated& from, const Repeated& to, bool may_change, Key key, Upsert upsert, Remove remove) {
  ByKey<typename Repeated::value_type> old_items, new_items;
  if (!Index(from, key, &old_items) || !Index(to, key, &new_items)) return false;
  for (const auto& x : to) {
    auto it = old_items.find(key(x));
    if (it != old_items.end() && MessageDifferencer::Equals(*it->second, x)) continue;
    if (it != old_items.end() && !may_change) return false;
    *upsert() = x;
  }
  for (const auto& x : from)
    if (!new_items.contains(key(x)) && !remove(key(x))) return false;
  return true;
}

}  // namespace

std::optional<v1::ApplyDeltaRequest> CredentialDelta(const v1::Snapshot& from, const v1::Snapshot& to) {
  if (from.agent_id() != to.agent_id() || to.version() <= from.version()) return std::nullopt;
  // Everything but the credentials (and when it was built: informational) must be the same.
  MessageDifferencer same;
  const auto* d = v1::Snapshot::descriptor();
  for (const char* field : {"version", "created_unix_ms", "subscriptions", "consumer_keys", "signing_keys", "opaque_tokens", "revoked_tokens"})
    same.IgnoreField(d->FindFieldByName(field));
  if (!same.Compare(from, to)) return std::nullopt;

  v1::ApplyDeltaRequest delta;
  delta.set_agent_id(to.agent_id());
  delta.set_base_version(from.version());
  delta.set_version(to.version());
  // Opaque tokens are added and removed by hash, never changed in place; revocations are only
  // ever added (one that went away needs the full snapshot).
  bool expressible =
      Diff(from.subscriptions(), to.subscriptions(), true, [](const v1::Subscription& s) { return s.id(); },
           [&] { return delta.add_upsert_subscriptions(); },
           [&](const std::string& id) { delta.add_remove_subscription_ids(id); return true; }) &&
      Diff(from.consumer_keys(), to.consumer_keys(), true, [](const v1::ConsumerKey& k) { return k.client_id(); },
           [&] { return delta.add_upsert_consumer_keys(); },
           [&](const std::string& id) { delta.add_remove_client_ids(id); return true; }) &&
      Diff(from.signing_keys(), to.signing_keys(), true, [](const v1::SigningKey& k) { return k.kid(); },
           [&] { return delta.add_upsert_signing_keys(); },
           [&](const std::string& kid) { delta.add_remove_kids(kid); return true; }) &&
      Diff(from.opaque_tokens(), to.opaque_tokens(), false, [](const v1::OpaqueToken& t) { return t.sha256(); },
           [&] { return delta.add_add_opaque_tokens(); },
           [&](const std::string& h) { delta.add_remove_opaque_token_sha256(h); return true; }) &&
      Diff(from.revoked_tokens(), to.revoked_tokens(), false, [](const v1::RevokedToken& r) { return r.jti(); },
           [&] { return delta.add_add_revoked_tokens(); }, [](const std::string&) { return false; });
  if (!expressible) return std::nullopt;
  return delta;
}

}  // namespace wsgate::agent
