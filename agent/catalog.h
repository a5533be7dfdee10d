// File: agent/catalog.h
//
// The agent's catalog: APIs (the editable "current API"), revisions, deployments, applications,
// subscriptions, consumer keys, signing keys, revocations and throttle policies, with WSO2's
// rules (wso2-websocket-facts.md §2). State lives in SQLite or PostgreSQL (agent/store.h); every mutation is
// one transaction, and every mutation that changes what engines serve bumps the config version
// and notifies the listener (the pusher), which sends engines a new snapshot.
//
//   auto catalog = Catalog::Open(dir + "/catalog.db", options);
//   auto api = (*catalog)->CreateApi(spec);                  // StatusOr<v1::ApiInfo>
//   auto snap = (*catalog)->BuildSnapshot();                 // what engines should serve
//
// Errors are gRPC-style codes naming the field or the rule: INVALID_ARGUMENT ("context: must
// start with '/'"), NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION (illegal lifecycle transition,
// a deployed revision), RESOURCE_EXHAUSTED (a sixth revision). A failed call changes nothing.
//
// Thread-safe: one mutex serializes access to the database.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "agent/scope_grant.h"
#include "agent/signer.h"
#include "agent/store.h"
#include "wsgate/v1/admin.pb.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::agent {

struct CatalogOptions {
  std::string issuer = "wsgate";
  uint32_t default_token_ttl_s = 3600;
  uint32_t max_token_ttl_s = 86400;
  std::string environment = "Production and Sandbox";
  std::string vhost = "localhost";
  uint32_t ws_port = 9099;
  uint32_t wss_port = 8099;
  int max_revisions = 5;
  // The audit log keeps the newest audit_max_rows records, none older than audit_max_age_s.
  int64_t audit_max_rows = 100000;
  int64_t audit_max_age_s = 90 * 86400;
};

// Who a client credential belongs to (OAuth2 client authentication).
struct ClientIdentity {
  std::string application_id;
  v1::KeyType key_type = v1::PRODUCTION;
};

class Catalog {
 public:
  // `target`: a SQLite path, "sqlite:PATH" or "postgres://USER@HOST:PORT/DB" (agent/store.h).
  static absl::StatusOr<std::unique_ptr<Catalog>> Open(const std::string& target, CatalogOptions options);

  // Called after each committed data-plane change with the new config version (outside the lock),
  // also for another agent's change on a shared PostgreSQL catalog (from the watcher's thread).
  void SetChangeListener(std::function<void(uint64_t)> listener);
  // Stops watching for other agents' changes (joins the watcher's thread): before the listener's
  // target goes away at shutdown.
  void StopWatching() { watcher_.reset(); }

  std::string agent_id() const;
  uint64_t config_version() const;
  const CatalogOptions& options() const { return options_; }

  // APIs.
  absl::StatusOr<v1::ApiInfo> CreateApi(v1::ApiSpec spec);
  absl::StatusOr<v1::ApiInfo> GetApi(const std::string& ref);
  absl::StatusOr<std::vector<v1::ApiInfo>> ListApis(const std::string& name_filter);
  absl::StatusOr<v1::ApiInfo> UpdateApi(const std::string& ref, const v1::ApiSpec& spec,
                                        const std::vector<std::string>& fields);
  absl::Status DeleteApi(const std::string& ref);
  absl::StatusOr<v1::ApiInfo> AddTopic(const std::string& ref, v1::Topic topic);
  absl::StatusOr<v1::ApiInfo> DeleteTopic(const std::string& ref, const std::string& topic);
  absl::StatusOr<v1::ApiInfo> SetPlans(const std::string& ref, const std::vector<std::string>& plans);
  absl::StatusOr<v1::ApiInfo> ChangeLifecycle(const std::string& ref, const std::string& action);

  // Revisions and deployments.
  absl::StatusOr<v1::Revision> CreateRevision(const std::string& ref, const std::string& description);
  absl::StatusOr<std::vector<v1::Revision>> ListRevisions(const std::string& ref);
  absl::Status DeleteRevision(const std::string& ref, uint32_t number);
  absl::StatusOr<v1::ApiInfo> RestoreRevision(const std::string& ref, uint32_t number);
  absl::StatusOr<v1::Deployment> DeployRevision(const std::string& ref, uint32_t number, std::string environment,
                                                std::string vhost);
  absl::Status UndeployRevision(const std::string& ref, uint32_t number, const std::string& environment);
  absl::StatusOr<std::vector<v1::Deployment>> ListDeployments(const std::string& ref);

