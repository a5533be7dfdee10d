// Unit tests for agent/catalog_apply.cc on a real SQLite file: a document applied to a fresh
// catalog, idempotence, dry runs, field-level updates, revisions made only when the content
// differs, prune, and that a refused document changes nothing.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "agent/catalog.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

using google::protobuf::util::MessageDifferencer;

class CatalogApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    char tmpl[] = "/tmp/wsgate-apply-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), CatalogOptions());
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *std::move(c);
    catalog_->SetChangeListener([this](uint64_t v) { pushed_.push_back(v); });
  }
  void TearDown() override {
    catalog_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  // The walkthrough as a document: Chats with two topics, published and deployed, a custom
  // policy, ChatApp and its subscription.
  static v1::CatalogDocument Walkthrough() {
    v1::CatalogDocument doc;
    v1::ThrottlePolicy* p = doc.add_policies();
    p->set_name("Tiny");
    p->set_events(3);
    p->set_unit(v1::MINUTE);
    v1::DeclaredApi* api = doc.add_apis();
    v1::ApiSpec* s = api->mutable_spec();
    s->set_name("Chats");
    s->set_context("/chats");
    s->set_version("1.0.0");
    s->mutable_production_endpoint()->set_url("ws://localhost:8080");
    v1::Topic* n = s->add_topics();
    n->set_name("/notifications");
    n->set_url_mapping("/notifications");
    v1::Topic* r = s->add_topics();
    r->set_name("/rooms/{roomID}");
    r->set_url_mapping("/rooms?room={uri.var.roomID}");
    s->add_plans("AsyncGold");
    s->add_plans("Tiny");
    api->set_state(v1::PUBLISHED);
    api->add_deployments()->set_environment("Production and Sandbox");
    doc.add_applications()->set_name("ChatApp");
    v1::DeclaredSubscription* sub = doc.add_subscriptions();
    sub->set_application("ChatApp");
    sub->set_api("Chats:1.0.0");
    sub->set_plan("AsyncGold");
    return doc;
  }
  absl::StatusOr<v1::ApplyCatalogResponse> Apply(const v1::CatalogDocument& doc, bool dry_run = false,
                                                 bool prune = false) {
    v1::ApplyCatalogRequest req;
    *req.mutable_document() = doc;
    req.set_dry_run(dry_run);
    req.set_prune(prune);
    return catalog_->ApplyCatalog(req);
  }
  static std::vector<std::string> Names(const v1::ApplyCatalogResponse& resp) {
    std::vector<std::string> out;
    for (const auto& c : resp.changes()) out.push_back(c.action() + " " + c.kind() + " " + c.name());
    return out;
  }

  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
  std::vector<uint64_t> pushed_;
};

TEST_F(CatalogApplyTest, FreshCatalogThenIdempotent) {
  auto first = Apply(Walkthrough());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->committed());
  // In the order apply makes them: deployments come after subscriptions (a final lifecycle state
  // may refuse new subscriptions).
  EXPECT_EQ(Names(*first), (std::vector<std::string>{"create policy Tiny", "create api Chats:1.0.0",
                                                     "create application ChatApp",
                                                     "create subscription ChatApp/Chats:1.0.0",
                                                     "create revision Chats:1.0.0#1",
                                                     "create deployment Chats:1.0.0@Production and Sandbox"}))
      << first->DebugString();
  EXPECT_EQ(pushed_.size(), 1u) << "one push for the whole document";
  auto api = catalog_->GetApi("Chats:1.0.0");
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->state(), v1::PUBLISHED);
  EXPECT_EQ(api->deployed_revisions_size(), 1);

  auto again = Apply(Walkthrough());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->changes_size(), 0) << again->DebugString();
  EXPECT_FALSE(again->committed());
  EXPECT_EQ(pushed_.size(), 1u);

  // Export gives back what was declared, with the catalog's defaults filled in; applying the
  // export changes nothing.
  auto exported = catalog_->ExportCatalog();
  ASSERT_TRUE(exported.ok());
  ASSERT_EQ(exported->apis_size(), 1);
  EXPECT_EQ(exported->apis(0).deployments(0).vhost(), "localhost");
  EXPECT_EQ(exported->apis(0).spec().security(0), "oauth2");
  EXPECT_EQ(exported->subscriptions(0).state(), v1::ACTIVE);
  EXPECT_EQ(exported->policies_size(), 6);  // five built-in and Tiny
  auto from_export = Apply(*exported);
  ASSERT_TRUE(from_export.ok());
  EXPECT_EQ(from_export->changes_size(), 0) << from_export->DebugString();
}

