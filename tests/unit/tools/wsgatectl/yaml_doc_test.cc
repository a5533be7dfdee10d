// Unit tests for tools/wsgatectl/yaml_doc: the catalog document to YAML and back, byte-stable
// output, and every kind of bad input named by file, line and field.
#include "tools/wsgatectl/yaml_doc.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace wsgate::tools::ctl {
namespace {

using google::protobuf::util::MessageDifferencer;

v1::CatalogDocument Sample() {
  v1::CatalogDocument doc;
  v1::ThrottlePolicy* p = doc.add_policies();
  p->set_name("Tiny");
  p->set_level(v1::SUBSCRIPTION);
  p->set_events(3);
  p->set_unit(v1::MINUTE);
  p->set_unit_count(1);
  p->set_stop_on_quota_reach(true);
  v1::DeclaredApi* api = doc.add_apis();
  v1::ApiSpec* s = api->mutable_spec();
  s->set_name("Chats");
  s->set_context("/chats");
  s->set_version("1.0.0");
  s->set_description("rooms: and # notifications");  // needs quoting
  s->mutable_production_endpoint()->set_url("ws://localhost:8080");
  v1::Topic* t = s->add_topics();
  t->set_name("/rooms/{roomID}");
  t->set_url_mapping("/rooms?room={uri.var.roomID}");
  t->set_publish(true);
  t->add_scopes("chat:read");
  v1::ApiScope* declared = s->add_scopes();  // issue 14
  declared->set_name("chat:read");
  declared->set_description("read rooms");
  declared->add_roles("subscriber");
  s->add_plans("AsyncGold");
  s->add_plans("Tiny");
  api->set_state(v1::PRE_RELEASED);
  v1::DeclaredDeployment* d = api->add_deployments();
  d->set_environment("Production and Sandbox");
  d->set_vhost("localhost");
  v1::DeclaredApplication* app = doc.add_applications();
  app->set_name("ChatApp");
  app->set_blocked(true);
  app->add_scopes("chat:read");
  app->set_token_format(v1::TOKEN_FORMAT_OPAQUE);
  v1::DeclaredSubscription* sub = doc.add_subscriptions();
  sub->set_application("ChatApp");
  sub->set_api("Chats:1.0.0");
  sub->set_plan("Tiny");
  sub->set_state(v1::BLOCKED_PRODUCTION);
  v1::DeclaredEnvironment* env = doc.add_environments();
  env->mutable_environment()->set_name("Edge");
  v1::Vhost* v = env->mutable_environment()->add_vhosts();
  v->set_name("gw.example.test");
  v->set_is_default(true);
  env->mutable_environment()->set_type("production");
  env->add_settings("ping_interval=10s");
  return doc;
}

TEST(YamlDoc, RoundTripsAndIsByteStable) {
  v1::CatalogDocument doc = Sample();
  std::string text = EmitDocument(doc, "");
  EXPECT_EQ(text, EmitDocument(doc, ""));
  EXPECT_NE(text.find("  - name: Chats\n    context: /chats\n"), std::string::npos) << text;  // spec inlined
  EXPECT_NE(text.find("plans: [AsyncGold, Tiny]"), std::string::npos) << text;
  EXPECT_NE(text.find("state: PRE_RELEASED"), std::string::npos) << text;
  EXPECT_NE(text.find("    scopes:\n      - name: chat:read\n        description: read rooms\n        roles: [subscriber]\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("token_format: TOKEN_FORMAT_OPAQUE"), std::string::npos) << text;
  EXPECT_NE(text.find("environments:\n  - name: Edge\n    vhosts:\n      - name: gw.example.test\n        is_default: true\n"
                      "    type: production\n    settings: [ping_interval=10s]\n"),
            std::string::npos)
      << text;  // the environment inlined
  EXPECT_EQ(text.find("is_default_version"), std::string::npos) << "defaults are left out: " << text;
  v1::CatalogDocument back;
  SourceMap where;
  ASSERT_TRUE(ParseDocumentText("all.yaml", text, &back, &where).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(doc, back)) << back.DebugString();
}

TEST(YamlDoc, SectionsSplitAcrossFilesAppend) {
  v1::CatalogDocument doc = Sample();
  v1::CatalogDocument back;
  SourceMap where;
  for (const std::string& section : SectionNames()) {
    std::string text = EmitDocument(doc, section);
    EXPECT_TRUE(absl::StartsWith(text, section + ":")) << text;
    ASSERT_TRUE(ParseDocumentText(section + ".yaml", text, &back, &where).ok());
  }
  EXPECT_TRUE(MessageDifferencer::Equals(doc, back));
  // A second file adding an API: indexes continue, so agent errors find the right file.
  ASSERT_TRUE(ParseDocumentText("more.yaml", "apis:\n  - name: B\n    context: /b\n", &back, &where).ok());
  EXPECT_EQ(back.apis_size(), 2);
  EXPECT_EQ(where.Locate("apis[1].spec.context: must be unique"), "more.yaml:3: apis[1].context: must be unique");
  EXPECT_EQ(where.Locate("apis[0].spec.topics[0].name: bad"), "apis.yaml:9: apis[0].topics[0].name: bad");
  EXPECT_EQ(where.Locate("apis[0].spec.plans: unknown business plan 'X'"),
            "apis.yaml:13: apis[0].plans: unknown business plan 'X'");
  // A path the files do not hold falls back to its nearest parent.
  EXPECT_EQ(where.Locate("apis[1].deployments[0].environment: unknown"),
            "more.yaml:2: apis[1].deployments[0].environment: unknown");
  EXPECT_EQ(where.Locate("no path here"), "no path here");
}

struct Bad {
  const char* text;
  const char* error;
};

TEST(YamlDoc, BadInputNamesFileLineAndField) {
  const Bad cases[] = {
      {"apis:\n  - name: X\n    topics: [\n", "f.yaml:4: YAML syntax error: end of sequence flow not found"},
      {"apis:\n  - name: X\n    contxt: /x\n", "f.yaml:3: apis[0].contxt: unknown field (known: name, context, version"},
      {"apis:\n  - name: X\n    is_default_version: maybe\n",
       "f.yaml:3: apis[0].is_default_version: expected true or false, got 'maybe'"},
      {"apis:\n  - state: LIVE\n", "f.yaml:2: apis[0].state: 'LIVE' is not one of CREATED, PRE_RELEASED"},
      {"policies:\n  - name: P\n    events: -3\n", "f.yaml:3: policies[0].events: expected a whole number"},
      {"policies:\n  - name: P\n    unit_count: 99999999999\n", "f.yaml:3: policies[0].unit_count: expected a whole number"},
      {"apis:\n  name: X\n", "f.yaml:2: apis: expected a list"},
      {"apis:\n  - name: [X]\n", "f.yaml:2: apis[0].name: expected a single value"},
      {"- apis\n", "f.yaml:1: expected a mapping of sections (policies, apis, applications, subscriptions, environments, identity_providers)"},
      {"certificates: []\n",
       "f.yaml:1: certificates: unknown field (known: policies, apis, applications, subscriptions, environments, identity_providers)"},
      {"environments:\n  - name: Edge\n    vhost: [a]\n",
       "f.yaml:3: environments[0].vhost: unknown field (known: name, vhosts, type, description, settings)"},
      {"environments:\n  - name: Edge\n    settings: {ping_interval: 10s}\n",
       "f.yaml:3: environments[0].settings: expected a list"},
  };
  for (const Bad& c : cases) {
    v1::CatalogDocument doc;
    SourceMap where;
    absl::Status s = ParseDocumentText("f.yaml", c.text, &doc, &where);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_TRUE(absl::StartsWith(s.message(), c.error)) << c.text << "\n got: " << s.message();
  }
}

TEST(YamlDoc, StringsExpandEnvironmentVariables) {
  setenv("WSGATE_TEST_BACKEND", "ws://backend:9000", 1);
  unsetenv("WSGATE_TEST_UNSET");
  v1::CatalogDocument doc;
  SourceMap where;
  ASSERT_TRUE(ParseDocumentText("f.yaml",
                                "apis:\n  - name: A\n    production_endpoint: {url: '${WSGATE_TEST_BACKEND}/x'}\n"
                                "    sandbox_endpoint: {url: '${WSGATE_TEST_UNSET:-ws://localhost:8080}'}\n"
                                "    description: costs $${PRICE}\n",
                                &doc, &where)
                  .ok());
  EXPECT_EQ(doc.apis(0).spec().production_endpoint().url(), "ws://backend:9000/x");
  EXPECT_EQ(doc.apis(0).spec().sandbox_endpoint().url(), "ws://localhost:8080");
  EXPECT_EQ(doc.apis(0).spec().description(), "costs ${PRICE}");
  absl::Status s = ParseDocumentText("f.yaml", "apis:\n  - name: ${WSGATE_TEST_UNSET}\n", &doc, &where);
  EXPECT_EQ(s.message(), "f.yaml:2: apis[1].name: environment variable WSGATE_TEST_UNSET is not set (or write "
                         "${WSGATE_TEST_UNSET:-DEFAULT})");
}

TEST(YamlDoc, EnumsAcceptWso2Spelling) {
  v1::CatalogDocument doc;
  SourceMap where;
  ASSERT_TRUE(ParseDocumentText("f.yaml", "apis:\n  - state: pre-released\n", &doc, &where).ok());
  EXPECT_EQ(doc.apis(0).state(), v1::PRE_RELEASED);
  ASSERT_TRUE(ParseDocumentText("g.yaml", "", &doc, &where).ok()) << "an empty file is an empty document";
}

}  // namespace
}  // namespace wsgate::tools::ctl
