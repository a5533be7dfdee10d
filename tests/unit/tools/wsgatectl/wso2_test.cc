// Unit tests for tools/wsgatectl/wso2: the test projects in tests/data/wso2 (a WebSocket API with
// a templated topic and URL mapping; one with only subscribe channels, from api.json), a bare
// AsyncAPI document, broken inputs, the warnings listed, a zip, and the export round trip.
#include "tools/wsgatectl/wso2.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"

namespace wsgate::tools::ctl {
namespace {

using google::protobuf::util::MessageDifferencer;

std::string Data(const std::string& rel) { return std::string(WSGATE_SOURCE_DIR) + "/tests/data/wso2/" + rel; }

bool HasWarning(const ImportedApi& api, const std::string& part) {
  return std::any_of(api.warnings.begin(), api.warnings.end(), [&](const std::string& w) { return absl::StrContains(w, part); });
}

TEST(Wso2Import, WebSocketApiWithTemplatedTopicAndMapping) {
  auto files = ReadWso2Project(Data("ChatsWso2-1.0.0"));
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ(files->api_name, "api.yaml");
  EXPECT_EQ(files->asyncapi_name, "Definitions/asyncapi.yaml");
  auto api = ParseWso2Project(*files);
  ASSERT_TRUE(api.ok()) << api.status();
  const v1::ApiSpec& s = api->api.spec();
  EXPECT_EQ(s.name(), "ChatsWso2");
  EXPECT_EQ(s.context(), "/chatswso2") << "the trailing /VERSION is dropped";
  EXPECT_EQ(s.version(), "1.0.0");
  EXPECT_EQ(api->api.state(), v1::PUBLISHED);
  EXPECT_EQ(s.production_endpoint().url(), "ws://localhost:8080");
  EXPECT_EQ(s.sandbox_endpoint().url(), "ws://localhost:8080");
  ASSERT_EQ(s.plans_size(), 1);
  EXPECT_EQ(s.plans(0), "AsyncGold");
  ASSERT_EQ(s.security_size(), 1);
  EXPECT_EQ(s.security(0), "oauth2");
  ASSERT_EQ(s.topics_size(), 2);
  EXPECT_EQ(s.topics(1).name(), "/rooms/{roomID}");
  EXPECT_EQ(s.topics(1).url_mapping(), "/rooms?room={uri.var.roomID}");
  EXPECT_TRUE(s.topics(1).publish() && s.topics(1).subscribe());
  // Every field with a value wsgate does not act on is named; defaults and metadata are not.
  for (const char* w : {"data.transport", "data.tags", "data.corsConfiguration", "data.operations[3].throttlingPolicy"})
    EXPECT_TRUE(HasWarning(*api, w)) << w;
  EXPECT_EQ(api->warnings.size(), 4u) << ::testing::PrintToString(api->warnings);
}

TEST(Wso2Import, SubscribeOnlyChannelsFromApiJson) {
  auto files = ReadWso2Project(Data("Notifications-2.0.0"));
  ASSERT_TRUE(files.ok()) << files.status();
  auto api = ParseWso2Project(*files);
  ASSERT_TRUE(api.ok()) << api.status();
  const v1::ApiSpec& s = api->api.spec();
  EXPECT_EQ(s.context(), "/notify") << "a trailing /{version} is dropped";
  EXPECT_TRUE(s.is_default_version());
  ASSERT_EQ(s.topics_size(), 1);
  EXPECT_EQ(s.topics(0).name(), "/events");
  EXPECT_TRUE(s.topics(0).subscribe());
  EXPECT_FALSE(s.topics(0).publish());
  EXPECT_EQ(s.topics(0).url_mapping(), "/notifications");
  EXPECT_TRUE(HasWarning(*api, "channels./events.subscribe.message"));
}

TEST(Wso2Import, BareAsyncApiTakesTheEndpointFromServers) {
  std::ifstream in(Data("chats-asyncapi.yaml"));
  std::stringstream text;
  text << in.rdbuf();
  AsyncApiOptions o;
  o.context = "/chatsasync";
  auto api = ParseAsyncApi("chats-asyncapi.yaml", text.str(), o);
  ASSERT_TRUE(api.ok()) << api.status();
  EXPECT_EQ(api->api.spec().name(), "ChatsAsync");
  EXPECT_EQ(api->api.spec().production_endpoint().url(), "ws://localhost:8080") << "protocol + host:port";
  ASSERT_EQ(api->api.spec().topics_size(), 2);
  EXPECT_EQ(api->api.spec().topics(1).scopes(0), "chat:write");
  // The scope is declared with its description and WSO2 role bindings (Internal/ dropped).
  ASSERT_EQ(api->api.spec().scopes_size(), 1);
  EXPECT_EQ(api->api.spec().scopes(0).name(), "chat:write");
  EXPECT_EQ(api->api.spec().scopes(0).description(), "post in rooms");
  EXPECT_EQ(std::vector<std::string>(api->api.spec().scopes(0).roles().begin(), api->api.spec().scopes(0).roles().end()),
            (std::vector<std::string>{"admin", "subscriber"}));
  EXPECT_FALSE(HasWarning(*api, "not declared")) << ::testing::PrintToString(api->warnings);
  o.endpoint = "ws://backend:9000";
  o.version = "2.0.0";
  api = ParseAsyncApi("chats-asyncapi.yaml", text.str(), o);
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->api.spec().production_endpoint().url(), "ws://backend:9000");
  EXPECT_EQ(api->api.spec().version(), "2.0.0");
  EXPECT_TRUE(HasWarning(*api, "servers: replaced by --endpoint"));