TEST_F(CatalogApplyTest, DryRunChangesNothing) {
  auto dry = Apply(Walkthrough(), /*dry_run=*/true);
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->changes_size(), 6);
  EXPECT_FALSE(dry->committed());
  EXPECT_TRUE(catalog_->ListApis("")->empty());
  EXPECT_TRUE(catalog_->ListApplications()->empty());
  EXPECT_TRUE(pushed_.empty());
  EXPECT_EQ(catalog_->config_version(), 1u);
}

TEST_F(CatalogApplyTest, RefusedDocumentChangesNothingAndNamesThePath) {
  v1::CatalogDocument doc = Walkthrough();
  v1::DeclaredApi* bad = doc.add_apis();
  *bad->mutable_spec() = doc.apis(0).spec();
  bad->mutable_spec()->set_name("Other");
  bad->mutable_spec()->set_context("/other");
  bad->mutable_spec()->mutable_topics(1)->set_name("rooms");
  auto resp = Apply(doc);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(resp.status().message(), "apis[1].spec.topics[1].name: ")) << resp.status();
  EXPECT_TRUE(catalog_->ListApis("")->empty()) << "the first API was rolled back too";
  EXPECT_EQ(catalog_->ListPolicies(v1::POLICY_LEVEL_UNSPECIFIED)->size(), 5u);
  EXPECT_TRUE(pushed_.empty());

  v1::CatalogDocument twice = Walkthrough();
  *twice.add_applications() = twice.applications(0);
  resp = Apply(twice);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().message(), "applications[1]: 'ChatApp' is declared twice (also applications[0])");

  v1::CatalogDocument unknown_plan = Walkthrough();
  unknown_plan.mutable_subscriptions(0)->set_plan("Platinum");
  resp = Apply(unknown_plan);
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(absl::StartsWith(resp.status().message(), "subscriptions[0].plan: ")) << resp.status();
  EXPECT_TRUE(catalog_->ListApis("")->empty());
}

TEST_F(CatalogApplyTest, UpdatesAreFieldLevelAndMakeANewRevisionOnlyWhenTheContentDiffers) {
  ASSERT_TRUE(Apply(Walkthrough()).ok());
  v1::CatalogDocument doc = Walkthrough();
  doc.mutable_apis(0)->mutable_spec()->set_description("rooms and notifications");
  doc.mutable_apis(0)->mutable_spec()->mutable_topics(0)->set_url_mapping("/notify");
  doc.mutable_applications(0)->set_description("the chat client");
  doc.mutable_subscriptions(0)->set_plan("Tiny");
  doc.mutable_policies(0)->set_events(5);
  auto resp = Apply(doc);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(Names(*resp), (std::vector<std::string>{"update policy Tiny", "update api Chats:1.0.0",
                                                    "update application ChatApp",
                                                    "update subscription ChatApp/Chats:1.0.0",
                                                    "create revision Chats:1.0.0#2",
                                                    "update deployment Chats:1.0.0@Production and Sandbox"}))
      << resp->DebugString();
  const v1::CatalogChange& api = resp->changes(1);
  ASSERT_EQ(api.fields_size(), 2) << api.DebugString();
  EXPECT_NE(api.fields(0).find("spec.description"), std::string::npos) << api.fields(0);
  EXPECT_NE(api.fields(1).find("spec.topics[0].url_mapping: \"/notifications\" -> \"/notify\""), std::string::npos)
      << api.fields(1);
  EXPECT_EQ(resp->changes(5).fields(0), "revision: 1 -> 2");
  EXPECT_NE(resp->changes(3).fields(0).find("plan: \"AsyncGold\" -> \"Tiny\""), std::string::npos);

  // Back to the first content: revision 1 is reused, not copied.
  resp = Apply(Walkthrough());
  ASSERT_TRUE(resp.ok()) << resp.status();
  for (const auto& c : resp->changes()) EXPECT_NE(c.kind(), "revision") << c.DebugString();
  EXPECT_EQ(catalog_->ListRevisions("Chats:1.0.0")->size(), 2u);
  EXPECT_EQ(catalog_->ListDeployments("Chats:1.0.0")->at(0).revision(), 1u);
}