  // Gateway environments (catalog_envs.cc). Names are exact; vhost names are lower-cased exact
  // host names or "*.domain" wildcards, unique within an environment, at most one is_default.
  // Every environment change is a data-plane change (engines get new vhosts, settings, certs).
  absl::StatusOr<v1::Environment> CreateEnvironment(v1::Environment env);
  absl::StatusOr<v1::Environment> GetEnvironment(const std::string& name);
  absl::StatusOr<std::vector<v1::Environment>> ListEnvironments();
  // Replaces type, description and vhosts. A vhost that has deployments cannot be removed; the
  // certificates of removed vhosts are deleted.
  absl::StatusOr<v1::Environment> UpdateEnvironment(v1::Environment env);
  // Refused while a revision is deployed to it.
  absl::Status DeleteEnvironment(const std::string& name);
  // Settings (agent/settings.h) of an environment: Get describes every key; Set applies
  // "key=value" assignments in order, all or nothing; Put replaces them (declarative apply).
  absl::StatusOr<v1::EnvironmentSettings> GetSettings(const std::string& environment);
  absl::StatusOr<v1::EnvironmentSettings> SetSettings(const std::string& environment,
                                                      const std::vector<std::string>& assignments);
  absl::StatusOr<v1::EnvironmentSettings> PutSettings(const std::string& environment,
                                                      const v1::EnvironmentSettings& settings);
  // TLS certificate of a vhost (agent/certificate.h validates it); the key never leaves the
  // catalog except to the environment's engines.
  absl::StatusOr<v1::CertificateInfo> SetCertificate(const std::string& environment, const std::string& vhost,
                                                     const std::string& cert_pem, const std::string& key_pem);
  // All environments' when `environment` is empty.
  absl::StatusOr<std::vector<v1::CertificateInfo>> ListCertificates(const std::string& environment);
  absl::Status DeleteCertificate(const std::string& environment, const std::string& vhost);

  // Applications, subscriptions, keys.
  absl::StatusOr<v1::ApplicationInfo> CreateApplication(const v1::CreateApplicationRequest& req);
  absl::StatusOr<v1::ApplicationInfo> GetApplication(const std::string& ref);
  absl::StatusOr<std::vector<v1::ApplicationInfo>> ListApplications();
  absl::StatusOr<v1::ApplicationInfo> UpdateApplication(const v1::UpdateApplicationRequest& req);
  absl::Status DeleteApplication(const std::string& ref);
  absl::StatusOr<v1::SubscriptionInfo> CreateSubscription(const std::string& app, const std::string& api,
                                                          const std::string& plan);
  absl::StatusOr<std::vector<v1::SubscriptionInfo>> ListSubscriptions(const std::string& app, const std::string& api);
  absl::StatusOr<v1::SubscriptionInfo> UpdateSubscription(const v1::UpdateSubscriptionRequest& req);
  absl::Status DeleteSubscription(const std::string& id);
  absl::StatusOr<v1::KeyPair> GenerateKeys(const std::string& app, v1::KeyType type, bool regenerate);
  absl::StatusOr<std::vector<v1::KeyPair>> ListKeys(const std::string& app);
  absl::Status DeleteKeys(const std::string& app, v1::KeyType type);
  // OAuth2 client authentication: NOT_FOUND / UNAUTHENTICATED on a bad pair (same message).
  absl::StatusOr<ClientIdentity> AuthenticateClient(const std::string& consumer_key, const std::string& secret);

