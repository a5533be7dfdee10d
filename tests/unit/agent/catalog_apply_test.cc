// Unit tests for agent/catalog_apply.cc on a real SQLite file: a document applied to a fresh
// catalog, idempotence, dry runs, field-level updates, revisions made only when the content
// differs, prune, and that a refused document changes nothing.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "agent/catalog.h"

namespace wsgate::agent {
namespace {

using google::protobuf::util::MessageDifferencer;

class CatalogApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-apply-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto c = Catalog::Open(dir_ + "/catalog.db", CatalogOptions());
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

}  // namespace
}  // namespace wsgate::agent