  auto no_context = ParseAsyncApi("x.yaml", text.str(), AsyncApiOptions());
  EXPECT_EQ(no_context.status().message(), "--context: required (e.g. --context /chats)");
  AsyncApiOptions ctx_only;
  ctx_only.context = "/x";
  auto no_server = ParseAsyncApi("x.yaml", "asyncapi: 2.6.0\ninfo: {title: X, version: '1'}\nchannels: {}\n", ctx_only);
  EXPECT_TRUE(absl::StartsWith(no_server.status().message(), "x.yaml: servers: no server")) << no_server.status();
  auto v3 = ParseAsyncApi("x.yaml", "asyncapi: 3.0.0\n", ctx_only);
  EXPECT_EQ(v3.status().message(), "x.yaml: asyncapi: '3.0.0': only AsyncAPI 2.x documents are supported");
}

struct Broken {
  const char* api_yaml;
  const char* error;
};

TEST(Wso2Import, BrokenProjectsAreRefusedNamingTheField) {
  const Broken cases[] = {
      {"type: api\ndata: {name: X, type: HTTP}\n", "api.yaml: data.type: 'HTTP': wsgate imports WebSocket APIs (type WS) only"},
      {"type: api\ndata: {name: X, type: WS, lifeCycleStatus: LIVE}\n", "api.yaml: data.lifeCycleStatus: 'LIVE' is not"},
      {"type: api\ndata:\n  type: WS\n  operations:\n    - {target: /a, verb: GET}\n",
       "api.yaml: data.operations[0].verb: 'GET': a WebSocket topic's verb is PUBLISH or SUBSCRIBE"},
      {"type: api\ndata:\n  type: WS\n  operations:\n    - {verb: PUBLISH}\n", "api.yaml: data.operations[0].target: required"},
      {"type: api\ndata: {type: WS, context: '/a/{version}/b', version: '1'}\n",
       "api.yaml: data.context: '{version}' inside the context is not supported"},
      {"type: certificate\ndata: {}\n", "api.yaml: type: 'certificate': not an API project"},
      {"type: api\n", "api.yaml: data: required"},
      {"type: api\ndata: {type: WS, endpointConfig: [1]}\n", "api.yaml: data.endpointConfig: expected a mapping"},
      {"data: [\n", "api.yaml:2: syntax error"},
  };
  for (const Broken& c : cases) {
    ProjectFiles files;
    files.api_name = "api.yaml";
    files.api_text = c.api_yaml;
    auto api = ParseWso2Project(files);
    EXPECT_FALSE(api.ok()) << c.api_yaml;
    EXPECT_TRUE(absl::StartsWith(api.status().message(), c.error)) << c.api_yaml << "\n got: " << api.status();
  }
  EXPECT_TRUE(absl::StrContains(ReadWso2Project("/nonexistent").status().message(), "no such project"));
}

TEST(Wso2Import, UnsecuredTopicsAndMappingConflictsAreReported) {
  ProjectFiles files;
  files.api_name = "api.yaml";
  files.api_text =
      "type: api\ndata:\n  name: X\n  type: WS\n  securityScheme: [oauth2, api_key]\n  operations:\n"
      "    - {target: /open, verb: SUBSCRIBE, authType: None}\n    - {target: /open, verb: PUBLISH, authType: None}\n"
      "    - {target: /m, verb: SUBSCRIBE, uriMapping: /sub}\n    - {target: /m, verb: PUBLISH, uriMapping: /pub}\n";
  auto api = ParseWso2Project(files);
  ASSERT_TRUE(api.ok()) << api.status();
  EXPECT_TRUE(api->api.spec().topics(0).unsecured());
  EXPECT_EQ(api->api.spec().topics(1).url_mapping(), "/pub") << "publish wins, as in WSO2";
  EXPECT_TRUE(HasWarning(*api, "data.operations[3]: URL mapping '/pub' replaces the subscribe mapping '/sub'"));
  // api_key is a scheme since issue 14 item 4 (wso2_api_key_test.cc): imported, not warned about.
  EXPECT_FALSE(HasWarning(*api, "data.securityScheme"));
  EXPECT_EQ(api->api.spec().security_size(), 2);
}

// Issue 14 item 1: apictl's data.scopes (with WSO2 4.x `bindings`) become the API's declared
// scopes; a topic's scope nobody declared is declared with a warning; export writes them back
// (api.yaml's scopes and AsyncAPI's flows.implicit.scopes with x-scopes-bindings).
TEST(Wso2Import, ApiScopesAndTheirRoleBindingsRoundTrip) {
  ProjectFiles files;
  files.api_name = "api.yaml";
  files.api_text =
      "type: api\ndata:\n  name: X\n  context: /x\n  version: '1'\n  type: WS\n"
      "  endpointConfig: {endpoint_type: ws, production_endpoints: {url: 'ws://b:1'}}\n  operations:\n"
      "    - {target: /rooms, verb: PUBLISH, scopes: [chat:write, chat:other]}\n"
      "  scopes:\n    - shared: false\n      scope: {id: 1, name: chat:write, displayName: chat:write,"
      " description: post, bindings: [admin, Internal/publisher], usageCount: 1}\n";
  auto api = ParseWso2Project(files);
  ASSERT_TRUE(api.ok()) << api.status();
  const v1::ApiSpec& spec = api->api.spec();
  ASSERT_EQ(spec.scopes_size(), 2);
  EXPECT_EQ(spec.scopes(0).name(), "chat:write");
  EXPECT_EQ(spec.scopes(0).description(), "post");
  EXPECT_EQ(std::vector<std::string>(spec.scopes(0).roles().begin(), spec.scopes(0).roles().end()),
            (std::vector<std::string>{"admin", "publisher"}));
  EXPECT_EQ(spec.scopes(1).name(), "chat:other");
  EXPECT_TRUE(spec.scopes(1).roles().empty());
  EXPECT_TRUE(HasWarning(*api, "topic /rooms: scope 'chat:other' is not declared; declared without roles"));
  EXPECT_EQ(api->warnings.size(), 1u) << ::testing::PrintToString(api->warnings);

  std::vector<std::string> warnings;
  ProjectFiles out = EmitWso2Project(api->api, &warnings);
  EXPECT_TRUE(absl::StrContains(out.asyncapi_text, "x-scopes-bindings")) << out.asyncapi_text;
  auto again = ParseWso2Project(out);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << out.api_text;
  EXPECT_TRUE(MessageDifferencer::Equals(api->api, again->api)) << api->api.DebugString() << "\n" << again->api.DebugString();
  EXPECT_TRUE(again->warnings.empty()) << ::testing::PrintToString(again->warnings);
}

TEST(Wso2Export, RoundTripGivesTheSameApi) {
  for (const char* project : {"ChatsWso2-1.0.0", "Notifications-2.0.0"}) {
    auto first = ParseWso2Project(*ReadWso2Project(Data(project)));
    ASSERT_TRUE(first.ok()) << first.status();
    std::vector<std::string> warnings;
    ProjectFiles out = EmitWso2Project(first->api, &warnings);
    EXPECT_TRUE(warnings.empty());
    auto again = ParseWso2Project(out);
    ASSERT_TRUE(again.ok()) << again.status() << "\n" << out.api_text;
    EXPECT_TRUE(MessageDifferencer::Equals(first->api, again->api))
        << project << "\n" << first->api.DebugString() << "\n" << again->api.DebugString();
    EXPECT_TRUE(again->warnings.empty()) << ::testing::PrintToString(again->warnings);
  }
  v1::DeclaredApi api;
  api.mutable_spec()->mutable_production_endpoint()->set_url("wss://b:443");
  api.mutable_spec()->mutable_production_endpoint()->set_insecure_skip_verify(true);
  std::vector<std::string> warnings;
  EmitWso2Project(api, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(warnings[0], "production_endpoint.insecure_skip_verify"));
}

TEST(Wso2Import, ZipWithATopLevelFolder) {
  char tmpl[] = "/tmp/wsgate-wso2-zip-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string zip_path = std::string(tmpl) + "/Notifications.zip";
  int err = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  auto files = ReadWso2Project(Data("Notifications-2.0.0"));
  ASSERT_TRUE(files.ok());
  // libzip reads the buffers at zip_close: they must live until then.
  for (const std::string* name : {&files->api_name, &files->asyncapi_name}) {
    const std::string& text = name == &files->api_name ? files->api_text : files->asyncapi_text;
    zip_source_t* src = zip_source_buffer(z, text.data(), text.size(), 0);
    ASSERT_GE(zip_file_add(z, ("Notifications-2.0.0/" + *name).c_str(), src, ZIP_FL_OVERWRITE), 0);
  }
  ASSERT_EQ(zip_close(z), 0);
  auto zipped = ReadWso2Project(zip_path);
  ASSERT_TRUE(zipped.ok()) << zipped.status();
  EXPECT_EQ(zipped->api_name, "Notifications-2.0.0/api.json");
  EXPECT_EQ(zipped->asyncapi_name, "Notifications-2.0.0/Definitions/asyncapi.json");
  auto api = ParseWso2Project(*zipped);
  ASSERT_TRUE(api.ok()) << api.status();
  EXPECT_EQ(api->api.spec().name(), "Notifications");
  std::ofstream(std::string(tmpl) + "/bad.zip") << "not a zip";
  EXPECT_TRUE(absl::StrContains(ReadWso2Project(std::string(tmpl) + "/bad.zip").status().message(), "not a readable zip"));
  ASSERT_EQ(std::system(("rm -rf " + std::string(tmpl)).c_str()), 0);
}

}  // namespace
}  // namespace wsgate::tools::ctl