  // Tokens and signing keys (catalog_tokens.cc). A token carries only the requested scopes the
  // application may have (agent/scope_grant.h), else INVALID_ARGUMENT "scope: ..." (OAuth2:
  // invalid_scope). Its format is the application's token_format; `opaque` forces an opaque one.
  // For an authenticated OAuth2 client: a token on its own consumer key.
  absl::StatusOr<v1::AccessToken> IssueTokenForClient(const std::string& consumer_key,
                                                      const std::vector<std::string>& scopes);
  absl::StatusOr<v1::AccessToken> IssueToken(const std::string& app, v1::KeyType type,
                                             const std::vector<std::string>& scopes, uint32_t ttl_s,
                                             bool opaque = false);
  // Tokens issued since this agent started, by (grant, key type): grant "admin" (IssueToken) or
  // "client_credentials" (IssueTokenForClient, the OAuth2 endpoint); key type "PRODUCTION" or
  // "SANDBOX". The agent's metrics read it (wsgate_agent_tokens_issued_total).
  std::map<std::pair<std::string, std::string>, uint64_t> TokensIssued() const;
  // Revokes by token text (a JWT or an opaque token) or jti (an opaque token's is the `jti` its
  // issuance answered). A token this agent did not issue is INVALID_ARGUMENT/NOT_FOUND.
  absl::Status RevokeToken(const std::string& token, const std::string& jti);
  // RFC 7009 revocation by a client: revokes `token` only if it was issued to `consumer_key`;
  // anything else (unknown, expired, someone else's) is quietly OK, as the RFC asks.
  absl::Status RevokeTokenOfClient(const std::string& consumer_key, const std::string& token);
  absl::StatusOr<v1::SigningKeyInfo> RotateSigningKey(v1::SigningAlgorithm alg);
  absl::StatusOr<std::vector<v1::SigningKeyInfo>> ListSigningKeys();
  // {"keys":[...]} with every key that may still verify a live token (and, issue 14 item 7,
  // every backend-signing key that may still verify a backend JWT).
  absl::StatusOr<std::string> Jwks();
  // Issue 14 item 7 (catalog_backend.cc): the backend-signing key (ES256 by default); the old one
  // stays in the JWKS until the JWTs it signed have expired. ListSigningKeys lists these too.
  absl::StatusOr<v1::SigningKeyInfo> RotateBackendKey(v1::SigningAlgorithm alg);
  absl::StatusOr<std::vector<v1::SigningKeyInfo>> ListBackendKeys();
  // The roles of an application owner, for scope role bindings (issue 14 item 1). The only place
  // roles come from: every role for the built-in `admin`, none for anyone else (until users
  // with roles exist).
  std::vector<std::string> OwnerRoles(const std::string& owner);

  // Throttle policies.
  absl::StatusOr<v1::ThrottlePolicy> CreatePolicy(const v1::ThrottlePolicy& policy);
  absl::StatusOr<std::vector<v1::ThrottlePolicy>> ListPolicies(v1::PolicyLevel level);
  absl::Status DeletePolicy(const std::string& name);

  // What the engines of `environment` should serve now: its vhosts (with certificates), the
  // revisions deployed to it, its settings; applications, keys and policies are global. Empty:
  // the default environment (CatalogOptions::environment). NOT_FOUND for an unknown one.
  absl::StatusOr<v1::Snapshot> BuildSnapshot(const std::string& environment = "");

  // Declarative configuration (catalog_apply.cc): the whole catalog without secrets, and making
  // the catalog match a document in one transaction (rolled back for a dry run or any error).
  absl::StatusOr<v1::CatalogDocument> ExportCatalog();
  absl::StatusOr<v1::ApplyCatalogResponse> ApplyCatalog(const v1::ApplyCatalogRequest& req);

  // The audit log (catalog_audit.cc): one record per admin mutation, bounded by
  // audit_max_rows / audit_max_age_s (older records are deleted as new ones arrive).
  absl::Status RecordAudit(const v1::AuditEntry& entry);
  // Newest first, from `since_unix_ms` on; at most `limit` (1-10000).
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAudit(int64_t since_unix_ms, uint32_t limit);

