// Unit tests for tools/wsgatectl/text: flag values in (and the one-line errors that name the
// flag), reply text out, exactly as docs/cli.md shows it.
#include "tools/wsgatectl/text.h"

#include <gtest/gtest.h>

#include <string>

namespace wsgate::tools::ctl {
namespace {

template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& result) {
  return result.ok() ? "ok" : std::string(result.status().message());
}

TEST(ParseKeyType, TakesEitherTypeInAnyCase) {
  EXPECT_EQ(*ParseKeyType("PRODUCTION"), v1::PRODUCTION);
  EXPECT_EQ(*ParseKeyType("production"), v1::PRODUCTION);
  EXPECT_EQ(*ParseKeyType("Sandbox"), v1::SANDBOX);
  EXPECT_EQ(ErrorOf(ParseKeyType("staging")), "--type: 'staging' is not PRODUCTION or SANDBOX");
  EXPECT_EQ(ErrorOf(ParseKeyType("")), "--type: '' is not PRODUCTION or SANDBOX");
}

TEST(ParseRevision, TakesAnUnsigned32BitNumber) {
  EXPECT_EQ(*ParseRevision("1"), 1u);
  EXPECT_EQ(*ParseRevision("4294967295"), 4294967295u);
  for (const char* bad : {"", "one", "1x", "-1", "4294967296"})
    EXPECT_EQ(ErrorOf(ParseRevision(bad)), std::string("REVISION: '") + bad + "' is not a number") << bad;
}

TEST(ParseSigningAlgorithm, TakesTheThreeInAnyCase) {
  EXPECT_EQ(*ParseSigningAlgorithm("RS256"), v1::RS256);
  EXPECT_EQ(*ParseSigningAlgorithm("es256"), v1::ES256);
  EXPECT_EQ(*ParseSigningAlgorithm("EdDSA"), v1::EDDSA);
  EXPECT_EQ(ErrorOf(ParseSigningAlgorithm("HS256")), "--alg: 'HS256' is not RS256, ES256 or EdDSA");
  EXPECT_EQ(ErrorOf(ParseSigningAlgorithm("")), "--alg: '' is not RS256, ES256 or EdDSA");
}

// A valid --level used to crash `policy list` (a null out-pointer).
TEST(ParsePolicyLevel, TakesALevelInAnyCaseOrTheDefault) {
  EXPECT_EQ(*ParsePolicyLevel("", v1::POLICY_LEVEL_UNSPECIFIED), v1::POLICY_LEVEL_UNSPECIFIED);
  EXPECT_EQ(*ParsePolicyLevel("", v1::SUBSCRIPTION), v1::SUBSCRIPTION);
  EXPECT_EQ(*ParsePolicyLevel("subscription", v1::POLICY_LEVEL_UNSPECIFIED), v1::SUBSCRIPTION);
  EXPECT_EQ(*ParsePolicyLevel("Application", v1::SUBSCRIPTION), v1::APPLICATION);
  EXPECT_EQ(*ParsePolicyLevel("api", v1::SUBSCRIPTION), v1::API);
  EXPECT_EQ(ErrorOf(ParsePolicyLevel("tenant", v1::SUBSCRIPTION)),
            "--level: 'tenant' is not subscription, application or api");
}

TEST(ParseTimeUnit, TakesAUnitInAnyCaseOrNone) {
  EXPECT_EQ(*ParseTimeUnit(""), v1::TIME_UNIT_UNSPECIFIED);
  EXPECT_EQ(*ParseTimeUnit("second"), v1::SECOND);
  EXPECT_EQ(*ParseTimeUnit("Hour"), v1::HOUR);
  EXPECT_EQ(*ParseTimeUnit("MONTH"), v1::MONTH);
  EXPECT_EQ(ErrorOf(ParseTimeUnit("fortnight")), "--unit: 'fortnight' is not second, minute, hour, day or month");
}

TEST(StateText, WritesPreReleasedWithAHyphen) {
  EXPECT_EQ(StateText(v1::PRE_RELEASED), "PRE-RELEASED");
  EXPECT_EQ(StateText(v1::PUBLISHED), "PUBLISHED");
  EXPECT_EQ(StateText(v1::CREATED), "CREATED");
}

TEST(ApiText, ANewApi) {
  v1::ApiInfo api;
  api.set_id("id-1");
  api.set_state(v1::CREATED);
  api.mutable_spec()->set_name("Chats");
  api.mutable_spec()->set_version("1.0.0");
  api.mutable_spec()->set_context("/chats");
  EXPECT_EQ(ApiText(api),
            "Chats:1.0.0  context /chats  state CREATED  id id-1\n"
            "  plans: none\n"
            "  topics: none\n"
            "  deployed revisions: none");
}

TEST(ApiText, AWalkthroughApiWithEverySection) {
  v1::ApiInfo api;
  api.set_id("id-2");
  api.set_state(v1::PRE_RELEASED);
  api.add_deployed_revisions(1);
  api.add_deployed_revisions(3);
  v1::ApiSpec* s = api.mutable_spec();
  s->set_name("Chats");
  s->set_version("1.0.0");
  s->set_context("/chats");
  s->mutable_production_endpoint()->set_url("ws://localhost:8080");
  s->mutable_sandbox_endpoint()->set_url("ws://localhost:8081");
  s->set_is_default_version(true);
  s->add_plans("AsyncGold");
  s->add_plans("AsyncSilver");
  v1::Topic* notifications = s->add_topics();
  notifications->set_name("/notifications");
  notifications->set_url_mapping("/notifications");
  v1::Topic* rooms = s->add_topics();
  rooms->set_name("/rooms/{roomID}");
  rooms->set_url_mapping("/rooms?room={uri.var.roomID}");
  rooms->add_scopes("chat:read");
  rooms->add_scopes("chat:write");
  v1::Topic* open = s->add_topics();
  open->set_name("/open");
  open->set_unsecured(true);
  EXPECT_EQ(ApiText(api),
            "Chats:1.0.0  context /chats  state PRE-RELEASED  id id-2\n"
            "  production endpoint ws://localhost:8080\n"
            "  sandbox endpoint    ws://localhost:8081\n"
            "  default version (also at /chats/...)\n"
            "  plans: AsyncGold, AsyncSilver\n"
            "  topics:\n"
            "    /notifications  ->  /notifications\n"
            "    /rooms/{roomID}  ->  /rooms?room={uri.var.roomID}  scopes: chat:read,chat:write\n"
            "    /open  (no token needed)\n"
            "  deployed revisions: 1, 3");
}

}  // namespace
}  // namespace wsgate::tools::ctl
