// Unit tests for engine/config/throttle_plan: which policies count a connection's frames, and
// under which counter keys.
#include "engine/config/throttle_plan.h"

#include <gtest/gtest.h>

#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::config {
namespace {

constexpr char kPolicies[] = R"pb(
  version: 1
  agent_id: "t"
  vhosts { name: "localhost" }
  apis {
    id: "api1" name: "A" context: "/a" version: "1" state: PUBLISHED vhosts: "localhost"
    production_endpoint { url: "ws://backend:80" }
    topics { name: "/t" url_mapping: "/t" }
    throttle_policy: "ApiCap"
  }
  applications { id: "app1" name: "App" throttle_policy: "AppCap" }
  applications { id: "app2" name: "Free" throttle_policy: "Unlimited" }
  subscriptions { id: "sub1" application_id: "app1" api_id: "api1" plan: "AsyncBronze" }
  subscriptions { id: "sub2" application_id: "app2" api_id: "api1" plan: "AsyncUnlimited" }
  throttle_policies { name: "AsyncUnlimited" level: SUBSCRIPTION unlimited: true }
  throttle_policies { name: "AsyncBronze" level: SUBSCRIPTION events: 5000 unit: DAY unit_count: 1 }
  throttle_policies { name: "AppCap" level: APPLICATION events: 100 unit: MINUTE unit_count: 1 }
  throttle_policies { name: "ApiCap" level: API events: 1000 unit: MINUTE unit_count: 1 }
)pb";

TEST(ThrottleScopes, PlanApplicationAndApiEachWithItsOwnCounter) {
  auto snap = testing::CompileOrDie(kPolicies);
  ASSERT_NE(snap, nullptr);
  auto scopes = ThrottleScopes(*snap, "app1", "api1", /*has_subscription=*/true);
  ASSERT_EQ(scopes.size(), 3u);
  EXPECT_EQ(scopes[0].counter_key, "sub:sub1");
  EXPECT_EQ(scopes[0].policy->events, 5000u);
  EXPECT_EQ(scopes[1].counter_key, "app:app1");
  EXPECT_EQ(scopes[2].counter_key, "api:api1");
}

TEST(ThrottleScopes, UnlimitedUnknownAndAnonymousAreLeftOut) {
  auto snap = testing::CompileOrDie(kPolicies);
  ASSERT_NE(snap, nullptr);
  auto free_app = ThrottleScopes(*snap, "app2", "api1", true);  // plan and app unlimited
  ASSERT_EQ(free_app.size(), 1u);
  EXPECT_EQ(free_app[0].counter_key, "api:api1");
  auto anonymous = ThrottleScopes(*snap, "", "api1", /*has_subscription=*/false);
  ASSERT_EQ(anonymous.size(), 1u);
  EXPECT_EQ(anonymous[0].counter_key, "api:api1");
  auto no_api = ThrottleScopes(*snap, "app1", "gone", true);  // no subscription, no API: the app's own policy
  ASSERT_EQ(no_api.size(), 1u);
  EXPECT_EQ(no_api[0].counter_key, "app:app1");
}

}  // namespace
}  // namespace wsgate::engine::config