  // Admin users and their roles (catalog_users.cc, schema v8; issue 14 item 8). The user "admin"
  // is the data directory's admin.token (agent/paths.h), not a row: it has every role and cannot
  // be created, deleted or rotated here. Credentials are random, returned once, stored as SHA-256.
  absl::StatusOr<v1::UserCredential> CreateUser(const std::string& name, const std::vector<std::string>& roles);
  absl::StatusOr<std::vector<v1::User>> ListUsers();
  // Refused (FAILED_PRECONDITION, naming them) while the user owns applications.
  absl::Status DeleteUser(const std::string& name);
  absl::StatusOr<v1::UserCredential> RotateUserCredential(const std::string& name);
  // The user a credential belongs to; UNAUTHENTICATED for none.
  absl::StatusOr<v1::User> AuthenticateUser(const std::string& credential);
  // The roles of `user` ("admin": all of them; an unknown user: none), for role bindings.
  std::vector<std::string> UserRoles(std::string_view user);
  // Who owns what a subscriber's call names (NOT_FOUND with the catalog's own message when it
  // does not exist): an application (id or name), a subscription (id), a token (text or jti).
  absl::StatusOr<std::string> ApplicationOwner(const std::string& application);
  absl::StatusOr<std::string> SubscriptionOwner(const std::string& subscription);
  // (`jti_out`: the token's jti.)
  absl::StatusOr<std::string> TokenOwner(const std::string& token, const std::string& jti,
                                         std::string* jti_out = nullptr);

  // API keys (catalog_api_keys.cc, schema v9; issue 14 item 4). The key text is in Create's reply
  // only (the table keeps its SHA-256); every change is a data-plane change. List: "" = all.
  absl::StatusOr<v1::ApiKeyInfo> CreateApiKey(const v1::CreateApiKeyRequest& req);
  absl::StatusOr<std::vector<v1::ApiKeyInfo>> ListApiKeys(const std::string& application);
  absl::Status RevokeApiKey(const std::string& id);
  absl::StatusOr<std::string> ApiKeyOwner(const std::string& id);
  // External identity providers (catalog_idp.cc, schema v10; issue 14 item 6). Every change is a
  // data-plane change (engines get the provider with its keys and clients).
  absl::StatusOr<v1::IdentityProviderInfo> CreateIdentityProvider(v1::IdentityProviderSpec spec);
  absl::StatusOr<v1::IdentityProviderInfo> GetIdentityProvider(const std::string& name);
  absl::StatusOr<std::vector<v1::IdentityProviderInfo>> ListIdentityProviders();
  absl::StatusOr<v1::IdentityProviderInfo> UpdateIdentityProvider(const v1::UpdateIdentityProviderRequest& req);
  // FAILED_PRECONDITION while clients are registered with it.
  absl::Status DeleteIdentityProvider(const std::string& name);
  absl::StatusOr<v1::IdpClient> RegisterIdpClient(const v1::RegisterIdpClientRequest& req);
  absl::Status UnregisterIdpClient(const v1::UnregisterIdpClientRequest& req);
  absl::StatusOr<std::vector<v1::IdpClient>> ListIdpClients(const std::string& application);
  // For agent/jwks_fetcher.h: every provider's (name, jwks_url), and the outcome of one fetch of
  // `jwks_url` (ignored when the provider is gone or its URL changed meanwhile): `keys` (sorted
  // by kid) on success, else `error` (the last good keys stay). Only a changed key set is a
  // data-plane change.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> IdpFetchTargets();
  absl::Status RecordIdpFetch(const std::string& name, const std::string& jwks_url,
                              const std::vector<v1::SigningKey>* keys, const std::string& error, int64_t next_fetch_ms);

