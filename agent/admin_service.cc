// File: agent/admin_service.cc
#include "agent/admin_service.h"

#include <algorithm>
#include <set>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "agent/signer.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  return s.ok() ? grpc::Status::OK
                : grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

template <typename T, typename Repeated>
absl::Status Fill(absl::StatusOr<std::vector<T>> items, Repeated* out) {
  if (!items.ok()) return items.status();
  for (auto& item : *items) *out->Add() = std::move(item);
  return absl::OkStatus();
}

template <typename T>
absl::Status Set(absl::StatusOr<T> value, T* out) {
  if (!value.ok()) return value.status();
  *out = *std::move(value);
  return absl::OkStatus();
}

// For a caller limited to its own applications: drops the entries of `items` (each with an
// application_id) whose application another user owns.
template <typename Repeated>
absl::Status KeepOwnApplications(Catalog& catalog, const Caller& caller, Repeated* items) {
  if (!caller.owns_only()) return absl::OkStatus();
  std::set<std::string> own;
  WSGATE_ASSIGN_OR_RETURN(auto apps, catalog.ListApplications());
  for (const auto& a : apps)
    if (a.owner() == caller.name) own.insert(a.id());
  items->erase(std::remove_if(items->begin(), items->end(), [&](const auto& x) { return !own.count(x.application_id()); }),
               items->end());
  return absl::OkStatus();
}

}  // namespace

AdminService::AdminService(Catalog& catalog, Pusher& pusher, ConnectionFanout& connections,
                           std::string admin_credential, const CallMethods& methods)
    : catalog_(catalog),
      pusher_(pusher),
      connections_(connections),
      credential_(std::move(admin_credential)),
      methods_(methods) {}

template <typename Fn>
grpc::Status AdminService::Call(grpc::ServerContext* ctx, Fn&& fn) {
  absl::StatusOr<Caller> caller = Authorize(catalog_, credential_, methods_, ctx);
  if (caller.status().code() == absl::StatusCode::kUnauthenticated) {
    auth_failures_.Warn(absl::StrCat("peer ", ctx->peer(), ": ", caller.status().message()));
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing or wrong admin credential: send metadata 'authorization: Bearer <credential>' (the "
                        "contents of DATA_DIR/admin.token, or a user's from `wsgatectl user create`; wsgatectl reads "
                        "it from --data-dir, --credential-file or WSGATE_ADMIN_TOKEN)");
  }
  if (!caller.ok()) return ToGrpc(caller.status());
  if constexpr (std::is_invocable_v<Fn, const Caller&>) {
    return ToGrpc(fn(*caller));
  } else {
    // A handler that never sees the caller cannot limit it to its own applications.
    if (caller->own_applications_only)
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "this call is admin only until its handler checks application ownership (agent/roles.cc)");
    return ToGrpc(fn());
  }
}

absl::Status AdminService::Own(const Caller& caller, const absl::StatusOr<std::string>& owner, absl::Status not_found) {
  if (!owner.ok()) return owner.status();
  if (!caller.owns_only() || *owner == caller.name) return absl::OkStatus();
  return not_found;
}

absl::Status AdminService::OwnApplication(const Caller& caller, const std::string& application) {
  if (!caller.owns_only()) return absl::OkStatus();
  return Own(caller, catalog_.ApplicationOwner(application),
             absl::NotFoundError(absl::StrCat("application: no application '", application, "' (see `wsgatectl app list`)")));
}

#define WSGATE_RPC(Name, Req, Resp) grpc::Status AdminService::Name(grpc::ServerContext* ctx, const Req* req, Resp* resp)