TEST_F(CatalogApplyTest, LifecycleFollowsWso2PathsAndUndeclaredDeploymentsAreRemoved) {
  ASSERT_TRUE(Apply(Walkthrough()).ok());
  v1::CatalogDocument doc = Walkthrough();
  doc.mutable_apis(0)->set_state(v1::DEPRECATED);
  doc.mutable_apis(0)->clear_deployments();
  auto resp = Apply(doc);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(catalog_->GetApi("Chats:1.0.0")->state(), v1::DEPRECATED);
  EXPECT_TRUE(catalog_->ListDeployments("Chats:1.0.0")->empty());
  // No way back from DEPRECATED to PUBLISHED in WSO2's lifecycle.
  resp = Apply(Walkthrough());
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(absl::StartsWith(resp.status().message(), "apis[0].state: ")) << resp.status();
}

TEST_F(CatalogApplyTest, PruneDeletesWhatIsNotDeclaredButNeverBuiltins) {
  ASSERT_TRUE(Apply(Walkthrough()).ok());
  v1::CatalogDocument empty;
  auto without = Apply(empty);  // no prune: nothing is deleted
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without->changes_size(), 0);
  auto pruned = Apply(empty, false, /*prune=*/true);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(Names(*pruned), (std::vector<std::string>{"delete subscription ChatApp/Chats:1.0.0",
                                                      "delete application ChatApp",
                                                      "delete deployment Chats:1.0.0@Production and Sandbox",
                                                      "delete api Chats:1.0.0", "delete policy Tiny"}));
  EXPECT_TRUE(catalog_->ListApis("")->empty());
  EXPECT_EQ(catalog_->ListPolicies(v1::POLICY_LEVEL_UNSPECIFIED)->size(), 5u);
}

TEST_F(CatalogApplyTest, ABadDeploymentIsNamedByItsPlaceInTheDocument) {
  v1::CatalogDocument doc = Walkthrough();
  doc.mutable_apis(0)->add_deployments()->set_environment("Nowhere");
  auto resp = Apply(doc);
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(absl::StartsWith(resp.status().message(), "apis[0].deployments[1].env: unknown gateway environment 'Nowhere'"))
      << resp.status();
  EXPECT_TRUE(catalog_->ListApis("")->empty());
}

TEST_F(CatalogApplyTest, BuiltinPoliciesCannotBeChanged) {
  v1::CatalogDocument doc;
  v1::ThrottlePolicy* gold = doc.add_policies();
  gold->set_name("AsyncGold");
  gold->set_events(1);
  gold->set_unit(v1::DAY);
  auto resp = Apply(doc);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StartsWith(resp.status().message(), "policies[0]: 'AsyncGold' is a built-in policy"))
      << resp.status();
}

// --- environments and their settings (issue 12 item 7) ---

v1::DeclaredEnvironment* AddEdge(v1::CatalogDocument& doc, std::vector<std::string> settings) {
  v1::DeclaredEnvironment* e = doc.add_environments();
  e->mutable_environment()->set_name("Edge");
  e->mutable_environment()->set_description("the edge gateways");
  v1::Vhost* v = e->mutable_environment()->add_vhosts();
  v->set_name("GW.example.test");  // stored lower-case
  v->add_aliases("edge.example.test");
  v->set_is_default(true);
  for (auto& s : settings) e->add_settings(s);
  return e;
}

