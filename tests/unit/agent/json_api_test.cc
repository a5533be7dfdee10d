// Unit tests for the HTTP/JSON admin API's pure parts: the route table against the service,
// request building from path, query and body, error shapes and the status mapping.
#include "agent/json_api.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "wsgate/v1/admin.grpc.pb.h"

namespace wsgate::agent {
namespace {

using nlohmann::json;

TEST(JsonRoutes, EveryAdminRpcHasARouteAndEveryRouteAnRpc) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("wsgate.v1.Admin");
  ASSERT_NE(service, nullptr);
  std::set<std::string> routed;
  for (const JsonRoute& r : JsonRoutes()) {
    ASSERT_NE(service->FindMethodByName(std::string(r.rpc)), nullptr) << r.path << " names unknown RPC " << r.rpc;
    routed.insert(std::string(r.rpc));
  }
  for (int i = 0; i < service->method_count(); ++i)
    EXPECT_TRUE(routed.count(service->method(i)->name())) << service->method(i)->name() << " has no HTTP route: add it to JsonRoutes()";
}

TEST(JsonRoutes, NoTwoRoutesShareMethodAndPath) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const JsonRoute& r : JsonRoutes())
    EXPECT_TRUE(seen.emplace(std::string(r.method), std::string(r.path)).second) << r.method << " " << r.path;
}

template <typename M>
M Parse(const JsonCall& call) {
  M m;
  EXPECT_TRUE(m.ParseFromString(call.request_bytes));
  return m;
}

TEST(BuildCall, PathSegmentsAreDecodedIntoTheirFields) {
  HttpAnswer error;
  auto call = BuildCall("DELETE", "/api/v1/apis/Chats:1.0.0/topics/%2Frooms%2F%7BroomID%7D", {}, "", &error);
  ASSERT_TRUE(call.ok()) << error.body;
  EXPECT_EQ(call->method, "/wsgate.v1.Admin/DeleteTopic");
  auto req = Parse<v1::DeleteTopicRequest>(*call);
  EXPECT_EQ(req.api(), "Chats:1.0.0");
  EXPECT_EQ(req.topic(), "/rooms/{roomID}");
}

TEST(BuildCall, BodyFieldQueryAndNumericPathParameters) {
  HttpAnswer error;
  auto topic = BuildCall("POST", "/api/v1/apis/a1/topics", {}, R"({"name":"/notifications","urlMapping":"/n"})", &error);
  ASSERT_TRUE(topic.ok()) << error.body;
  auto add = Parse<v1::AddTopicRequest>(*topic);
  EXPECT_EQ(add.api(), "a1");
  EXPECT_EQ(add.topic().name(), "/notifications");
  EXPECT_EQ(add.topic().url_mapping(), "/n");

  auto deploy = BuildCall("POST", "/api/v1/apis/a1/revisions/3/deployments", {},
                          R"({"environment":"Production and Sandbox","vhost":"localhost"})", &error);
  ASSERT_TRUE(deploy.ok()) << error.body;
  EXPECT_EQ(Parse<v1::DeployRevisionRequest>(*deploy).revision(), 3u);

  auto list = BuildCall("GET", "/api/v1/connections", {{"filter.api", "Chats:1.0.0"}, {"page_size", "5"}}, "", &error);
  ASSERT_TRUE(list.ok()) << error.body;
  auto l = Parse<v1::AdminListConnectionsRequest>(*list);
  EXPECT_EQ(l.filter().api(), "Chats:1.0.0");
  EXPECT_EQ(l.page_size(), 5u);

  auto keys = BuildCall("DELETE", "/api/v1/applications/ChatApp/keys/SANDBOX", {}, "", &error);
  ASSERT_TRUE(keys.ok()) << error.body;
  EXPECT_EQ(Parse<v1::DeleteKeysRequest>(*keys).key_type(), v1::SANDBOX);
}

// Every refusal is an HTTP status with a JSON error naming what is wrong.
struct Refusal {
  const char* name;
  const char* method;
  const char* path;
  QueryParams query;
  const char* body;
  int status;
  const char* field;  // "" when the error names none
};

class BuildCallRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(BuildCallRefuses, WithStatusAndField) {
  const Refusal& r = GetParam();
  HttpAnswer error;
  EXPECT_FALSE(BuildCall(r.method, r.path, r.query, r.body, &error).ok());
  EXPECT_EQ(error.status, r.status) << error.body;
  json body = json::parse(error.body);
  EXPECT_EQ(body["error"]["code"], r.status);
  EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
  if (*r.field) {
    EXPECT_EQ(body["error"].value("field", ""), r.field) << error.body;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, BuildCallRefuses,
    testing::Values(
        Refusal{"unknown_path", "GET", "/api/v1/nothing", {}, "", 404, ""},
        Refusal{"wrong_method", "PUT", "/api/v1/apis", {}, "{}", 405, ""},
        Refusal{"bad_json", "POST", "/api/v1/apis", {}, "{\"spec\":", 400, "body"},
        Refusal{"not_an_object", "POST", "/api/v1/apis", {}, "[1]", 400, "body"},
        Refusal{"unknown_body_field", "POST", "/api/v1/apis", {}, R"({"spec":{"productionEndpoint":{"urll":"x"}}})", 400,
                "spec.production_endpoint.urll"},
        Refusal{"wrong_type", "POST", "/api/v1/applications/a/tokens", {}, R"({"ttlS":"soon"})", 400, ""},
        Refusal{"unknown_query", "GET", "/api/v1/apis", {{"bogus", "1"}}, "", 400, "bogus"},
        Refusal{"bad_number_in_path", "DELETE", "/api/v1/apis/a/revisions/two", {}, "", 400, "revision"},
        Refusal{"bad_enum_in_path", "DELETE", "/api/v1/applications/a/keys/GOLD", {}, "", 400, ""},
        Refusal{"bad_percent_encoding", "GET", "/api/v1/apis/a%zz", {}, "", 400, "path"},
        Refusal{"body_where_none_is_taken", "GET", "/api/v1/apis", {}, "{\"x\":1}", 400, "body"},
        Refusal{"path_and_body_disagree", "PATCH", "/api/v1/apis/a1", {}, R"({"api":"a2"})", 400, "api"}),
    [](const testing::TestParamInfo<Refusal>& p) { return p.param.name; });

TEST(BuildCall, WrongMethodListsTheAllowedOnes) {
  HttpAnswer error;
  ASSERT_FALSE(BuildCall("PUT", "/api/v1/apis", {}, "{}", &error).ok());
  ASSERT_EQ(error.headers.size(), 1u);
  EXPECT_EQ(error.headers[0].first, "Allow");
  EXPECT_EQ(error.headers[0].second, "GET, POST");
}

TEST(AnswerFor, MapsGrpcStatusesAndPrintsEveryField) {
  HttpAnswer error;
  auto call = BuildCall("GET", "/api/v1/apis/a1", {}, "", &error);
  ASSERT_TRUE(call.ok());
  HttpAnswer denied = AnswerFor(*call, grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "needs role creator"), "");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(json::parse(denied.body)["error"]["status"], "PERMISSION_DENIED");
  HttpAnswer unauth = AnswerFor(*call, grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no"), "");
  EXPECT_EQ(unauth.status, 401);
  ASSERT_EQ(unauth.headers.size(), 1u);
  EXPECT_EQ(unauth.headers[0].first, "WWW-Authenticate");

  v1::ApiInfo info;
  info.set_id("a1");
  HttpAnswer ok = AnswerFor(*call, grpc::Status::OK, info.SerializeAsString());
  EXPECT_EQ(ok.status, 200);
  json body = json::parse(ok.body);
  EXPECT_EQ(body["id"], "a1");
  EXPECT_EQ(body["createdUnixMs"], "0");        // zeros are printed: stable shapes for scripts
  EXPECT_TRUE(body["deployedRevisions"].is_array());
}

TEST(HttpStatusFor, FollowsGoogleRpcCode) {
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::FAILED_PRECONDITION), 400);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusFor(grpc::StatusCode::INTERNAL), 500);
}

TEST(JsonError, NamesTheFieldOnlyWhenTheMessageStartsWithOne) {
  EXPECT_EQ(json::parse(JsonError(400, "INVALID_ARGUMENT", "production_endpoint.url: must be ws://"))["error"]["field"],
            "production_endpoint.url");
  EXPECT_FALSE(json::parse(JsonError(400, "FAILED_PRECONDITION", "API Chats:1.0.0 has no business plan: attach one"))["error"]
                   .contains("field"));
}

}  // namespace
}  // namespace wsgate::agent
