// File: agent/json_api.cc — the route table, request building (pure) and the in-process call.
#include "agent/json_api.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/support/byte_buffer.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/common/absl_compat.h"

namespace wsgate::agent {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;
using common::Sv;

constexpr std::string_view kService = "wsgate.v1.Admin";

// Percent-decoding of one path segment or query value ('+' is not a space in a path).
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    int value = 0;
    if (i + 2 >= in.size()) return false;
    for (int k = 1; k <= 2; ++k) {
      char c = absl::ascii_tolower(in[i + k]);
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      value = value * 16 + d;
    }
    out->push_back(static_cast<char>(value));
    i += 2;
  }
  return true;
}

HttpAnswer ErrorAnswer(int status, std::string_view grpc_status, std::string_view message) {
  HttpAnswer a;
  a.status = status;
  a.body = JsonError(status, grpc_status, message);
  return a;
}

// The field named by a dotted path ("filter.api"), by proto or JSON name, with the message
// descriptors it passes through; nullptr if there is none.
const FieldDescriptor* FindField(const Descriptor* type, std::string_view dotted, std::vector<std::string>* names) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(Sv(dotted), '.')) {
    if (type == nullptr) return nullptr;
    std::string name(part);
    field = type->FindFieldByName(name);
    if (field == nullptr) field = type->FindFieldByCamelcaseName(name);
    if (field == nullptr) return nullptr;
    names->push_back(field->name());
    type = field->message_type();
  }
  return field;
}

// The JSON value of a path or query parameter for `field` (a scalar), or an error text.
absl::StatusOr<json> ScalarValue(const FieldDescriptor* field, const std::string& text) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return json(text);
    case FieldDescriptor::CPPTYPE_ENUM:
      return json(text);  // the JSON parser checks the name (or number)
    case FieldDescriptor::CPPTYPE_BOOL:
      if (text == "true" || text == "1") return json(true);
      if (text == "false" || text == "0") return json(false);
      return absl::InvalidArgumentError("must be true or false");
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(text, &v)) return absl::InvalidArgumentError("must be an integer");
      return field->cpp_type() == FieldDescriptor::CPPTYPE_INT64 ? json(text) : json(v);
    }
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(text, &v)) return absl::InvalidArgumentError("must be a non-negative integer");
      return field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64 ? json(text) : json(v);
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(text, &v)) return absl::InvalidArgumentError("must be a number");
      return json(v);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return absl::InvalidArgumentError("is a message: send it in the JSON body");
}

// Sets `dotted` (a path segment or query parameter) in the request JSON object.
absl::Status SetParam(const Descriptor* type, json& request, std::string_view dotted, const std::string& value,
                      std::string_view where) {
  std::vector<std::string> names;
  const FieldDescriptor* field = FindField(type, dotted, &names);
  if (field == nullptr)
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(dotted), ": unknown ", Sv(where), " for ", type->name(), " (see docs/cli.md, HTTP/JSON admin API)"));
  auto v = ScalarValue(field, value);
  if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat(Sv(dotted), ": ", v.status().message()));
  json* node = &request;
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    json& next = (*node)[names[i]];
    if (next.is_null()) next = json::object();
    if (!next.is_object()) return absl::InvalidArgumentError(absl::StrCat(Sv(dotted), ": given twice"));
    node = &next;
  }
  json& slot = (*node)[names.back()];
  if (field->is_repeated()) {
    if (slot.is_null()) slot = json::array();
    slot.push_back(*v);
  } else if (!slot.is_null() && slot != *v) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(dotted), ": given in the ", Sv(where), " and the body with different values"));
  } else {
    slot = *v;
  }
  return absl::OkStatus();
}

// protobuf's JSON parser says "(spec.production_endpoint) urll: Cannot find field."; the admin
// API's convention puts the field path first: "spec.production_endpoint.urll: Cannot find field."
std::string FieldFirst(const std::string& message) {
  if (message.empty() || message[0] != '(') return absl::StrCat("body: ", message);
  size_t close = message.find(") ");
  size_t colon = close == std::string::npos ? std::string::npos : message.find(": ", close);
  if (colon == std::string::npos) return absl::StrCat("body: ", message);
  std::string parent = message.substr(1, close - 1);
  std::string name = message.substr(close + 2, colon - close - 2);
  return absl::StrCat(parent, parent.empty() ? "" : ".", name, message.substr(colon));
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  for (absl::string_view s : absl::StrSplit(Sv(path), '/', absl::SkipEmpty())) out.emplace_back(s.data(), s.size());
  return out;
}

}  // namespace