 private:
  explicit Catalog(CatalogOptions options) : options_(std::move(options)) {}
  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Seed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Schema v3: environments (seeded with the default one from options_) and certificates.
  absl::Status MigrateEnvironments(const char* schema_v3) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Schema v5: declares, in every stored API spec and revision, the scopes its topics name.
  absl::Status MigrateScopes() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Environment> LoadEnvironment(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::EnvironmentSettings> LoadSettings(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SaveSettings(const std::string& name, v1::EnvironmentSettings& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Vhosts, settings and certificates of `environment` into `s`.
  absl::Status AddEnvironmentToSnapshot(const std::string& environment, v1::Snapshot& s)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs fn in one transaction; when `data_plane`, bumps the config version and, after the
  // commit, calls the listener.
  absl::Status Mutate(bool data_plane, const std::function<absl::Status()>& fn);

  struct ApiRow {
    std::string id;
    v1::ApiSpec spec;
    v1::LifecycleState state = v1::CREATED;
    int64_t created_ms = 0, updated_ms = 0;
    uint32_t next_revision = 1;
  };
  absl::StatusOr<ApiRow> LoadApi(const std::string& ref) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SaveApi(const ApiRow& row) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::ApiInfo> Info(const ApiRow& row) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The shape of every edit of the current API: load it, let `edit` change it, validate the spec
  // (when `validate`), save it, return its info; one transaction.
  absl::StatusOr<v1::ApiInfo> EditApi(const std::string& ref, bool data_plane, bool validate,
                                      const std::function<absl::Status(ApiRow&)>& edit);
  absl::Status ValidateSpec(v1::ApiSpec& spec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::ApplicationInfo> LoadApplication(const std::string& ref) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::SubscriptionInfo> LoadSubscription(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool PolicyExists(const std::string& name, v1::PolicyLevel level) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::unique_ptr<SigningKey>> ActiveKey() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertSigningKey(const SigningKey& key, bool active) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Issue 14 item 7 (catalog_backend.cc).
  absl::Status MigrateBackendKeys(const char* schema_v11) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertBackendKey(v1::SigningAlgorithm alg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AddBackendJwks(Json& keys) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AddBackendKeyToSnapshot(v1::Snapshot& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::AccessToken> IssueTokenLocked(const std::string& application_id, const std::string& consumer_key,
                                                   v1::KeyType type, const std::vector<std::string>& scopes,
                                                   uint32_t ttl_s, bool opaque) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The key a token is issued on, found by `resolve` (under the lock) in IssueFor.
  struct KeyOwner {
    std::string application_id, consumer_key;
    v1::KeyType key_type = v1::PRODUCTION;
  };
  // `grant` ("admin", "client_credentials") labels the count TokensIssued() keeps.
  absl::StatusOr<v1::AccessToken> IssueFor(const std::string& grant, const std::function<absl::StatusOr<KeyOwner>()>& resolve,
                                           const std::vector<std::string>& scopes, uint32_t ttl_s, bool opaque);
  // The scopes declared by the APIs `application_id` is subscribed to (not ON_HOLD).
  absl::StatusOr<std::vector<DeclaredScope>> DeclaredScopesOf(const std::string& application_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The live opaque tokens' hashes into `s`.
  absl::Status AddOpaqueTokensToSnapshot(int64_t now_s, v1::Snapshot& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // API keys (catalog_api_keys.cc) matching `where` (SQL over api_keys k; `arg` binds its one ?).
  absl::StatusOr<std::vector<v1::ApiKeyInfo>> LoadApiKeys(const std::string& where, const std::string& arg)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The unexpired API keys' hashes and restrictions into `s`.
  absl::Status AddApiKeysToSnapshot(int64_t now_s, v1::Snapshot& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Status AddIdentityProvidersToSnapshot(v1::Snapshot& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::IdentityProviderInfo> LoadIdentityProvider(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckIdpSpec(v1::IdentityProviderSpec& spec) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ApplyCatalog's identity_providers step (inside its transaction): create or update each
  // declared one, and with `prune` delete the undeclared.
  absl::Status ApplyIdentityProviders(const v1::CatalogDocument& doc, bool prune, v1::ApplyCatalogResponse& resp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // catalog_apply.cc's steps (each runs inside ApplyCatalog's transaction).
  class Applier;
  friend class Applier;
  // True while ApplyCatalog runs: nested Mutate()s do not notify the listener; ApplyCatalog does,
  // once, after its commit.
  bool applying_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::pair<std::string, std::string>, uint64_t> tokens_issued_ ABSL_GUARDED_BY(mu_);

  CatalogOptions options_;
  // Recursive so that ApplyCatalog (catalog_apply.cc) can run the public mutations inside its one
  // transaction; their Transactions nest as SAVEPOINTs (agent/store.h).
  mutable std::recursive_mutex mu_;
  Db db_ ABSL_GUARDED_BY(mu_);
  std::string agent_id_;
  std::function<void(uint64_t)> listener_;
  // Several agents on one PostgreSQL catalog (issue 19 item 2): each data-plane commit NOTIFYs
  // kCatalogChannel; the watcher (its own connection and thread) calls CheckVersion on every
  // notification and every 2 s, which calls the listener when the version passed the last one it
  // was called with (this agent's own commits set it directly).
  void CheckVersion();
  uint64_t notified_version_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<StoreWatcher> watcher_;  // last: its thread stops before the rest is destroyed
};

// Parses "Name:Version" (the CLI's API reference); false when there is no ':'.
bool SplitApiRef(const std::string& ref, std::string* name, std::string* version);

}  // namespace wsgate::agent