WSGATE_RPC(CreateApi, v1::CreateApiRequest, v1::ApiInfo) {
  return Call(ctx, [&] { return Set(catalog_.CreateApi(req->spec()), resp); });
}
WSGATE_RPC(GetApi, v1::ApiRef, v1::ApiInfo) {
  return Call(ctx, [&] { return Set(catalog_.GetApi(req->api()), resp); });
}
WSGATE_RPC(ListApis, v1::ListApisRequest, v1::ListApisResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListApis(req->name_filter()), resp->mutable_apis()); });
}
WSGATE_RPC(UpdateApi, v1::UpdateApiRequest, v1::ApiInfo) {
  return Call(ctx, [&] {
    return Set(catalog_.UpdateApi(req->api(), req->spec(), {req->update_fields().begin(), req->update_fields().end()}),
               resp);
  });
}
WSGATE_RPC(DeleteApi, v1::ApiRef, v1::Empty) {
  return Call(ctx, [&] { return catalog_.DeleteApi(req->api()); });
}
WSGATE_RPC(AddTopic, v1::AddTopicRequest, v1::ApiInfo) {
  return Call(ctx, [&] { return Set(catalog_.AddTopic(req->api(), req->topic()), resp); });
}
WSGATE_RPC(DeleteTopic, v1::DeleteTopicRequest, v1::ApiInfo) {
  return Call(ctx, [&] { return Set(catalog_.DeleteTopic(req->api(), req->topic()), resp); });
}
WSGATE_RPC(SetPlans, v1::SetPlansRequest, v1::ApiInfo) {
  return Call(ctx, [&] { return Set(catalog_.SetPlans(req->api(), {req->plans().begin(), req->plans().end()}), resp); });
}
WSGATE_RPC(ChangeLifecycle, v1::ChangeLifecycleRequest, v1::ApiInfo) {
  return Call(ctx, [&] { return Set(catalog_.ChangeLifecycle(req->api(), req->action()), resp); });
}
WSGATE_RPC(CreateRevision, v1::CreateRevisionRequest, v1::Revision) {
  return Call(ctx, [&] { return Set(catalog_.CreateRevision(req->api(), req->description()), resp); });
}
WSGATE_RPC(ListRevisions, v1::ApiRef, v1::ListRevisionsResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListRevisions(req->api()), resp->mutable_revisions()); });
}
WSGATE_RPC(DeleteRevision, v1::RevisionRef, v1::Empty) {
  return Call(ctx, [&] { return catalog_.DeleteRevision(req->api(), req->revision()); });
}
WSGATE_RPC(RestoreRevision, v1::RevisionRef, v1::ApiInfo) {
  return Call(ctx, [&] { return Set(catalog_.RestoreRevision(req->api(), req->revision()), resp); });
}
WSGATE_RPC(DeployRevision, v1::DeployRevisionRequest, v1::Deployment) {
  return Call(ctx, [&] {
    WSGATE_RETURN_IF_ERROR(
        Set(catalog_.DeployRevision(req->api(), req->revision(), req->environment(), req->vhost()), resp));
    if (!pusher_.ServesEnvironment(resp->environment()))
      resp->set_warning(absl::StrCat("no engine is registered to environment '", resp->environment(),
                                     "': nothing serves this deployment until one is (wsgate-agent --engine unix:PATH@",
                                     resp->environment(), ")"));
    return absl::OkStatus();
  });
}
WSGATE_RPC(UndeployRevision, v1::UndeployRevisionRequest, v1::Empty) {
  return Call(ctx, [&] { return catalog_.UndeployRevision(req->api(), req->revision(), req->environment()); });
}
WSGATE_RPC(ListDeployments, v1::ApiRef, v1::ListDeploymentsResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListDeployments(req->api()), resp->mutable_deployments()); });
}
// Applications, subscriptions, keys, tokens: a caller other than admin sees and changes only the
// applications it owns (roles.h's own_applications); another user's answer NOT_FOUND, as if absent.
WSGATE_RPC(CreateApplication, v1::CreateApplicationRequest, v1::ApplicationInfo) {
  return Call(ctx, [&](const Caller& caller) -> absl::Status {
    v1::CreateApplicationRequest own = *req;
    if (caller.owns_only()) {
      if (!req->owner().empty() && req->owner() != caller.name)
        return absl::PermissionDeniedError(absl::StrCat("owner: only admin creates applications for another user ('",
                                                        req->owner(), "'); leave it empty to own it yourself"));
      if (!req->scopes().empty())
        return absl::PermissionDeniedError("scopes: only admin grants scopes to an application (ask one to run "
                                           "`wsgatectl app update APP --scopes ...`)");
      own.set_owner(caller.name);
    }
    return Set(catalog_.CreateApplication(own), resp);
  });
}
WSGATE_RPC(GetApplication, v1::ApplicationRef, v1::ApplicationInfo) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return Set(catalog_.GetApplication(req->application()), resp);
  });
}
WSGATE_RPC(ListApplications, v1::ListApplicationsRequest, v1::ListApplicationsResponse) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(Fill(catalog_.ListApplications(), resp->mutable_applications()));
    if (caller.owns_only()) {
      auto* apps = resp->mutable_applications();
      apps->erase(std::remove_if(apps->begin(), apps->end(), [&](const auto& a) { return a.owner() != caller.name; }),
                  apps->end());
    }
    return absl::OkStatus();
  });
}
WSGATE_RPC(UpdateApplication, v1::UpdateApplicationRequest, v1::ApplicationInfo) {
  return Call(ctx, [&](const Caller& caller) -> absl::Status {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    if (caller.owns_only() && (req->has_scopes() || req->has_blocked()))
      return absl::PermissionDeniedError(absl::StrCat(req->has_scopes() ? "scopes" : "blocked",
                                                      ": only admin grants scopes to or blocks an application"));
    return Set(catalog_.UpdateApplication(*req), resp);
  });
}
WSGATE_RPC(DeleteApplication, v1::ApplicationRef, v1::Empty) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return catalog_.DeleteApplication(req->application());
  });
}
WSGATE_RPC(CreateSubscription, v1::CreateSubscriptionRequest, v1::SubscriptionInfo) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return Set(catalog_.CreateSubscription(req->application(), req->api(), req->plan()), resp);
  });
}
WSGATE_RPC(ListSubscriptions, v1::ListSubscriptionsRequest, v1::ListSubscriptionsResponse) {
  return Call(ctx, [&](const Caller& caller) {
    if (!req->application().empty()) WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    WSGATE_RETURN_IF_ERROR(
        Fill(catalog_.ListSubscriptions(req->application(), req->api()), resp->mutable_subscriptions()));
    return KeepOwnApplications(catalog_, caller, resp->mutable_subscriptions());
  });
}
static absl::Status NoToken(const std::string& jti) {
  return absl::NotFoundError(absl::StrCat("jti: no live token with jti '", jti, "' was issued by this agent"));
}
static absl::Status NoSubscription(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("subscription: no subscription '", id, "'"));
}
WSGATE_RPC(UpdateSubscription, v1::UpdateSubscriptionRequest, v1::SubscriptionInfo) {
  return Call(ctx, [&](const Caller& caller) -> absl::Status {
    WSGATE_RETURN_IF_ERROR(Own(caller, catalog_.SubscriptionOwner(req->subscription()), NoSubscription(req->subscription())));
    if (caller.owns_only() && req->has_state())
      return absl::PermissionDeniedError("state: only admin blocks or unblocks a subscription");
    return Set(catalog_.UpdateSubscription(*req), resp);
  });
}
WSGATE_RPC(DeleteSubscription, v1::SubscriptionRef, v1::Empty) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(Own(caller, catalog_.SubscriptionOwner(req->subscription()), NoSubscription(req->subscription())));
    return catalog_.DeleteSubscription(req->subscription());
  });
}
WSGATE_RPC(GenerateKeys, v1::GenerateKeysRequest, v1::KeyPair) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return Set(catalog_.GenerateKeys(req->application(), req->key_type(), req->regenerate()), resp);
  });
}
WSGATE_RPC(ListKeys, v1::ApplicationRef, v1::ListKeysResponse) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    WSGATE_RETURN_IF_ERROR(Fill(catalog_.ListKeys(req->application()), resp->mutable_keys()));
    return Fill(catalog_.ListIdpClients(req->application()), resp->mutable_idp_clients());
  });
}
WSGATE_RPC(DeleteKeys, v1::DeleteKeysRequest, v1::Empty) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return catalog_.DeleteKeys(req->application(), req->key_type());
  });
}
WSGATE_RPC(IssueToken, v1::IssueTokenRequest, v1::AccessToken) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return Set(catalog_.IssueToken(req->application(), req->key_type(), {req->scopes().begin(), req->scopes().end()},
                                   req->ttl_s(), req->opaque()),
               resp);
  });
}
WSGATE_RPC(RevokeToken, v1::RevokeTokenRequest, v1::Empty) {
  return Call(ctx, [&](const Caller& caller) -> absl::Status {
    if (caller.owns_only()) {
      std::string jti;
      absl::StatusOr<std::string> owner = catalog_.TokenOwner(req->token(), req->jti(), &jti);
      // Another user's token: as if this agent never issued it.
      WSGATE_RETURN_IF_ERROR(Own(caller, owner, NoToken(jti)));
    }
    return catalog_.RevokeToken(req->token(), req->jti());
  });
}
WSGATE_RPC(RotateSigningKey, v1::RotateSigningKeyRequest, v1::SigningKeyInfo) {
  return Call(ctx, [&] {
    return Set(req->backend() ? catalog_.RotateBackendKey(req->algorithm()) : catalog_.RotateSigningKey(req->algorithm()),
               resp);
  });
}
WSGATE_RPC(ListSigningKeys, v1::Empty, v1::ListSigningKeysResponse) {
  return Call(ctx, [&]() -> absl::Status {
    absl::Status s = Fill(catalog_.ListSigningKeys(), resp->mutable_keys());
    if (!s.ok()) return s;
    v1::ListSigningKeysResponse backend;  // issue 14 item 7: the backend-signing keys after them
    s = Fill(catalog_.ListBackendKeys(), backend.mutable_keys());
    for (auto& k : *backend.mutable_keys()) *resp->add_keys() = std::move(k);
    return s;
  });
}
WSGATE_RPC(CreateThrottlePolicy, v1::ThrottlePolicy, v1::ThrottlePolicy) {
  return Call(ctx, [&] { return Set(catalog_.CreatePolicy(*req), resp); });
}
WSGATE_RPC(ListThrottlePolicies, v1::ListThrottlePoliciesRequest, v1::ListThrottlePoliciesResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListPolicies(req->level()), resp->mutable_policies()); });
}
WSGATE_RPC(DeleteThrottlePolicy, v1::ThrottlePolicyRef, v1::Empty) {
  return Call(ctx, [&] { return catalog_.DeletePolicy(req->name()); });
}
WSGATE_RPC(ListEnvironments, v1::Empty, v1::ListEnvironmentsResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListEnvironments(), resp->mutable_environments()); });
}
WSGATE_RPC(GetStatus, v1::Empty, v1::AgentStatus) {
  return Call(ctx, [&] {
    resp->set_agent_id(catalog_.agent_id());
    resp->set_config_version(catalog_.config_version());
    resp->set_version(WSGATE_VERSION);
    pusher_.Refresh(2000);  // report what the engines say now, not at the last poll
    for (auto& e : pusher_.Status()) *resp->add_engines() = std::move(e);
    return absl::OkStatus();
  });
}