const std::vector<JsonRoute>& JsonRoutes() {
  static const std::vector<JsonRoute> kRoutes = {
      // Publisher: APIs, topics, plans, lifecycle, revisions, deployments.
      {"GET", "/api/v1/apis", "ListApis", ""},
      {"POST", "/api/v1/apis", "CreateApi", "*"},
      {"GET", "/api/v1/apis/{api}", "GetApi", ""},
      {"PATCH", "/api/v1/apis/{api}", "UpdateApi", "*"},
      {"DELETE", "/api/v1/apis/{api}", "DeleteApi", ""},
      {"POST", "/api/v1/apis/{api}/topics", "AddTopic", "topic"},
      {"DELETE", "/api/v1/apis/{api}/topics/{topic}", "DeleteTopic", ""},
      {"PUT", "/api/v1/apis/{api}/plans", "SetPlans", "*"},
      {"POST", "/api/v1/apis/{api}/lifecycle", "ChangeLifecycle", "*"},
      {"GET", "/api/v1/apis/{api}/revisions", "ListRevisions", ""},
      {"POST", "/api/v1/apis/{api}/revisions", "CreateRevision", "*"},
      {"DELETE", "/api/v1/apis/{api}/revisions/{revision}", "DeleteRevision", ""},
      {"POST", "/api/v1/apis/{api}/revisions/{revision}/restore", "RestoreRevision", ""},
      {"POST", "/api/v1/apis/{api}/revisions/{revision}/deployments", "DeployRevision", "*"},
      {"DELETE", "/api/v1/apis/{api}/revisions/{revision}/deployments", "UndeployRevision", ""},
      {"GET", "/api/v1/apis/{api}/deployments", "ListDeployments", ""},
      // Developer Portal: applications, subscriptions, keys, tokens, usage.
      {"GET", "/api/v1/applications", "ListApplications", ""},
      {"POST", "/api/v1/applications", "CreateApplication", "*"},
      {"GET", "/api/v1/applications/{application}", "GetApplication", ""},
      {"PATCH", "/api/v1/applications/{application}", "UpdateApplication", "*"},
      {"DELETE", "/api/v1/applications/{application}", "DeleteApplication", ""},
      {"GET", "/api/v1/applications/{application}/keys", "ListKeys", ""},
      {"POST", "/api/v1/applications/{application}/keys", "GenerateKeys", "*"},
      {"DELETE", "/api/v1/applications/{application}/keys/{key_type}", "DeleteKeys", ""},
      {"POST", "/api/v1/applications/{application}/tokens", "IssueToken", "*"},
      {"GET", "/api/v1/applications/{application}/usage", "GetUsage", ""},
      {"GET", "/api/v1/applications/{application}/api-keys", "ListApiKeys", ""},  // issue 14 item 4
      {"POST", "/api/v1/applications/{application}/api-keys", "CreateApiKey", "*"},
      {"GET", "/api/v1/api-keys", "ListApiKeys", ""},
      {"DELETE", "/api/v1/api-keys/{id}", "RevokeApiKey", ""},
      {"GET", "/api/v1/subscriptions", "ListSubscriptions", ""},
      {"POST", "/api/v1/subscriptions", "CreateSubscription", "*"},
      {"PATCH", "/api/v1/subscriptions/{subscription}", "UpdateSubscription", "*"},
      {"DELETE", "/api/v1/subscriptions/{subscription}", "DeleteSubscription", ""},
      {"POST", "/api/v1/tokens/revoke", "RevokeToken", "*"},
      // Administration: signing keys, policies, environments, settings, certificates.
      {"GET", "/api/v1/signing-keys", "ListSigningKeys", ""},
      {"POST", "/api/v1/signing-keys", "RotateSigningKey", "*"},
      {"GET", "/api/v1/throttle-policies", "ListThrottlePolicies", ""},
      {"POST", "/api/v1/throttle-policies", "CreateThrottlePolicy", "*"},
      {"DELETE", "/api/v1/throttle-policies/{name}", "DeleteThrottlePolicy", ""},
      {"GET", "/api/v1/environments", "ListEnvironments", ""},
      {"POST", "/api/v1/environments", "CreateEnvironment", "*"},
      {"GET", "/api/v1/environments/{name}", "GetEnvironment", ""},
      {"PUT", "/api/v1/environments/{name}", "UpdateEnvironment", "*"},
      {"DELETE", "/api/v1/environments/{name}", "DeleteEnvironment", ""},
      {"GET", "/api/v1/environments/{name}/settings", "GetSettings", ""},
      {"PATCH", "/api/v1/environments/{environment}/settings", "SetSettings", "*"},
      {"GET", "/api/v1/certificates", "ListCertificates", ""},
      {"GET", "/api/v1/environments/{name}/certificates", "ListCertificates", ""},
      {"PUT", "/api/v1/environments/{environment}/certificates/{vhost}", "SetCertificate", "*"},
      {"DELETE", "/api/v1/environments/{environment}/certificates/{vhost}", "DeleteCertificate", ""},
      {"GET", "/api/v1/environments/{name}/snapshot", "GetEngineSnapshot", ""},
      // Operations: status, declarative catalog, connections, audit.
      {"GET", "/api/v1/status", "GetStatus", ""},
      {"GET", "/api/v1/catalog", "ExportCatalog", ""},
      {"POST", "/api/v1/catalog/apply", "ApplyCatalog", "*"},
      {"GET", "/api/v1/connections", "ListConnections", ""},
      {"GET", "/api/v1/connections/{id}", "GetConnection", ""},
      {"POST", "/api/v1/connections/{id}/messages", "SendToConnection", "*"},
      {"POST", "/api/v1/connections/{id}/close", "CloseConnection", "*"},
      {"GET", "/api/v1/audit", "ListAudit", ""},
      {"GET", "/api/v1/traffic", "GetTraffic", ""},
      // Admin users and roles.
      {"GET", "/api/v1/users", "ListUsers", ""},
      {"POST", "/api/v1/users", "CreateUser", "*"},
      {"DELETE", "/api/v1/users/{name}", "DeleteUser", ""},
      {"POST", "/api/v1/users/{name}/credential", "RotateUserCredential", ""},
      {"GET", "/api/v1/me", "GetCurrentUser", ""},
      // External identity providers (issue 14 item 6).
      {"GET", "/api/v1/identity-providers", "ListIdentityProviders", ""},
      {"POST", "/api/v1/identity-providers", "CreateIdentityProvider", "*"},
      {"GET", "/api/v1/identity-providers/{name}", "GetIdentityProvider", ""},
      {"PATCH", "/api/v1/identity-providers/{spec.name}", "UpdateIdentityProvider", "*"},
      {"DELETE", "/api/v1/identity-providers/{name}", "DeleteIdentityProvider", ""},
      {"POST", "/api/v1/applications/{application}/idp-clients", "RegisterIdpClient", "*"},
      {"DELETE", "/api/v1/applications/{application}/idp-clients/{idp}/{client_id}", "UnregisterIdpClient", ""},
  };
  return kRoutes;
}

int HttpStatusFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::CANCELLED: return 499;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS: return 409;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::FAILED_PRECONDITION: return 400;
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    default: return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

std::string JsonError(int http_status, std::string_view grpc_status, std::string_view message) {
  json error = {{"code", http_status}, {"status", std::string(grpc_status)}, {"message", std::string(message)}};
  // "production_endpoint.url: must be ..." names the field; a sentence ("the API ...") does not.
  size_t colon = message.find(": ");
  if (colon != std::string_view::npos && colon > 0) {
    std::string_view field = message.substr(0, colon);
    bool path = true;
    for (char c : field) path &= absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-' || c == '[' || c == ']';
    if (path) error["field"] = std::string(field);
  }
  return json{{"error", error}}.dump();
}

absl::StatusOr<JsonCall> BuildCall(std::string_view method, std::string_view path, const QueryParams& query,
                                   std::string_view body, HttpAnswer* error) {
  std::vector<std::string_view> want = Segments(path);
  const JsonRoute* match = nullptr;
  std::vector<std::string> allowed;
  std::vector<std::pair<std::string_view, std::string>> params;
  for (const JsonRoute& r : JsonRoutes()) {
    std::vector<std::string_view> have = Segments(r.path);
    if (have.size() != want.size()) continue;
    std::vector<std::pair<std::string_view, std::string>> found;
    bool same = true;
    for (size_t i = 0; i < have.size() && same; ++i) {
      if (have[i].size() > 2 && have[i].front() == '{') {
        std::string value;
        if (!PercentDecode(want[i], &value)) {
          *error = ErrorAnswer(400, "INVALID_ARGUMENT", absl::StrCat("path: bad percent-encoding in '", Sv(want[i]), "'"));
          return absl::InvalidArgumentError("bad path");
        }
        found.emplace_back(have[i].substr(1, have[i].size() - 2), std::move(value));
      } else {
        same = have[i] == want[i];
      }
    }
    if (!same) continue;
    if (r.method != method) {
      allowed.emplace_back(r.method);
      continue;
    }
    match = &r;
    params = std::move(found);
    break;
  }
  if (match == nullptr) {
    if (!allowed.empty()) {
      *error = ErrorAnswer(405, "UNIMPLEMENTED",
                           absl::StrCat(Sv(method), " is not served on ", Sv(path), "; use ", absl::StrJoin(allowed, ", ")));
      error->headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
    } else {
      *error = ErrorAnswer(404, "NOT_FOUND", absl::StrCat("no admin API resource at ", Sv(path), " (see docs/cli.md)"));
    }
    return absl::NotFoundError("no route");
  }

  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(kService));
  const auto* rpc = service ? service->FindMethodByName(std::string(match->rpc)) : nullptr;
  if (rpc == nullptr) {  // the route table names an RPC the service lacks: a build error in spirit
    *error = ErrorAnswer(500, "INTERNAL", absl::StrCat("route ", Sv(match->path), " names unknown RPC ", Sv(match->rpc)));
    return absl::InternalError("bad route");
  }
  const Descriptor* type = rpc->input_type();

  json request = json::object();
  if (!match->body.empty() && !absl::StripAsciiWhitespace(Sv(body)).empty()) {
    json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      *error = ErrorAnswer(400, "INVALID_ARGUMENT", "body: not valid JSON");
      return absl::InvalidArgumentError("bad json");
    }
    if (match->body == "*") {
      if (!parsed.is_object()) {
        *error = ErrorAnswer(400, "INVALID_ARGUMENT", absl::StrCat("body: must be a JSON object (", type->name(), ")"));
        return absl::InvalidArgumentError("bad json");
      }
      request = std::move(parsed);
    } else {
      request[std::string(match->body)] = std::move(parsed);
    }
  } else if (match->body.empty() && !absl::StripAsciiWhitespace(Sv(body)).empty()) {
    *error = ErrorAnswer(400, "INVALID_ARGUMENT",
                         absl::StrCat("body: ", Sv(method), " ", Sv(match->path), " takes no body; use query parameters"));
    return absl::InvalidArgumentError("unexpected body");
  }
  for (const auto& [name, value] : params) {
    if (absl::Status s = SetParam(type, request, name, value, "path segment"); !s.ok()) {
      *error = ErrorAnswer(400, "INVALID_ARGUMENT", std::string(s.message()));
      return s;
    }
  }
  for (const auto& [name, value] : query) {
    if (absl::Status s = SetParam(type, request, name, value, "query parameter"); !s.ok()) {
      *error = ErrorAnswer(400, "INVALID_ARGUMENT", std::string(s.message()));
      return s;
    }
  }

  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(type)->New());
  google::protobuf::util::JsonParseOptions options;  // unknown fields are errors
  auto parsed = google::protobuf::util::JsonStringToMessage(request.dump(), message.get(), options);
  if (!parsed.ok()) {
    *error = ErrorAnswer(400, "INVALID_ARGUMENT", FieldFirst(parsed.message().as_string()));
    return absl::InvalidArgumentError("bad message");
  }
  JsonCall call;
  call.route = match;
  call.method = absl::StrCat("/", Sv(kService), "/", Sv(match->rpc));
  call.request_bytes = message->SerializeAsString();
  call.response_type = rpc->output_type();
  return call;
}

