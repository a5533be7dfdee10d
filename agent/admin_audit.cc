// File: agent/admin_audit.cc
#include "agent/admin_audit.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "agent/admin_auth.h"
#include "agent/metrics.h"
#include "engine/common/log.h"
#include "google/protobuf/descriptor.h"

namespace wsgate::agent {
namespace {

namespace gx = grpc::experimental;

constexpr const char* kStatusNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                        "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

// The verbs Admin RPC names start with; the rest of the name is the object's kind.
constexpr std::string_view kVerbs[] = {"Create", "Update", "Delete", "Add", "Set", "Change", "Restore", "Deploy",
                                       "Undeploy", "Generate", "Issue", "Revoke", "Rotate", "SendTo", "Close",
                                       "Register", "Unregister"};

// A string field of `m` by name, "" when absent or not a string.
std::string StringField(const google::protobuf::Message& m, const char* name) {
  const google::protobuf::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (f == nullptr || f->is_repeated() || f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING ||
      f->type() == google::protobuf::FieldDescriptor::TYPE_BYTES)
    return "";
  return m.GetReflection()->GetString(m, f);
}

class AuditInterceptor final : public gx::Interceptor {
 public:
  AuditInterceptor(Catalog& catalog, PairCounters* rpcs, std::string method, bool audit)
      : catalog_(catalog), rpcs_(rpcs), method_(std::move(method)), audit_(audit) {}

  void Intercept(gx::InterceptorBatchMethods* methods) override {
    if (audit_ && methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (void* m = methods->GetRecvMessage()) object_ = ObjectOf(method_, *static_cast<google::protobuf::Message*>(m));
    }
    if (methods->QueryInterceptionHookPoint(gx::InterceptionHookPoints::PRE_SEND_STATUS))
      Record(methods->GetSendStatus(), AuditCaller(methods->GetSendTrailingMetadata()));
    methods->Proceed();
  }

 private:
  void Record(const grpc::Status& status, const std::string& caller) {
    int code = static_cast<int>(status.error_code());
    std::string code_name = code >= 0 && code <= 16 ? kStatusNames[code] : absl::StrCat(code);
    if (rpcs_ != nullptr) rpcs_->Add(method_, code_name);
    if (!audit_ || status.error_code() == grpc::StatusCode::UNAUTHENTICATED) return;
    v1::AuditEntry e;
    e.set_caller(caller);
    e.set_method(method_);
    e.set_object_kind(object_.kind);
    e.set_object(object_.name);
    e.set_code(code_name);
    e.set_message(status.error_message());
    if (absl::Status s = catalog_.RecordAudit(e); !s.ok())
      WSGATE_LOG(kWarning, "audit: could not record %s: %s", method_, std::string(s.message()));
  }

  Catalog& catalog_;
  PairCounters* rpcs_;
  std::string method_;
  bool audit_;
  AuditObject object_;
};

class AuditFactory final : public gx::ServerInterceptorFactoryInterface {
 public:
  AuditFactory(Catalog& catalog, PairCounters* rpcs) : catalog_(catalog), rpcs_(rpcs) {}
  gx::Interceptor* CreateServerInterceptor(gx::ServerRpcInfo* info) override {
    std::string_view full = info->method() != nullptr ? info->method() : "";
    if (full.rfind("/wsgate.v1.Admin/", 0) != 0) return nullptr;  // reflection and other services
    std::string_view method = MethodName(full);
    bool audit = IsMutation(method);
    if (!audit && rpcs_ == nullptr) return nullptr;
    return new AuditInterceptor(catalog_, rpcs_, std::string(method), audit);
  }

 private:
  Catalog& catalog_;
  PairCounters* rpcs_;
};

}  // namespace

std::string_view MethodName(std::string_view full_method) {
  size_t slash = full_method.rfind('/');
  return slash == std::string_view::npos ? full_method : full_method.substr(slash + 1);
}

bool IsMutation(std::string_view method) {
  return !method.empty() && method.rfind("Get", 0) != 0 && method.rfind("List", 0) != 0;
}

AuditObject ObjectOf(std::string_view method, const google::protobuf::Message& request) {
  AuditObject out;
  std::string_view rest = method;
  for (std::string_view verb : kVerbs) {
    if (rest.size() > verb.size() && rest.substr(0, verb.size()) == verb) {
      rest.remove_prefix(verb.size());
      break;
    }
  }
  for (char c : rest) {  // "ThrottlePolicy" → "throttle policy"
    if (std::isupper(static_cast<unsigned char>(c)) && !out.kind.empty()) out.kind.push_back(' ');
    out.kind.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  for (const char* field : {"api", "application", "id", "subscription_id", "name", "jti"}) {
    out.name = StringField(request, field);
    if (!out.name.empty()) break;
  }
  if (out.name.empty()) {  // CreateApi: the spec's Name:Version
    const google::protobuf::FieldDescriptor* spec = request.GetDescriptor()->FindFieldByName("spec");
    if (spec != nullptr && spec->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      const google::protobuf::Message& s = request.GetReflection()->GetMessage(request, spec);
      std::string name = StringField(s, "name"), version = StringField(s, "version");
      if (!name.empty()) out.name = version.empty() ? name : absl::StrCat(name, ":", version);
    }
  }
  for (const char* field : {"number", "revision"}) {  // RevisionRef, DeployRevisionRequest
    const google::protobuf::FieldDescriptor* number = request.GetDescriptor()->FindFieldByName(field);
    if (number == nullptr || number->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_UINT32) continue;
    uint32_t n = request.GetReflection()->GetUInt32(request, number);
    if (n != 0) absl::StrAppend(&out.name, " revision ", n);
  }
  return out;
}

std::string AuditCaller(const std::multimap<std::string, std::string>* trailing_metadata) {
  if (trailing_metadata == nullptr) return "";
  auto it = trailing_metadata->find(kCallerMetadata);
  return it == trailing_metadata->end() ? "" : it->second;
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> AuditInterceptors(Catalog& catalog,
                                                                                                 PairCounters* rpcs) {
  std::vector<std::unique_ptr<gx::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<AuditFactory>(catalog, rpcs));
  return out;
}

}  // namespace wsgate::agent
