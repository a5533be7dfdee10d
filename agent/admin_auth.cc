// File: agent/admin_auth.cc
#include "agent/admin_auth.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/admin_audit.h"
#include "agent/signer.h"

namespace wsgate::agent {
namespace {

namespace gx = grpc::experimental;

// Lives as long as the call: registers its method when the call starts, removes it at the end.
class MethodInterceptor final : public gx::Interceptor {
 public:
  MethodInterceptor(CallMethods& methods, const grpc::ServerContextBase* ctx, std::string method)
      : methods_(methods), ctx_(ctx) {
    methods_.Add(ctx_, std::move(method));
  }
  ~MethodInterceptor() override { methods_.Remove(ctx_); }
  void Intercept(gx::InterceptorBatchMethods* methods) override { methods->Proceed(); }

 private:
  CallMethods& methods_;
  const grpc::ServerContextBase* ctx_;
};

class MethodFactory final : public gx::ServerInterceptorFactoryInterface {
 public:
  explicit MethodFactory(CallMethods& methods) : methods_(methods) {}
  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo* info) override {
    std::string_view full = info->method() != nullptr ? info->method() : "";
    if (full.rfind("/wsgate.v1.Admin/", 0) != 0 || info->server_context() == nullptr) return nullptr;
    return new MethodInterceptor(methods_, info->server_context(), std::string(MethodName(full)));
  }

 private:
  CallMethods& methods_;
};

}  // namespace

std::string CallMethods::Method(const grpc::ServerContextBase* ctx) const {
  std::lock_guard lock(mu_);
  auto it = methods_.find(ctx);
  return it == methods_.end() ? "" : it->second;
}

void CallMethods::Add(const grpc::ServerContextBase* ctx, std::string method) {
  std::lock_guard lock(mu_);
  methods_[ctx] = std::move(method);
}

void CallMethods::Remove(const grpc::ServerContextBase* ctx) {
  std::lock_guard lock(mu_);
  methods_.erase(ctx);
}

std::unique_ptr<gx::ServerInterceptorFactoryInterface> CallMethods::Factory() {
  return std::make_unique<MethodFactory>(*this);
}

absl::Status NeedsRole(const std::string& method, RoleSet needed, const Caller& caller) {
  std::vector<std::string> names = RoleNames(needed & ~Bit(Role::kAdmin));
  std::vector<std::string> has = RoleNames(caller.roles);
  return absl::PermissionDeniedError(absl::StrCat(
      method.empty() ? "this call" : method, " needs ",
      names.empty() ? "the admin role"
      : names.size() == 1 ? absl::StrCat("the ", names[0], " role")
                          : absl::StrCat("one of the roles ", absl::StrJoin(names, ", ")),
      " (user '", caller.name, "' has ", has.empty() ? "none" : absl::StrJoin(has, ", "),
      "; an admin grants roles with `wsgatectl user create NAME --role ROLE`)"));
}

absl::StatusOr<Caller> Authorize(Catalog& catalog, const std::string& admin_credential, const CallMethods& methods,
                                 grpc::ServerContext* ctx) {
  auto it = ctx->client_metadata().find("authorization");
  std::string given = it == ctx->client_metadata().end() ? "" : std::string(it->second.data(), it->second.size());
  const std::string kBearer = "Bearer ";
  Caller caller;
  if (SecureEquals(given, kBearer + admin_credential)) {
    caller = Caller{"admin", kAllRoles};
  } else if (given.size() > kBearer.size() && given.compare(0, kBearer.size(), kBearer) == 0) {
    absl::StatusOr<v1::User> user = catalog.AuthenticateUser(given.substr(kBearer.size()));
    // An unreachable catalog is not a wrong credential: say what is wrong (UNAVAILABLE, naming it).
    if (!user.ok()) return absl::IsUnauthenticated(user.status()) ? absl::UnauthenticatedError("wrong credential") : user.status();
    caller.name = user->name();
    caller.roles = ParseRoles({user->roles().begin(), user->roles().end()}).value_or(0);
  } else {
    return absl::UnauthenticatedError(given.empty() ? "no credential" : "wrong credential");
  }
  ctx->AddTrailingMetadata(kCallerMetadata, caller.name);
  std::string method = methods.Method(ctx);
  RoleRule rule = RuleFor(method);
  if (!caller.is_admin() && (caller.roles & rule.roles) == 0) return NeedsRole(method, rule.roles, caller);
  caller.own_applications_only = rule.own_applications && !caller.is_admin();
  return caller;
}

}  // namespace wsgate::agent