HttpAnswer AnswerFor(const JsonCall& call, const grpc::Status& status, const std::string& response_bytes) {
  if (!status.ok()) {
    static constexpr std::string_view kNames[] = {
        "OK",        "CANCELLED",          "UNKNOWN",          "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",      "DATA_LOSS",        "UNAUTHENTICATED"};
    int code = static_cast<int>(status.error_code());
    std::string_view name = code >= 0 && code < 17 ? kNames[code] : "UNKNOWN";
    HttpAnswer a = ErrorAnswer(HttpStatusFor(status.error_code()), name, status.error_message());
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED)
      a.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"wsgate admin\"");
    return a;
  }
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> reply(factory.GetPrototype(call.response_type)->New());
  if (!reply->ParseFromString(response_bytes))
    return ErrorAnswer(500, "INTERNAL", absl::StrCat("the agent's answer to ", Sv(call.route->rpc), " did not parse"));
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;  // zeros, false and empty lists too: stable shapes
  options.preserve_proto_field_names = false;
  HttpAnswer a;
  (void)google::protobuf::util::MessageToJsonString(*reply, &a.body, options);
  return a;
}

JsonApi::JsonApi(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}

JsonApi::~JsonApi() = default;

HttpAnswer JsonApi::Handle(std::string_view method, std::string_view path, const QueryParams& query,
                           std::string_view body, std::string_view authorization, std::string_view peer) {
  HttpAnswer error;
  auto call = BuildCall(method, path, query, body, &error);
  if (!call.ok()) return error;
  grpc::ClientContext ctx;
  if (!authorization.empty()) ctx.AddMetadata("authorization", std::string(authorization));
  if (!peer.empty()) ctx.AddMetadata("x-wsgate-http-peer", std::string(peer));
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  grpc::Slice slice(call->request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  // The blocking call generated stubs make (not the callback API: its completion runs on a
  // gRPC thread, synchronised inside libgrpc where ThreadSanitizer cannot see it).
  grpc::internal::RpcMethod rpc(call->method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Status status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel_.get(), rpc, &ctx, request, &response);
  std::string bytes;
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return ErrorAnswer(500, "INTERNAL", "the agent's answer could not be read");
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return AnswerFor(*call, status, bytes);
}

}  // namespace wsgate::agent
