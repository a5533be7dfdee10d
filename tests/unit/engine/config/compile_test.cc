// Unit tests for engine/config/compile: what a valid snapshot compiles to, and a named error
// (with its field path) for each kind of bad input.
#include "engine/config/compile.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::config {
namespace {

using testing::CompileOrDie;
using testing::FakeResolver;
using testing::kChatsSnapshot;
using testing::ParseSnapshot;

TEST(Compile, BuildsIndexes) {
  auto s = CompileOrDie(kChatsSnapshot);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->version, 7u);
  EXPECT_EQ(s->apis.size(), 2u);
  ASSERT_NE(s->RoutesForHost("localhost"), nullptr);
  ASSERT_EQ(s->RoutesForHost("127.0.0.1:9099"), s->RoutesForHost("localhost"));  // an alias
  EXPECT_EQ(s->RoutesForHost("other"), nullptr);
  EXPECT_TRUE(s->RoutesForHost("localhost")->contains("/chats/1.0.0"));
  EXPECT_TRUE(s->RoutesForHost("localhost")->contains("/chats"));     // default version
  EXPECT_FALSE(s->RoutesForHost("localhost")->contains("/wild"));     // not default
  const Api& wild = *s->apis_by_id.at("api-wild");
  EXPECT_FALSE(wild.production.has_value());
  ASSERT_TRUE(wild.sandbox.has_value());
  EXPECT_TRUE(wild.sandbox->tls);
  EXPECT_EQ(wild.sandbox->host, "backend.example");
  EXPECT_EQ(wild.sandbox->port, 8443);
  EXPECT_EQ(wild.sandbox->host_header, "backend.example:8443");
  EXPECT_EQ(wild.sandbox->base_path, "/base");
  EXPECT_EQ(wild.topics.front().name, "/a/b/c");  // match order
  EXPECT_EQ(wild.topics.back().name, "/*");
  EXPECT_TRUE(wild.topics.back().publish && wild.topics.back().subscribe);  // neither set = both
}

TEST(Compile, TheDocumentedExampleConfigIsValid) {
  std::ifstream in(WSGATE_SOURCE_DIR "/docs/examples/chats.textproto");
  ASSERT_TRUE(in) << "docs/examples/chats.textproto is missing";
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  // As shipped, with no placeholders: `wsgate-engine --check-config` accepts it unedited.
  auto s = CompileOrDie(text);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->RoutesForHost("localhost")->contains("/chats/1.0.0"));
  EXPECT_EQ(s->opaque_tokens.size(), 1u);
  EXPECT_EQ(s->apis_by_id.at("chats-1.0.0")->production->port, 8080);
}

TEST(ParseEndpointUrl, HandlesPortsPathsAndIpv6) {
  Endpoint e;
  ASSERT_TRUE(ParseEndpointUrl("ws://localhost:8080", &e).ok());
  EXPECT_EQ(e.host_header, "localhost:8080");
  EXPECT_EQ(e.base_path, "");
  ASSERT_TRUE(ParseEndpointUrl("wss://h.example/p/q/", &e).ok());
  EXPECT_EQ(e.port, 443);
  EXPECT_EQ(e.host_header, "h.example");
  EXPECT_EQ(e.base_path, "/p/q");
  ASSERT_TRUE(ParseEndpointUrl("ws://[::1]:9000/x", &e).ok());
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.host_header, "[::1]:9000");
  EXPECT_FALSE(ParseEndpointUrl("http://h", &e).ok());
  EXPECT_FALSE(ParseEndpointUrl("ws://", &e).ok());
  EXPECT_FALSE(ParseEndpointUrl("ws://h:0", &e).ok());
  EXPECT_FALSE(ParseEndpointUrl("ws://h:99999", &e).ok());
  EXPECT_FALSE(ParseEndpointUrl("ws://u@h", &e).ok());
  EXPECT_FALSE(ParseEndpointUrl("ws://h?x=1", &e).ok());
}

TEST(ParseTopicTemplate, AcceptsAndRejects) {
  Topic t;
  ASSERT_TRUE(ParseTopicTemplate("/*", &t).ok());
  EXPECT_TRUE(t.wildcard);
  EXPECT_TRUE(t.segments.empty());
  ASSERT_TRUE(ParseTopicTemplate("/a/{b}/*", &t).ok());
  EXPECT_EQ(t.segments.size(), 2u);
  EXPECT_TRUE(t.segments[1].is_param);
  EXPECT_FALSE(ParseTopicTemplate("rooms", &t).ok());
  EXPECT_FALSE(ParseTopicTemplate("/a//b", &t).ok());
  EXPECT_FALSE(ParseTopicTemplate("/*/a", &t).ok());
  EXPECT_FALSE(ParseTopicTemplate("/{a}/{a}", &t).ok());
  EXPECT_FALSE(ParseTopicTemplate("/{}", &t).ok());
  EXPECT_FALSE(ParseTopicTemplate("/a{b}", &t).ok());
}

