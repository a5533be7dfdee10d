// File: agent/admin_auth.h
//
// Who is calling the Admin API and whether it may: the caller's credential names a user (the data
// directory's admin.token is "admin"; others are the catalog's users), and agent/roles.h's table
// says which roles the RPC needs. AdminService::Call runs Authorize() before every handler.
//
// The RPC's name is not on grpc::ServerContext, so CallMethods, a gRPC server interceptor
// factory, records it per call (the interceptor exists from before the handler runs until the
// call is over) and Authorize() looks it up by the context.
//
//   CallMethods methods;                      // builder: interceptors include methods.Factory()
//   auto caller = Authorize(catalog, admin_credential, methods, ctx);  // StatusOr<Caller>
//
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "agent/catalog.h"
#include "agent/roles.h"

namespace wsgate::agent {

// The authenticated caller of one Admin RPC.
struct Caller {
  std::string name;
  RoleSet roles = 0;
  // The RPC's rule limits this caller to its own applications (RoleRule::own_applications, and
  // the caller is not admin): its handler must check ownership (AdminService::Call refuses the
  // call if the handler does not take the Caller, so a forgotten check fails closed).
  bool own_applications_only = false;
  bool is_admin() const { return (roles & Bit(Role::kAdmin)) != 0; }
  // Whether a rule's own_applications limit applies (everyone but admin).
  bool owns_only() const { return !is_admin(); }
};

// The trailing metadata key that carries the caller's name (the audit interceptor reads it).
inline constexpr char kCallerMetadata[] = "wsgate-user";

// Which Admin RPC each call in flight is (by its server context).
class CallMethods {
 public:
  // "CreateApi", or "" for a context this registry never saw.
  std::string Method(const grpc::ServerContextBase* ctx) const;
  // The interceptor factory that fills the registry; add it to the server's interceptors. It
  // refers to this registry, which must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> Factory();

  void Add(const grpc::ServerContextBase* ctx, std::string method);
  void Remove(const grpc::ServerContextBase* ctx);

 private:
  mutable std::mutex mu_;
  std::unordered_map<const grpc::ServerContextBase*, std::string> methods_;
};

// UNAUTHENTICATED (no or unknown credential), PERMISSION_DENIED naming the role the RPC needs, or
// the caller (also sent as kCallerMetadata in the trailing metadata, for the audit log).
absl::StatusOr<Caller> Authorize(Catalog& catalog, const std::string& admin_credential, const CallMethods& methods,
                                 grpc::ServerContext* ctx);

// PERMISSION_DENIED "<method> needs the creator role (user 'bob' has subscriber)".
absl::Status NeedsRole(const std::string& method, RoleSet needed, const Caller& caller);

}  // namespace wsgate::agent
