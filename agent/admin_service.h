// File: agent/admin_service.h
//
// The agent's gRPC admin API (wsgate.v1.Admin), a thin layer over Catalog: it checks the caller's
// credential on every call (metadata `authorization: Bearer <credential>`: the data directory's
// admin.token, or a user's; a failure is logged, rate limited, with the peer) and the roles the
// RPC needs (agent/roles.h's table; admin_auth.h), limits a subscriber to its own applications,
// and maps absl::Status to grpc::Status one to one. Served with server reflection so generic gRPC
// tools work.
//
// Thread-safe (gRPC calls it from its own threads; Catalog serializes).
#pragma once

#include <memory>
#include <string>

#include "agent/admin_auth.h"
#include "agent/audit_log.h"
#include "agent/catalog.h"
#include "agent/connections.h"
#include "agent/pusher.h"
#include "wsgate/v1/admin.grpc.pb.h"

namespace wsgate::agent {

class AdminService final : public v1::Admin::Service {
 public:
  // `methods` is the registry whose Factory() is among the server's interceptors.
  AdminService(Catalog& catalog, Pusher& pusher, ConnectionFanout& connections, std::string admin_credential,
               const CallMethods& methods);

  grpc::Status CreateApi(grpc::ServerContext*, const v1::CreateApiRequest*, v1::ApiInfo*) override;
  grpc::Status GetApi(grpc::ServerContext*, const v1::ApiRef*, v1::ApiInfo*) override;
  grpc::Status ListApis(grpc::ServerContext*, const v1::ListApisRequest*, v1::ListApisResponse*) override;
  grpc::Status UpdateApi(grpc::ServerContext*, const v1::UpdateApiRequest*, v1::ApiInfo*) override;
  grpc::Status DeleteApi(grpc::ServerContext*, const v1::ApiRef*, v1::Empty*) override;
  grpc::Status AddTopic(grpc::ServerContext*, const v1::AddTopicRequest*, v1::ApiInfo*) override;
  grpc::Status DeleteTopic(grpc::ServerContext*, const v1::DeleteTopicRequest*, v1::ApiInfo*) override;
  grpc::Status SetPlans(grpc::ServerContext*, const v1::SetPlansRequest*, v1::ApiInfo*) override;
  grpc::Status ChangeLifecycle(grpc::ServerContext*, const v1::ChangeLifecycleRequest*, v1::ApiInfo*) override;
  grpc::Status CreateRevision(grpc::ServerContext*, const v1::CreateRevisionRequest*, v1::Revision*) override;
  grpc::Status ListRevisions(grpc::ServerContext*, const v1::ApiRef*, v1::ListRevisionsResponse*) override;
  grpc::Status DeleteRevision(grpc::ServerContext*, const v1::RevisionRef*, v1::Empty*) override;
  grpc::Status RestoreRevision(grpc::ServerContext*, const v1::RevisionRef*, v1::ApiInfo*) override;
  grpc::Status DeployRevision(grpc::ServerContext*, const v1::DeployRevisionRequest*, v1::Deployment*) override;
  grpc::Status UndeployRevision(grpc::ServerContext*, const v1::UndeployRevisionRequest*, v1::Empty*) override;
  grpc::Status ListDeployments(grpc::ServerContext*, const v1::ApiRef*, v1::ListDeploymentsResponse*) override;
  grpc::Status CreateApplication(grpc::ServerContext*, const v1::CreateApplicationRequest*, v1::ApplicationInfo*) override;
  grpc::Status GetApplication(grpc::ServerContext*, const v1::ApplicationRef*, v1::ApplicationInfo*) override;
  grpc::Status ListApplications(grpc::ServerContext*, const v1::ListApplicationsRequest*,
                                v1::ListApplicationsResponse*) override;
  grpc::Status UpdateApplication(grpc::ServerContext*, const v1::UpdateApplicationRequest*, v1::ApplicationInfo*) override;
  grpc::Status DeleteApplication(grpc::ServerContext*, const v1::ApplicationRef*, v1::Empty*) override;
  grpc::Status CreateSubscription(grpc::ServerContext*, const v1::CreateSubscriptionRequest*,
                                  v1::SubscriptionInfo*) override;
  grpc::Status ListSubscriptions(grpc::ServerContext*, const v1::ListSubscriptionsRequest*,
                                 v1::ListSubscriptionsResponse*) override;
  grpc::Status UpdateSubscription(grpc::ServerContext*, const v1::UpdateSubscriptionRequest*,
                                  v1::SubscriptionInfo*) override;
  grpc::Status DeleteSubscription(grpc::ServerContext*, const v1::SubscriptionRef*, v1::Empty*) override;
  grpc::Status GenerateKeys(grpc::ServerContext*, const v1::GenerateKeysRequest*, v1::KeyPair*) override;
  grpc::Status ListKeys(grpc::ServerContext*, const v1::ApplicationRef*, v1::ListKeysResponse*) override;
  grpc::Status DeleteKeys(grpc::ServerContext*, const v1::DeleteKeysRequest*, v1::Empty*) override;
  grpc::Status IssueToken(grpc::ServerContext*, const v1::IssueTokenRequest*, v1::AccessToken*) override;
  grpc::Status RevokeToken(grpc::ServerContext*, const v1::RevokeTokenRequest*, v1::Empty*) override;
  grpc::Status RotateSigningKey(grpc::ServerContext*, const v1::RotateSigningKeyRequest*, v1::SigningKeyInfo*) override;
  grpc::Status ListSigningKeys(grpc::ServerContext*, const v1::Empty*, v1::ListSigningKeysResponse*) override;
  grpc::Status CreateThrottlePolicy(grpc::ServerContext*, const v1::ThrottlePolicy*, v1::ThrottlePolicy*) override;
  grpc::Status ListThrottlePolicies(grpc::ServerContext*, const v1::ListThrottlePoliciesRequest*,
                                    v1::ListThrottlePoliciesResponse*) override;
  grpc::Status DeleteThrottlePolicy(grpc::ServerContext*, const v1::ThrottlePolicyRef*, v1::Empty*) override;
  grpc::Status ListEnvironments(grpc::ServerContext*, const v1::Empty*, v1::ListEnvironmentsResponse*) override;
  grpc::Status GetStatus(grpc::ServerContext*, const v1::Empty*, v1::AgentStatus*) override;
  // Declarative configuration (cfg-decl).
  grpc::Status ExportCatalog(grpc::ServerContext*, const v1::Empty*, v1::CatalogDocument*) override;
  grpc::Status ApplyCatalog(grpc::ServerContext*, const v1::ApplyCatalogRequest*, v1::ApplyCatalogResponse*) override;
  // issue 12: environments, settings, certificates.
  grpc::Status CreateEnvironment(grpc::ServerContext*, const v1::Environment*, v1::Environment*) override;
  grpc::Status GetEnvironment(grpc::ServerContext*, const v1::EnvironmentRef*, v1::Environment*) override;
  grpc::Status UpdateEnvironment(grpc::ServerContext*, const v1::Environment*, v1::Environment*) override;
  grpc::Status DeleteEnvironment(grpc::ServerContext*, const v1::EnvironmentRef*, v1::Empty*) override;
  grpc::Status GetSettings(grpc::ServerContext*, const v1::EnvironmentRef*, v1::EnvironmentSettings*) override;
  grpc::Status SetSettings(grpc::ServerContext*, const v1::SetSettingsRequest*, v1::EnvironmentSettings*) override;
  grpc::Status SetCertificate(grpc::ServerContext*, const v1::SetCertificateRequest*, v1::CertificateInfo*) override;
  grpc::Status ListCertificates(grpc::ServerContext*, const v1::EnvironmentRef*, v1::ListCertificatesResponse*) override;
  grpc::Status DeleteCertificate(grpc::ServerContext*, const v1::CertificateRef*, v1::Empty*) override;
  // The connection registry across engines (connections.h).
  grpc::Status ListConnections(grpc::ServerContext*, const v1::AdminListConnectionsRequest*,
                               v1::AdminListConnectionsResponse*) override;
  grpc::Status GetConnection(grpc::ServerContext*, const v1::ConnectionRef*, v1::AdminConnection*) override;
  grpc::Status SendToConnection(grpc::ServerContext*, const v1::AdminSendRequest*, v1::SendToConnectionResponse*) override;
  grpc::Status CloseConnection(grpc::ServerContext*, const v1::AdminCloseRequest*, v1::Empty*) override;
  // The audit log (written by admin_audit.h's interceptor).
  grpc::Status ListAudit(grpc::ServerContext*, const v1::ListAuditRequest*, v1::ListAuditResponse*) override;
  // Usage across engines (usage.cc).
  grpc::Status GetUsage(grpc::ServerContext*, const v1::AdminUsageRequest*, v1::AdminUsageResponse*) override;
  // The snapshot one environment's engines get (issue 17, config checking).
  grpc::Status GetEngineSnapshot(grpc::ServerContext*, const v1::EnvironmentRef*, v1::Snapshot*) override;
  // Admin users (issue 14 item 8, roles).
  grpc::Status CreateUser(grpc::ServerContext*, const v1::CreateUserRequest*, v1::UserCredential*) override;
  grpc::Status ListUsers(grpc::ServerContext*, const v1::Empty*, v1::ListUsersResponse*) override;
  grpc::Status DeleteUser(grpc::ServerContext*, const v1::UserRef*, v1::Empty*) override;
  grpc::Status RotateUserCredential(grpc::ServerContext*, const v1::UserRef*, v1::UserCredential*) override;
  grpc::Status GetCurrentUser(grpc::ServerContext*, const v1::Empty*, v1::User*) override;
  // Traffic across engines for `wsgatectl top` (traffic.cc).
  grpc::Status GetTraffic(grpc::ServerContext*, const v1::GetTrafficRequest*, v1::GetTrafficResponse*) override;
  // API keys (issue 14 item 4): a subscriber's own applications' only.
  grpc::Status CreateApiKey(grpc::ServerContext*, const v1::CreateApiKeyRequest*, v1::ApiKeyInfo*) override;
  grpc::Status ListApiKeys(grpc::ServerContext*, const v1::ListApiKeysRequest*, v1::ListApiKeysResponse*) override;
  grpc::Status RevokeApiKey(grpc::ServerContext*, const v1::ApiKeyRef*, v1::Empty*) override;
  // External identity providers (issue 14 item 6, catalog_idp.cc).
  grpc::Status CreateIdentityProvider(grpc::ServerContext*, const v1::IdentityProviderSpec*, v1::IdentityProviderInfo*) override;
  grpc::Status GetIdentityProvider(grpc::ServerContext*, const v1::IdentityProviderRef*, v1::IdentityProviderInfo*) override;
  grpc::Status ListIdentityProviders(grpc::ServerContext*, const v1::Empty*, v1::ListIdentityProvidersResponse*) override;
  grpc::Status UpdateIdentityProvider(grpc::ServerContext*, const v1::UpdateIdentityProviderRequest*,
                                      v1::IdentityProviderInfo*) override;
  grpc::Status DeleteIdentityProvider(grpc::ServerContext*, const v1::IdentityProviderRef*, v1::Empty*) override;
  grpc::Status RegisterIdpClient(grpc::ServerContext*, const v1::RegisterIdpClientRequest*, v1::IdpClient*) override;
  grpc::Status UnregisterIdpClient(grpc::ServerContext*, const v1::UnregisterIdpClientRequest*, v1::Empty*) override;

 private:
  // Checks the credential and the RPC's roles, then runs fn (which returns absl::Status; it may
  // take the `const Caller&`) and maps the result.
  template <typename Fn>
  grpc::Status Call(grpc::ServerContext* ctx, Fn&& fn);
  // For a caller limited to its own applications: OK when `owner` (a lookup's result) is the
  // caller, else the lookup's error, or `not_found` (what a missing object answers) for another
  // user's object, so that it stays invisible.
  static absl::Status Own(const Caller& caller, const absl::StatusOr<std::string>& owner, absl::Status not_found);
  absl::Status OwnApplication(const Caller& caller, const std::string& application);

  Catalog& catalog_;
  Pusher& pusher_;
  ConnectionFanout& connections_;
  std::string credential_;
  const CallMethods& methods_;
  RateLimitedLog auth_failures_{"admin authentication failed"};
};

}  // namespace wsgate::agent
