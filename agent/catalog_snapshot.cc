// File: agent/catalog_snapshot.cc — the snapshot an engine serves, built from the catalog in one
// read-only transaction: the environment's vhosts and settings, deployed revisions, applications,
// subscriptions, keys, signing keys, revocations, policies, and each credential kind's rows
// (catalog_tokens.cc, catalog_api_keys.cc, catalog_backend.cc, catalog_idp.cc).
#include "absl/strings/str_cat.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {

absl::StatusOr<v1::Snapshot> Catalog::BuildSnapshot(const std::string& environment_in) {
  const std::string& environment = environment_in.empty() ? options_.environment : environment_in;
  std::lock_guard lock(mu_);
  // Every SELECT below reads one snapshot: with several agents, another agent's commit in the
  // middle must not give a snapshot labelled N that holds part of N+1. Read-only: rolled back.
  Transaction read(db_);
  WSGATE_RETURN_IF_ERROR(read.BeginRead());
  v1::Snapshot s;
  Statement version = db_.Prepare("SELECT value FROM meta WHERE key = 'config_version'");
  if (version.Next()) s.set_version(std::stoull(version.Text(0)));
  s.set_agent_id(agent_id_);
  s.set_created_unix_ms(NowMs());
  s.mutable_token_validation()->set_issuer(options_.issuer);
  WSGATE_RETURN_IF_ERROR(AddEnvironmentToSnapshot(environment, s));  // vhosts, certificates, settings

  // Deployed revisions of APIs in a serving (or blocked) state.
  Statement deployed = db_.Prepare(
      "SELECT a.id, a.state, d.revision, d.vhost, r.spec FROM deployments d JOIN apis a ON a.id = d.api_id "
      "JOIN revisions r ON r.api_id = d.api_id AND r.number = d.revision WHERE d.environment = ? ORDER BY a.id");
  deployed.Bind(1, environment);
  while (deployed.Next()) {
    auto state = static_cast<v1::LifecycleState>(deployed.Int(1));
    if (state == v1::CREATED || state == v1::RETIRED) continue;
    v1::ApiSpec spec;
    spec.ParseFromString(deployed.Text(4));
    v1::Api* api = s.add_apis();
    api->set_id(deployed.Text(0));
    api->set_name(spec.name());
    api->set_context(spec.context());
    api->set_version(spec.version());
    api->set_revision(static_cast<uint32_t>(deployed.Int(2)));
    api->set_is_default_version(spec.is_default_version());
    api->set_state(state);
    if (!spec.production_endpoint().url().empty()) *api->mutable_production_endpoint() = spec.production_endpoint();
    if (!spec.sandbox_endpoint().url().empty()) *api->mutable_sandbox_endpoint() = spec.sandbox_endpoint();
    *api->mutable_topics() = spec.topics();
    api->add_vhosts(deployed.Text(3));
    api->set_throttle_policy(spec.throttle_policy());
    *api->mutable_plans() = spec.plans();
    if (spec.has_access()) *api->mutable_access() = spec.access();
    if (spec.has_backend()) *api->mutable_backend() = spec.backend();
    api->set_max_message_bytes(spec.max_message_bytes());
    api->set_idle_timeout_ms(spec.idle_timeout_ms());
    api->set_max_lifetime_ms(spec.max_lifetime_ms());
    api->set_handshake_rate(spec.handshake_rate());
    api->set_handshake_burst(spec.handshake_burst());
    *api->mutable_security_schemes() = spec.security();
  }
  WSGATE_RETURN_IF_ERROR(deployed.status());

  Statement apps = db_.Prepare("SELECT id, name, owner, blocked, throttle_policy FROM applications");
  while (apps.Next()) {
    v1::Application* a = s.add_applications();
    a->set_id(apps.Text(0));
    a->set_name(apps.Text(1));
    a->set_owner(apps.Text(2));
    a->set_blocked(apps.Int(3) != 0);
    a->set_throttle_policy(apps.Text(4));
  }
  Statement subs = db_.Prepare("SELECT id, application_id, api_id, plan, state FROM subscriptions");
  while (subs.Next()) {
    v1::Subscription* sub = s.add_subscriptions();
    sub->set_id(subs.Text(0));
    sub->set_application_id(subs.Text(1));
    sub->set_api_id(subs.Text(2));
    sub->set_plan(subs.Text(3));
    sub->set_state(static_cast<v1::SubscriptionState>(subs.Int(4)));
  }
  Statement keys = db_.Prepare("SELECT consumer_key, application_id, key_type FROM consumer_keys");
  while (keys.Next()) {
    v1::ConsumerKey* k = s.add_consumer_keys();
    k->set_client_id(keys.Text(0));
    k->set_application_id(keys.Text(1));
    k->set_key_type(static_cast<v1::KeyType>(keys.Int(2)));
  }
  int64_t now = NowS();
  Statement signing = db_.Prepare(
      "SELECT kid, algorithm, public_pem, retire_after_s FROM signing_keys WHERE active = 1 OR retire_after_s > ?");
  signing.Bind(1, now);
  while (signing.Next()) {
    v1::SigningKey* k = s.add_signing_keys();
    k->set_kid(signing.Text(0));
    k->set_algorithm(static_cast<v1::SigningAlgorithm>(signing.Int(1)));
    k->set_public_key_pem(signing.Text(2));
    k->set_retire_after_unix_s(signing.Int(3));
  }
  Statement revoked = db_.Prepare("SELECT jti, expires_s FROM revoked_tokens WHERE expires_s > ?");
  revoked.Bind(1, now - 60);
  while (revoked.Next()) {
    v1::RevokedToken* r = s.add_revoked_tokens();
    r->set_jti(revoked.Text(0));
    r->set_expires_unix_s(revoked.Int(1));
  }
  Statement policies = db_.Prepare("SELECT policy FROM policies");
  while (policies.Next()) s.add_throttle_policies()->ParseFromString(policies.Text(0));
  WSGATE_RETURN_IF_ERROR(AddOpaqueTokensToSnapshot(now, s));  // catalog_tokens.cc
  WSGATE_RETURN_IF_ERROR(AddApiKeysToSnapshot(now, s));       // catalog_api_keys.cc
  WSGATE_RETURN_IF_ERROR(AddBackendKeyToSnapshot(s));         // catalog_backend.cc
  WSGATE_RETURN_IF_ERROR(AddIdentityProvidersToSnapshot(s));  // catalog_idp.cc
  return s;
}

}  // namespace wsgate::agent