// Declarative configuration (cfg-decl).
WSGATE_RPC(ExportCatalog, v1::Empty, v1::CatalogDocument) {
  return Call(ctx, [&] { return Set(catalog_.ExportCatalog(), resp); });
}
WSGATE_RPC(ApplyCatalog, v1::ApplyCatalogRequest, v1::ApplyCatalogResponse) {
  return Call(ctx, [&] { return Set(catalog_.ApplyCatalog(*req), resp); });
}
WSGATE_RPC(CreateEnvironment, v1::Environment, v1::Environment) {
  return Call(ctx, [&] { return Set(catalog_.CreateEnvironment(*req), resp); });
}
WSGATE_RPC(GetEnvironment, v1::EnvironmentRef, v1::Environment) {
  return Call(ctx, [&] { return Set(catalog_.GetEnvironment(req->name()), resp); });
}
WSGATE_RPC(UpdateEnvironment, v1::Environment, v1::Environment) {
  return Call(ctx, [&] { return Set(catalog_.UpdateEnvironment(*req), resp); });
}
WSGATE_RPC(DeleteEnvironment, v1::EnvironmentRef, v1::Empty) {
  return Call(ctx, [&] { return catalog_.DeleteEnvironment(req->name()); });
}
WSGATE_RPC(GetSettings, v1::EnvironmentRef, v1::EnvironmentSettings) {
  return Call(ctx, [&] { return Set(catalog_.GetSettings(req->name()), resp); });
}
WSGATE_RPC(SetSettings, v1::SetSettingsRequest, v1::EnvironmentSettings) {
  return Call(ctx, [&] {
    return Set(catalog_.SetSettings(req->environment(), {req->assignments().begin(), req->assignments().end()}), resp);
  });
}
WSGATE_RPC(SetCertificate, v1::SetCertificateRequest, v1::CertificateInfo) {
  return Call(ctx, [&] {
    return Set(catalog_.SetCertificate(req->environment(), req->vhost(), req->cert_pem(), req->key_pem()), resp);
  });
}
WSGATE_RPC(ListCertificates, v1::EnvironmentRef, v1::ListCertificatesResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListCertificates(req->name()), resp->mutable_certificates()); });
}
WSGATE_RPC(DeleteCertificate, v1::CertificateRef, v1::Empty) {
  return Call(ctx, [&] { return catalog_.DeleteCertificate(req->environment(), req->vhost()); });
}
WSGATE_RPC(ListConnections, v1::AdminListConnectionsRequest, v1::AdminListConnectionsResponse) {
  return Call(ctx, [&] { return Set(connections_.List(*req), resp); });
}
WSGATE_RPC(GetConnection, v1::ConnectionRef, v1::AdminConnection) {
  return Call(ctx, [&] { return Set(connections_.Get(req->id()), resp); });
}
WSGATE_RPC(SendToConnection, v1::AdminSendRequest, v1::SendToConnectionResponse) {
  return Call(ctx, [&] { return Set(connections_.Send(*req), resp); });
}
WSGATE_RPC(CloseConnection, v1::AdminCloseRequest, v1::Empty) {
  return Call(ctx, [&] { return connections_.Close(*req); });
}