struct BadSnapshot {
  const char* name;
  std::string text;
  std::string field;  // the error must start with this path
};

class CompileRejects : public ::testing::TestWithParam<BadSnapshot> {};

TEST_P(CompileRejects, NamingTheField) {
  auto s = Compile(ParseSnapshot(GetParam().text), FakeResolver());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.status().message()).rfind(GetParam().field, 0), 0u) << s.status();
}

const std::string kVhost = R"pb(vhosts { name: "localhost" })pb";
std::string Api(const std::string& body) { return kVhost + " apis { id: 'a' name: 'A' version: '1' vhosts: 'localhost' " + body + " }"; }

INSTANTIATE_TEST_SUITE_P(
    Table, CompileRejects,
    ::testing::Values(
        BadSnapshot{"no_context", Api("production_endpoint { url: 'ws://h' }"), "apis[0].context"},
        BadSnapshot{"context_trailing_slash", Api("context: '/c/' production_endpoint { url: 'ws://h' }"), "apis[0].context"},
        BadSnapshot{"no_endpoint", Api("context: '/c'"), "apis[0]"},
        BadSnapshot{"bad_endpoint_scheme", Api("context: '/c' production_endpoint { url: 'http://h' }"),
                    "apis[0].production_endpoint.url"},
        BadSnapshot{"bad_topic", Api("context: '/c' production_endpoint { url: 'ws://h' } topics { name: 'x' }"),
                    "apis[0].topics[0].name"},
        BadSnapshot{"unknown_mapping_variable",
                    Api("context: '/c' production_endpoint { url: 'ws://h' } topics { name: '/r/{id}' url_mapping: '/r?x={uri.var.room}' }"),
                    "apis[0].topics[0].url_mapping"},
        BadSnapshot{"non_uri_var_mapping",
                    Api("context: '/c' production_endpoint { url: 'ws://h' } topics { name: '/r/{id}' url_mapping: '/r/{id}' }"),
                    "apis[0].topics[0].url_mapping"},
        BadSnapshot{"duplicate_topic",
                    Api("context: '/c' production_endpoint { url: 'ws://h' } topics { name: '/t' } topics { name: '/t/' }"),
                    "apis[0].topics[1].name"},
        BadSnapshot{"unknown_vhost", kVhost + " apis { id: 'a' context: '/c' version: '1' vhosts: 'nope' production_endpoint { url: 'ws://h' } }",
                    "apis[0].vhosts[0]"},
        BadSnapshot{"duplicate_context",
                    Api("context: '/c' production_endpoint { url: 'ws://h' }") +
                        " apis { id: 'b' context: '/c' version: '1' vhosts: 'localhost' production_endpoint { url: 'ws://h' } }",
                    "apis[1]"},
        BadSnapshot{"unknown_policy", Api("context: '/c' production_endpoint { url: 'ws://h' } throttle_policy: 'Gold'"),
                    "apis[0].throttle_policy"},
        BadSnapshot{"bad_signing_key", "signing_keys { kid: 'k' algorithm: RS256 public_key_pem: 'junk' }",
                    "signing_keys[0].public_key_pem"},
        BadSnapshot{"subscription_unknown_app", "subscriptions { id: 's' application_id: 'x' api_id: 'a' }",
                    "subscriptions[0].application_id"},
        BadSnapshot{"short_token_hash", "opaque_tokens { sha256: 'abc' }", "opaque_tokens[0].sha256"},
        BadSnapshot{"tiny_queue", "settings { queue_bytes: 10 }", "settings.queue_bytes"},
        BadSnapshot{"policy_without_events", "throttle_policies { name: 'Zero' unit: DAY }",
                    "throttle_policies[0] (Zero): events"},
        BadSnapshot{"policy_without_unit", "throttle_policies { name: 'NoUnit' events: 5 }",
                    "throttle_policies[0] (NoUnit): unit"}),
    [](const ::testing::TestParamInfo<BadSnapshot>& p) { return p.param.name; });

TEST(Compile, UnresolvableEndpointIsNotFatal) {
  auto s = Compile(ParseSnapshot(Api("context: '/c' production_endpoint { url: 'ws://unresolvable.invalid' }")),
                   FakeResolver());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NE((*s)->apis[0]->production->resolve_error, "");
}

}  // namespace
}  // namespace wsgate::engine::config