TEST_F(CatalogApplyTest, EnvironmentsAndSettingsAreAppliedAndReachTheSnapshot) {
  v1::CatalogDocument doc = Walkthrough();
  AddEdge(doc, {"ping_interval=10s", "max_message_bytes=1MiB"});
  doc.mutable_apis(0)->add_deployments()->set_environment("Edge");  // no vhost: Edge's default one
  auto first = Apply(doc);
  ASSERT_TRUE(first.ok()) << first.status();
  std::vector<std::string> names = Names(*first);
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[0], "create environment Edge") << "environments come before everything that names them";
  EXPECT_EQ(names[1], "update settings Edge");
  EXPECT_EQ(first->changes(1).fields(0), "max_message_bytes: default -> 1MiB");
  EXPECT_EQ(first->changes(1).fields(1), "ping_interval: default -> 10s");
  EXPECT_EQ(pushed_.size(), 1u);

  auto snap = catalog_->BuildSnapshot("Edge");
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->settings().ping_interval_ms(), 10000u);
  EXPECT_EQ(snap->settings().max_message_bytes(), 1048576u);
  ASSERT_EQ(snap->vhosts_size(), 1);
  EXPECT_EQ(snap->vhosts(0).name(), "gw.example.test");
  auto deps = catalog_->ListDeployments("Chats:1.0.0");
  ASSERT_TRUE(deps.ok());
  ASSERT_EQ(deps->size(), 2u);
  for (const auto& d : *deps)
    EXPECT_EQ(d.vhost(), d.environment() == "Edge" ? "gw.example.test" : "localhost") << d.DebugString();
  auto prod = catalog_->BuildSnapshot("Production and Sandbox");
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->settings().ping_interval_ms(), 0u) << "another environment's settings stay as they were";

  auto again = Apply(doc);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->changes_size(), 0) << again->DebugString();
  EXPECT_EQ(pushed_.size(), 1u);

  // Export: both environments by name, the default one too, settings as key=value in table order.
  auto exported = catalog_->ExportCatalog();
  ASSERT_TRUE(exported.ok());
  ASSERT_EQ(exported->environments_size(), 2);
  const v1::DeclaredEnvironment& edge = exported->environments(0);
  EXPECT_EQ(edge.environment().name(), "Edge");
  EXPECT_EQ(edge.environment().type(), "hybrid");
  EXPECT_EQ(edge.environment().vhosts(0).name(), "gw.example.test");
  EXPECT_EQ(edge.environment().vhosts(0).ws_port(), 9099u);
  EXPECT_EQ(edge.environment().vhosts(0).environment(), "") << "implied by the environment";
  EXPECT_EQ(std::vector<std::string>(edge.settings().begin(), edge.settings().end()),
            (std::vector<std::string>{"max_message_bytes=1MiB", "ping_interval=10s"}));
  EXPECT_EQ(exported->environments(1).environment().name(), "Production and Sandbox");
  EXPECT_EQ(exported->environments(1).settings_size(), 0);
  auto from_export = Apply(*exported);
  ASSERT_TRUE(from_export.ok()) << from_export.status();
  EXPECT_EQ(from_export->changes_size(), 0) << from_export->DebugString();

  // An update: a new description, one setting changed, one back to the default.
  doc.mutable_environments(0)->mutable_environment()->set_description("edge, renamed");
  doc.mutable_environments(0)->clear_settings();
  doc.mutable_environments(0)->add_settings("ping_interval=20s");
  auto update = Apply(doc);
  ASSERT_TRUE(update.ok()) << update.status();
  ASSERT_EQ(Names(*update), (std::vector<std::string>{"update environment Edge", "update settings Edge"}))
      << update->DebugString();
  EXPECT_TRUE(absl::StrContains(update->changes(0).fields(0), "edge, renamed")) << update->DebugString();
  EXPECT_EQ(update->changes(1).fields(0), "max_message_bytes: 1MiB -> default");
  EXPECT_EQ(update->changes(1).fields(1), "ping_interval: 10s -> 20s");
  snap = catalog_->BuildSnapshot("Edge");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->settings().ping_interval_ms(), 20000u);
  EXPECT_EQ(snap->settings().max_message_bytes(), 0u);
  EXPECT_EQ(pushed_.size(), 2u);
}

TEST_F(CatalogApplyTest, ABadSettingIsRefusedWithItsPathAndChangesNothing) {
  v1::CatalogDocument doc = Walkthrough();
  AddEdge(doc, {"pong_timeout=40s", "ping_interval=50ms"});
  auto resp = Apply(doc);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().message(), "environments[0].settings[1].ping_interval: 50ms is out of range [1s, 1h]");
  AddEdge(doc, {})->mutable_environment()->set_name("Edge2");
  doc.mutable_environments(0)->set_settings(1, "pingg=1s");
  resp = Apply(doc);
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(absl::StartsWith(resp.status().message(), "environments[0].settings[1]: 'pingg' is not a setting"))
      << resp.status();
  doc.mutable_environments(0)->set_settings(1, "pong_timeout=1m");
  resp = Apply(doc);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().message(), "environments[0].settings[1]: 'pong_timeout' is set twice (also settings[0])");
  doc.mutable_environments(1)->mutable_environment()->mutable_vhosts(0)->set_name("bad host");
  doc.mutable_environments(0)->set_settings(1, "ping_interval=5s");
  resp = Apply(doc);
  ASSERT_FALSE(resp.ok());
  EXPECT_TRUE(absl::StartsWith(resp.status().message(), "environments[1].environment.vhosts[0].name: 'bad host'"))
      << resp.status();
  auto envs = catalog_->ListEnvironments();
  ASSERT_TRUE(envs.ok());
  EXPECT_EQ(envs->size(), 1u) << "the first environment was rolled back too";
  EXPECT_TRUE(pushed_.empty());
}