WSGATE_RPC(ListAudit, v1::ListAuditRequest, v1::ListAuditResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListAudit(req->since_unix_ms(), req->limit()), resp->mutable_entries()); });
}

WSGATE_RPC(GetUsage, v1::AdminUsageRequest, v1::AdminUsageResponse) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return Set(connections_.Usage(*req), resp);
  });
}

// Admin users (issue 14 item 8, roles).
WSGATE_RPC(CreateUser, v1::CreateUserRequest, v1::UserCredential) {
  return Call(ctx, [&] { return Set(catalog_.CreateUser(req->name(), {req->roles().begin(), req->roles().end()}), resp); });
}
WSGATE_RPC(ListUsers, v1::Empty, v1::ListUsersResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListUsers(), resp->mutable_users()); });
}
WSGATE_RPC(DeleteUser, v1::UserRef, v1::Empty) {
  return Call(ctx, [&] { return catalog_.DeleteUser(req->name()); });
}
WSGATE_RPC(RotateUserCredential, v1::UserRef, v1::UserCredential) {
  return Call(ctx, [&] { return Set(catalog_.RotateUserCredential(req->name()), resp); });
}
WSGATE_RPC(GetCurrentUser, v1::Empty, v1::User) {
  return Call(ctx, [&](const Caller& caller) {
    resp->set_name(caller.name);
    for (auto& r : RoleNames(caller.roles)) resp->add_roles(std::move(r));
    return absl::OkStatus();
  });
}

