// Unit tests for engine/config/delta: what an ApplyDelta request does to the snapshot it is
// based on, and the two ways it is refused.
#include "engine/config/delta.h"

#include <gtest/gtest.h>

namespace wsgate::engine::config {
namespace {

v1::Snapshot Base() {
  v1::Snapshot s;
  s.set_agent_id("agent");
  s.set_version(4);
  auto* sub = s.add_subscriptions();
  sub->set_id("sub1");
  sub->set_plan("AsyncGold");
  s.add_subscriptions()->set_id("sub2");
  s.add_consumer_keys()->set_client_id("key1");
  s.add_signing_keys()->set_kid("k1");
  s.add_opaque_tokens()->set_sha256("hash1");
  return s;
}

v1::ApplyDeltaRequest Delta() {
  v1::ApplyDeltaRequest d;
  d.set_agent_id("agent");
  d.set_base_version(4);
  d.set_version(5);
  return d;
}

TEST(MergeDelta, UpsertsReplaceByKeyAndRemovalsDrop) {
  v1::ApplyDeltaRequest d = Delta();
  auto* sub = d.add_upsert_subscriptions();
  sub->set_id("sub1");
  sub->set_plan("AsyncBronze");
  d.add_upsert_subscriptions()->set_id("sub3");
  d.add_remove_subscription_ids("sub2");
  d.add_upsert_consumer_keys()->set_client_id("key2");
  d.add_remove_client_ids("key1");
  d.add_upsert_signing_keys()->set_kid("k2");
  d.add_remove_kids("k1");
  d.add_add_opaque_tokens()->set_sha256("hash2");
  d.add_remove_opaque_token_sha256("hash1");
  d.add_add_revoked_tokens()->set_jti("jti-9");
  auto next = MergeDelta(Base(), d);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->version(), 5u);
  ASSERT_EQ(next->subscriptions_size(), 2);
  EXPECT_EQ(next->subscriptions(0).id(), "sub1");
  EXPECT_EQ(next->subscriptions(0).plan(), "AsyncBronze");  // replaced, not duplicated
  EXPECT_EQ(next->subscriptions(1).id(), "sub3");
  ASSERT_EQ(next->consumer_keys_size(), 1);
  EXPECT_EQ(next->consumer_keys(0).client_id(), "key2");
  ASSERT_EQ(next->signing_keys_size(), 1);
  EXPECT_EQ(next->signing_keys(0).kid(), "k2");
  ASSERT_EQ(next->opaque_tokens_size(), 1);
  EXPECT_EQ(next->opaque_tokens(0).sha256(), "hash2");
  ASSERT_EQ(next->revoked_tokens_size(), 1);
  EXPECT_EQ(next->revoked_tokens(0).jti(), "jti-9");
}

TEST(MergeDelta, AnEmptyDeltaOnlyMovesTheVersion) {
  auto next = MergeDelta(Base(), Delta());
  ASSERT_TRUE(next.ok());
  v1::Snapshot expected = Base();
  expected.set_version(5);
  EXPECT_EQ(next->SerializeAsString(), expected.SerializeAsString());
}

TEST(MergeDelta, ADeltaOnAnotherBaseNeedsAFullSnapshot) {
  v1::ApplyDeltaRequest d = Delta();
  d.set_base_version(3);
  auto r = MergeDelta(Base(), d);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(r.status().message()).find("send a full snapshot"), std::string::npos);
  d = Delta();
  d.set_agent_id("other");
  EXPECT_EQ(MergeDelta(Base(), d).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MergeDelta, TheVersionMustMoveForward) {
  v1::ApplyDeltaRequest d = Delta();
  d.set_version(4);
  auto r = MergeDelta(Base(), d);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(r.status().message()).find("version"), std::string::npos);
}

}  // namespace
}  // namespace wsgate::engine::config