TEST_F(CatalogApplyTest, PruneDeletesEnvironmentsLastAndNeverTheDefaultOne) {
  v1::CatalogDocument doc = Walkthrough();
  AddEdge(doc, {"ping_interval=10s"});
  doc.mutable_apis(0)->add_deployments()->set_environment("Edge");
  ASSERT_TRUE(Apply(doc).ok());

  // Edge undeclared but still deployed to by a declared API: refused, naming that deployment.
  v1::CatalogDocument without = doc;
  without.clear_environments();
  auto refused = Apply(without, false, true);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StartsWith(refused.status().message(), "apis[0].deployments[1].environment: 'Edge' is not declared"))
      << refused.status();
  ASSERT_EQ(catalog_->ListEnvironments()->size(), 2u);

  // Without the deployment, Edge goes, after everything else; the default environment stays
  // although the document does not declare it.
  without.mutable_apis(0)->mutable_deployments()->RemoveLast();
  without.clear_applications();
  without.clear_subscriptions();
  auto pruned = Apply(without, false, true);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  std::vector<std::string> names = Names(*pruned);
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "delete environment Edge") << pruned->DebugString();
  EXPECT_EQ(names.front(), "delete deployment Chats:1.0.0@Edge");
  auto envs = catalog_->ListEnvironments();
  ASSERT_TRUE(envs.ok());
  ASSERT_EQ(envs->size(), 1u);
  EXPECT_EQ((*envs)[0].name(), "Production and Sandbox");
}

}  // namespace
}  // namespace wsgate::agent

namespace wsgate::agent {
namespace {

// Issue 14 items 1 and 5: an API's declared scopes and an application's token format are
// applied, exported and re-applied without changes; the default format is exported as absent.
TEST_F(CatalogApplyTest, ScopesAndTokenFormatRoundTrip) {
  v1::CatalogDocument doc = Walkthrough();
  v1::ApiSpec* spec = doc.mutable_apis(0)->mutable_spec();
  v1::ApiScope* scope = spec->add_scopes();
  scope->set_name("chat:rooms");
  scope->set_description("join rooms");
  scope->add_roles("subscriber");
  spec->mutable_topics(1)->add_scopes("chat:rooms");
  doc.mutable_applications(0)->set_token_format(v1::TOKEN_FORMAT_OPAQUE);
  v1::DeclaredApplication* jwt = doc.add_applications();
  jwt->set_name("JwtApp");
  jwt->set_token_format(v1::TOKEN_FORMAT_JWT);
  auto first = Apply(doc);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(catalog_->GetApplication("ChatApp")->token_format(), v1::TOKEN_FORMAT_OPAQUE);
  auto exported = catalog_->ExportCatalog();
  ASSERT_TRUE(exported.ok());
  ASSERT_EQ(exported->apis(0).spec().scopes_size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(exported->apis(0).spec().scopes(0), *scope));
  for (const auto& a : exported->applications())
    EXPECT_EQ(a.token_format(), a.name() == "ChatApp" ? v1::TOKEN_FORMAT_OPAQUE : v1::TOKEN_FORMAT_UNSPECIFIED);
  auto again = Apply(doc);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->changes().empty()) << ::testing::PrintToString(Names(*again));
  auto from_export = Apply(*exported);
  ASSERT_TRUE(from_export.ok());
  EXPECT_TRUE(from_export->changes().empty()) << ::testing::PrintToString(Names(*from_export));

  // A format change is a field-level update; an undeclared topic scope names the path.
  doc.mutable_applications(0)->clear_token_format();
  auto update = Apply(doc);
  ASSERT_TRUE(update.ok());
  ASSERT_EQ(update->changes_size(), 1);
  EXPECT_EQ(update->changes(0).kind(), "application");
  EXPECT_EQ(catalog_->GetApplication("ChatApp")->token_format(), v1::TOKEN_FORMAT_JWT);
  doc.mutable_apis(0)->mutable_spec()->clear_scopes();
  auto refused = Apply(doc);
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "does not declare")) << refused.status();
}

}  // namespace
}  // namespace wsgate::agent
