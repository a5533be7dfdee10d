// File: engine/config/snapshot.h
//
// The engine's compiled, immutable view of a wsgate.v1.Snapshot: every lookup the data path makes
// is a prebuilt index here (vhost → API prefix → API; topic templates in match order; client id →
// consumer key; (application, API) → subscription; kid → verifier; token hash → opaque token).
// Built once on the control thread by Compile() (compile.h), then shared read-only by every shard
// through a shared_ptr<const Snapshot>; never mutated after that. A credential delta builds the
// next Snapshot from a copy of the current one (incremental.h): the credential indexes are
// CowIndex (cow_index.h) and the APIs shared_ptr, so the copy shares all but what the delta touches.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/config/cow_index.h"
#include "engine/config/syntax.h"
#include "engine/policy/address.h"
#include "engine/policy/origin.h"
#include "engine/config/vhost.h"
#include "engine/throttle/throttle.h"
#include "engine/tls/crypto.h"
#include "engine/tls/tls.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

// Issue 14 item 7: what the backend learns about the caller (v1::BackendIdentity, compiled).
struct BackendIdentity {
  bool jwt = false;
  std::string jwt_header;        // as sent, e.g. "X-JWT-Assertion"
  std::string jwt_header_lower;  // for dropping a client's header of that name
  uint32_t jwt_validity_s = 900;
  std::vector<std::string> pass_headers;  // lowercase; empty: Origin and User-Agent only
  std::string api_context;                // the versioned context, "/chats/1.0.0" (WSO2's apicontext)
};

struct Api {
  uint32_t index = 0;  // dense, for per-API counters
  std::string id, name, context, version;
  uint32_t revision = 0;
  bool is_default_version = false;
  v1::LifecycleState state = v1::PUBLISHED;
  std::optional<Endpoint> production, sandbox;
  std::vector<Topic> topics;  // in match order: most specific first
  std::string throttle_policy;
  // Access rules (v1::Api.access); `origins` set only when the API has its own Origin rules.
  std::optional<policy::OriginRules> origins;
  policy::IpRules ip;
  // The gateway environment(s) of the vhosts it is deployed to, sorted and joined with ','
  // (a metrics label; operations, issue 13).
  std::string environment;
  // Issue 15: 0 = the Settings value.
  uint32_t idle_timeout_ms = 0;
  uint32_t max_lifetime_ms = 0;
  uint32_t handshake_rate = 0;  // 0: Settings.handshake_rate_per_api
  uint32_t handshake_burst = 0;
  uint64_t max_message_bytes = 0;  // 0: Settings::max_message_bytes
  // Issue 14 item 4: the security schemes it accepts (v1::Api.security_schemes; empty = oauth2).
  bool oauth2 = true;
  bool api_key = false;
  BackendIdentity backend;         // issue 14 item 7
};

struct Application {
  std::string id, name;
  bool blocked = false;
  std::string throttle_policy;
  std::string owner;  // the subscriber (backend JWT claim)
};

// The key backend JWTs are signed with (v1::Snapshot.backend_signing_key).
struct BackendKey {
  std::string kid;
  std::unique_ptr<tls::PrivateKey> key;
};

struct Subscription {
  std::string id, application_id, api_id, plan;
  v1::SubscriptionState state = v1::ACTIVE;
};

struct ConsumerKey {
  std::string client_id, application_id;
  v1::KeyType key_type = v1::PRODUCTION;
};

struct SigningKey {
  std::string kid;
  std::shared_ptr<const tls::PublicKey> key;  // shared by the snapshots a delta derives
  int64_t retire_after_unix_s = 0;
};

struct OpaqueToken {
  std::string client_id;
  int64_t expires_unix_s = 0;
  std::vector<std::string> scopes;
};

// Issue 14 item 4: an application's API key (v1::ApiKey), found by the SHA-256 of its text.
struct ApiKey {
  std::string id, application_id;
  v1::KeyType key_type = v1::PRODUCTION;
  int64_t expires_unix_s = 0;  // 0: never
  std::vector<std::string> apis;  // API ids; empty: any
  policy::IpRules ip;             // empty: any address
  std::optional<policy::OriginRules> origins;  // unset: any origin
};

