// Unit tests for engine/config/check (`wsgate-engine --check-config`): every independent error is
// reported with its path in the file's numbering, errors that only follow from an earlier one are
// not, and a valid snapshot has none.
#include "engine/config/check.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::config {
namespace {

using testing::FakeResolver;
using testing::kChatsSnapshot;
using testing::ParseSnapshot;

TEST(CheckSnapshot, AValidSnapshotHasNoErrors) {
  CheckResult r = CheckSnapshot(ParseSnapshot(kChatsSnapshot), FakeResolver());
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_FALSE(r.truncated);
}

TEST(CheckSnapshot, ReportsEveryIndependentErrorWithTheFilesIndices) {
  v1::Snapshot s = ParseSnapshot(kChatsSnapshot);
  s.mutable_apis(0)->set_context("chats");                                 // no leading '/'
  s.mutable_apis(1)->mutable_topics(1)->set_url_mapping("/{uri.var.nope}");  // not a parameter
  auto* token = s.add_opaque_tokens();
  token->set_client_id("c");
  token->set_sha256("short");
  CheckResult r = CheckSnapshot(s, FakeResolver());
  ASSERT_EQ(r.errors.size(), 3u) << ::testing::PrintToString(r.errors);
  EXPECT_TRUE(absl::StartsWith(r.errors[0], "apis[0].context: ")) << r.errors[0];
  // apis[0] was set aside, yet the second API is still called apis[1], as in the file.
  EXPECT_TRUE(absl::StartsWith(r.errors[1], "apis[1].topics[1].url_mapping: ")) << r.errors[1];
  EXPECT_EQ(r.errors[2], "opaque_tokens[0].sha256: must be 32 bytes");
}

TEST(CheckSnapshot, AnErrorCausedByAnEarlierOneIsNotRepeated) {
  v1::Snapshot s = ParseSnapshot(kChatsSnapshot);
  auto* policy = s.add_throttle_policies();
  policy->set_name("Gold");  // no events, no unit: invalid
  policy->set_events(-5);
  s.mutable_apis(0)->set_throttle_policy("Gold");  // refers to it: fine once it is fixed
  s.mutable_apis(1)->set_throttle_policy("Missing");  // a real error of its own
  CheckResult r = CheckSnapshot(s, FakeResolver());
  ASSERT_EQ(r.errors.size(), 2u) << ::testing::PrintToString(r.errors);
  EXPECT_TRUE(absl::StartsWith(r.errors[0], "throttle_policies[0] (Gold)")) << r.errors[0];
  EXPECT_EQ(r.errors[1], "apis[1].throttle_policy: unknown policy 'Missing'");
}

TEST(CheckSnapshot, StopsAfterMaxErrors) {
  v1::Snapshot s = ParseSnapshot(kChatsSnapshot);
  for (int i = 0; i < 5; ++i) s.add_applications();  // each: applications[i].id must not be empty
  CheckResult r = CheckSnapshot(s, FakeResolver(), {}, 3);
  EXPECT_EQ(r.errors.size(), 3u);
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.errors[2], "applications[2].id: must not be empty");
}

}  // namespace
}  // namespace wsgate::engine::config
