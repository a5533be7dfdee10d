// File: agent/json_api.h
//
// The admin API over HTTP/JSON: a faithful mapping of every wsgate.v1.Admin RPC onto
// resource paths, for the web console and for curl.
//
//   GET    /api/v1/apis                       ListApis        (?name_filter=)
//   POST   /api/v1/apis                       CreateApi       (body: CreateApiRequest)
//   PATCH  /api/v1/apis/{api}                 UpdateApi       (body: UpdateApiRequest)
//   DELETE /api/v1/apis/{api}/topics/{topic}  DeleteTopic     (topic percent-encoded: %2Frooms%2F%7BroomID%7D)
//   ...                                       (JsonRoutes() is the whole table; docs/cli.md lists it)
//
// Bodies and answers are protobuf's JSON mapping of the RPC's request and response messages
// (lowerCamelCase names; proto names accepted too). Path segments and query parameters fill the
// request fields they name (`?filter.api=Chats:1.0.0` sets filter.api); the body fills the rest.
// An unknown field, a wrong type or an unknown path is 400/404 with a JSON error naming it:
//   {"error":{"code":400,"status":"INVALID_ARGUMENT","message":"...","field":"productionEndpoint.url"}}
//
// Every call is made through the agent's own gRPC server (an in-process channel), with the
// caller's `Authorization: Bearer <credential>` passed as the gRPC `authorization` metadata, so
// the same credentials, roles, validation, audit log and metrics apply as for wsgatectl: the CLI
// and the console cannot disagree. gRPC status codes map to HTTP as google.rpc.Code documents
// (INVALID_ARGUMENT 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
// ALREADY_EXISTS 409, FAILED_PRECONDITION 400, RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, ...).
//
// Thread-safe (one JsonApi serves every HTTP worker).
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/oauth_server.h"  // HttpAnswer

namespace wsgate::agent {

struct JsonRoute {
  std::string_view method;  // GET, POST, PUT, PATCH, DELETE
  std::string_view path;    // "/api/v1/apis/{api}/topics/{topic}": {x} fills request field x
  std::string_view rpc;     // the AdminService method, e.g. "DeleteTopic"
  // The request body: "*" the whole request message, "" none (path and query only), or the
  // name of one message field that the body is (AddTopic's body is the Topic).
  std::string_view body;
};
const std::vector<JsonRoute>& JsonRoutes();

// HTTP status for a gRPC status code (google.rpc.Code's mapping).
int HttpStatusFor(grpc::StatusCode code);
// The JSON error body for `message`; `field` is taken from a leading "field.path: " in the
// message, the way the admin API names the field at fault.
std::string JsonError(int http_status, std::string_view grpc_status, std::string_view message);

// A request resolved to its RPC: what BuildCall returns.
struct JsonCall {
  const JsonRoute* route = nullptr;
  std::string method;           // "/wsgate.v1.Admin/DeleteTopic"
  std::string request_bytes;    // the serialized request message
  const google::protobuf::Descriptor* response_type = nullptr;
};
using QueryParams = std::multimap<std::string, std::string>;

// Pure: matches the route, builds the request message from the path, the query and the body.
// Errors are the HTTP answer to give (404 unknown path, 405 with Allow, 400 naming the field).
absl::StatusOr<JsonCall> BuildCall(std::string_view method, std::string_view path, const QueryParams& query,
                                   std::string_view body, HttpAnswer* error);
// Pure: the JSON answer for a finished call (200 with the response in JSON, or the mapped error).
HttpAnswer AnswerFor(const JsonCall& call, const grpc::Status& status, const std::string& response_bytes);

class JsonApi {
 public:
  // `channel` reaches the Admin service (the agent's server->InProcessChannel()).
  explicit JsonApi(std::shared_ptr<grpc::Channel> channel);
  ~JsonApi();

  HttpAnswer Handle(std::string_view method, std::string_view path, const QueryParams& query, std::string_view body,
                    std::string_view authorization, std::string_view peer);

 private:
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace wsgate::agent