struct Settings {
  uint32_t max_header_bytes = 16 * 1024;
  uint32_t handshake_timeout_ms = 10000;
  uint32_t upstream_connect_timeout_ms = 10000;
  uint64_t max_message_bytes = 16ull << 20;
  uint32_t queue_bytes = 1 << 20;
  uint32_t ping_interval_ms = 30000;
  uint32_t pong_timeout_ms = 30000;
  uint32_t close_timeout_ms = 5000;
  uint32_t drain_timeout_ms = 30000;
  // Access defaults (v1::EngineSettings.access, trusted_proxies).
  policy::OriginRules origins;
  policy::IpRules ip;
  std::vector<policy::Cidr> trusted_proxies;
  // Issue 15 (admission and connection lifetime); 0 = no limit.
  uint32_t max_connections_per_address = 0;
  uint32_t idle_timeout_ms = 0;
  uint32_t max_lifetime_ms = 0;
  uint16_t drain_close_code = 1012;
  uint32_t handshake_rate_per_address = 0;
  uint32_t handshake_burst_per_address = 0;
  uint32_t handshake_rate_per_api = 0;
  uint32_t handshake_burst_per_api = 0;
  uint32_t accept_budget = 256;
  uint32_t overload_soft_percent = 85;
  uint32_t overload_hard_percent = 95;
  uint32_t overload_retry_after_s = 5;
  // Live client connections of the whole engine (all shards); 0: only the per-shard limit.
  uint32_t max_connections = 0;
};

struct TokenValidation {
  std::string issuer;
  std::vector<std::string> audiences;
  uint32_t clock_skew_s = 30;
};

// An external identity provider (issue 14 item 6): tokens whose `iss` is `issuer` are verified
// with `signing_keys` only, and their client id claim selects one of `clients`.
struct IdentityProvider {
  std::string name, issuer;
  std::vector<std::string> audiences;
  std::string client_id_claim = "azp", scope_claim = "scope";
  absl::flat_hash_map<std::string, SigningKey> signing_keys;  // by kid
  absl::flat_hash_map<std::string, ConsumerKey> clients;      // by the provider's client id
};

struct Snapshot {
  // False until a config was pushed by an agent or loaded with --config: the engine's startup
  // snapshot (EmptySnapshot(), or CompileDefaults() with just its certificate). Route() answers
  // kNotConfigured (503) instead of 404 then, so "no config yet" is not mistaken for "no API".
  bool configured = false;
  uint64_t version = 0;
  std::string agent_id;
  std::vector<std::shared_ptr<const Api>> apis;
  // Host → vhost (exact names and aliases, then wildcards, then the default vhost; vhost.h), and
  // per vhost (by its position in the snapshot): request path prefix → API. A prefix is the
  // versioned context ("/chats/1.0.0") and, for default-version APIs, the bare context ("/chats").
  VhostIndex vhost_index;
  std::vector<absl::flat_hash_map<std::string, const Api*>> routes;
  absl::flat_hash_map<std::string, const Api*> apis_by_id;
  CowIndex<Application> applications;    // by id
  CowIndex<Subscription> subscriptions;  // by application_id + '\n' + api_id (SubscriptionKey)
  CowIndex<std::string> subscription_keys;  // subscription id → its key in `subscriptions`
  // False when two subscriptions share an (application, API): the last one wins the lookup, and
  // removing it by id would have to find the other, so deltas touching subscriptions recompile.
  bool subscriptions_unique = true;
  CowIndex<ConsumerKey> consumer_keys;  // by client_id
  CowIndex<SigningKey> signing_keys;    // by kid
  CowIndex<OpaqueToken> opaque_tokens;  // by raw 32-byte SHA-256
  CowSet revoked_jtis;
  CowIndex<ApiKey> api_keys;             // by raw 32-byte SHA-256 (api_keys.h)
  absl::flat_hash_map<std::string, IdentityProvider> identity_providers;  // by issuer (idp.h)
  absl::flat_hash_map<std::string, throttle::Policy> throttle_policies;  // by name, checked
  Settings settings;
  TokenValidation token_validation;
  // wss termination: the default certificate plus per-vhost ones (SNI). Null: no TLS configured,
  // so the wss listener refuses connections.
  std::shared_ptr<const tls::ServerTlsContext> server_tls;
  // Issue 14 item 7: null when the agent pushed none (an API with backend.jwt is refused then).
  std::shared_ptr<const BackendKey> backend_key;

  // The largest message an API's connections may send or receive (its override, else the
  // engine-wide setting); an unknown api_id gets the engine-wide setting.
  uint64_t MaxMessageBytes(std::string_view api_id) const;
  const Subscription* FindSubscription(std::string_view application_id, std::string_view api_id) const;
  // The route table of the vhost a Host header selects (vhost.h), or null when none does.
  const absl::flat_hash_map<std::string, const Api*>* RoutesForHost(std::string_view host) const;
};

// The `subscriptions` key of an (application, API) pair.
std::string SubscriptionKey(std::string_view application_id, std::string_view api_id);

// An empty, unconfigured snapshot (version 0): every upgrade answers 503 until the first push.
std::shared_ptr<const Snapshot> EmptySnapshot();

}  // namespace wsgate::engine::config