WSGATE_RPC(GetEngineSnapshot, v1::EnvironmentRef, v1::Snapshot) {
  return Call(ctx, [&] { return Set(catalog_.BuildSnapshot(req->name()), resp); });
}

WSGATE_RPC(GetTraffic, v1::GetTrafficRequest, v1::GetTrafficResponse) {
  return Call(ctx, [&] { return Set(connections_.Traffic(*req), resp); });
}

// API keys (issue 14 item 4): like keys, a subscriber's own applications' only; another user's
// key answers NOT_FOUND, as if absent.
WSGATE_RPC(CreateApiKey, v1::CreateApiKeyRequest, v1::ApiKeyInfo) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return Set(catalog_.CreateApiKey(*req), resp);
  });
}
WSGATE_RPC(ListApiKeys, v1::ListApiKeysRequest, v1::ListApiKeysResponse) {
  return Call(ctx, [&](const Caller& caller) -> absl::Status {
    if (!req->application().empty()) WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    WSGATE_RETURN_IF_ERROR(Fill(catalog_.ListApiKeys(req->application()), resp->mutable_keys()));
    return KeepOwnApplications(catalog_, caller, resp->mutable_keys());
  });
}
WSGATE_RPC(RevokeApiKey, v1::ApiKeyRef, v1::Empty) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(Own(caller, catalog_.ApiKeyOwner(req->id()),
                               absl::NotFoundError(absl::StrCat("api key: no API key '", req->id(),
                                                                "' (see `wsgatectl apikey list`)"))));
    return catalog_.RevokeApiKey(req->id());
  });
}
// External identity providers (issue 14 item 6).
WSGATE_RPC(CreateIdentityProvider, v1::IdentityProviderSpec, v1::IdentityProviderInfo) {
  return Call(ctx, [&] { return Set(catalog_.CreateIdentityProvider(*req), resp); });
}
WSGATE_RPC(GetIdentityProvider, v1::IdentityProviderRef, v1::IdentityProviderInfo) {
  return Call(ctx, [&] { return Set(catalog_.GetIdentityProvider(req->name()), resp); });
}
WSGATE_RPC(ListIdentityProviders, v1::Empty, v1::ListIdentityProvidersResponse) {
  return Call(ctx, [&] { return Fill(catalog_.ListIdentityProviders(), resp->mutable_identity_providers()); });
}
WSGATE_RPC(UpdateIdentityProvider, v1::UpdateIdentityProviderRequest, v1::IdentityProviderInfo) {
  return Call(ctx, [&] { return Set(catalog_.UpdateIdentityProvider(*req), resp); });
}
WSGATE_RPC(DeleteIdentityProvider, v1::IdentityProviderRef, v1::Empty) {
  return Call(ctx, [&] { return catalog_.DeleteIdentityProvider(req->name()); });
}
WSGATE_RPC(RegisterIdpClient, v1::RegisterIdpClientRequest, v1::IdpClient) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return Set(catalog_.RegisterIdpClient(*req), resp);
  });
}
WSGATE_RPC(UnregisterIdpClient, v1::UnregisterIdpClientRequest, v1::Empty) {
  return Call(ctx, [&](const Caller& caller) {
    WSGATE_RETURN_IF_ERROR(OwnApplication(caller, req->application()));
    return catalog_.UnregisterIdpClient(*req);
  });
}

#undef WSGATE_RPC

}  // namespace wsgate::agent
