// Unit tests for agent/snapshot_delta: which catalog changes go to the engine as an ApplyDelta
// (credentials only) and exactly what that delta holds; everything else is a full snapshot.
#include "agent/snapshot_delta.h"

#include <gtest/gtest.h>

namespace wsgate::agent {
namespace {

v1::Snapshot Base() {
  v1::Snapshot s;
  s.set_agent_id("agent");
  s.set_version(10);
  s.add_vhosts()->set_name("localhost");
  s.add_apis()->set_id("api1");
  s.add_applications()->set_id("app1");
  auto* sub = s.add_subscriptions();
  sub->set_id("sub1");
  sub->set_application_id("app1");
  sub->set_api_id("api1");
  auto* k = s.add_consumer_keys();
  k->set_client_id("key1");
  k->set_application_id("app1");
  s.add_signing_keys()->set_kid("kid1");
  s.add_opaque_tokens()->set_sha256(std::string(32, 'a'));
  s.add_revoked_tokens()->set_jti("jti1");
  return s;
}

TEST(CredentialDelta, OnlyCredentialsChangedGivesTheDeltaBetweenTheTwo) {
  v1::Snapshot from = Base();
  v1::Snapshot to = Base();
  to.set_version(12);
  to.add_revoked_tokens()->set_jti("jti2");
  to.mutable_subscriptions(0)->set_plan("AsyncBronze");  // changed
  auto* sub = to.add_subscriptions();                    // new
  sub->set_id("sub2");
  sub->set_application_id("app1");
  sub->set_api_id("api2");
  to.clear_consumer_keys();  // key1 removed
  to.mutable_opaque_tokens(0)->set_sha256(std::string(32, 'b'));  // one token gone, another added
  auto d = CredentialDelta(from, to);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->agent_id(), "agent");
  EXPECT_EQ(d->base_version(), 10u);
  EXPECT_EQ(d->version(), 12u);
  ASSERT_EQ(d->add_revoked_tokens_size(), 1);
  EXPECT_EQ(d->add_revoked_tokens(0).jti(), "jti2");
  ASSERT_EQ(d->upsert_subscriptions_size(), 2);
  EXPECT_EQ(d->upsert_subscriptions(0).plan(), "AsyncBronze");
  EXPECT_EQ(d->upsert_subscriptions(1).id(), "sub2");
  EXPECT_EQ(d->remove_subscription_ids_size(), 0);
  ASSERT_EQ(d->remove_client_ids_size(), 1);
  EXPECT_EQ(d->remove_client_ids(0), "key1");
  EXPECT_EQ(d->upsert_consumer_keys_size(), 0);
  ASSERT_EQ(d->add_opaque_tokens_size(), 1);
  EXPECT_EQ(d->add_opaque_tokens(0).sha256(), std::string(32, 'b'));
  ASSERT_EQ(d->remove_opaque_token_sha256_size(), 1);
  EXPECT_EQ(d->remove_opaque_token_sha256(0), std::string(32, 'a'));
  EXPECT_EQ(d->upsert_signing_keys_size(), 0);
  EXPECT_EQ(d->remove_kids_size(), 0);
}

TEST(CredentialDelta, NothingButTheVersionIsAnEmptyDelta) {
  v1::Snapshot to = Base();
  to.set_version(11);
  auto d = CredentialDelta(Base(), to);
  ASSERT_TRUE(d.has_value());
  v1::ApplyDeltaRequest empty;
  empty.set_agent_id("agent");
  empty.set_base_version(10);
  empty.set_version(11);
  EXPECT_EQ(d->SerializeAsString(), empty.SerializeAsString());
}

TEST(CredentialDelta, AnythingElseNeedsTheFullSnapshot) {
  v1::Snapshot from = Base();
  auto changed = [&](auto edit) {
    v1::Snapshot to = Base();
    to.set_version(11);
    edit(to);
    return CredentialDelta(from, to).has_value();
  };
  EXPECT_FALSE(changed([](v1::Snapshot& s) { s.mutable_apis(0)->set_name("renamed"); }));
  EXPECT_FALSE(changed([](v1::Snapshot& s) { s.mutable_applications(0)->set_blocked(true); }));
  EXPECT_FALSE(changed([](v1::Snapshot& s) { s.add_vhosts()->set_name("other"); }));
  EXPECT_FALSE(changed([](v1::Snapshot& s) { s.mutable_settings()->set_ping_interval_ms(5000); }));
  EXPECT_FALSE(changed([](v1::Snapshot& s) { s.clear_revoked_tokens(); })) << "a delta only adds revocations";
  EXPECT_FALSE(changed([](v1::Snapshot& s) { s.mutable_opaque_tokens(0)->set_client_id("other"); }))
      << "an opaque token is added or removed, never changed";
  EXPECT_FALSE(changed([](v1::Snapshot& s) { *s.add_consumer_keys() = s.consumer_keys(0); })) << "a duplicate key";
  EXPECT_TRUE(changed([](v1::Snapshot& s) { s.mutable_signing_keys(0)->set_retire_after_unix_s(99); }));
  EXPECT_TRUE(changed([](v1::Snapshot& s) { s.set_created_unix_ms(12345); })) << "when it was built is not config";
  // Another agent's snapshot, or one that does not move forward.
  v1::Snapshot other = Base();
  other.set_agent_id("agent-2");
  other.set_version(11);
  EXPECT_FALSE(CredentialDelta(from, other).has_value());
  EXPECT_FALSE(CredentialDelta(from, Base()).has_value());
}

}  // namespace
}  // namespace wsgate::agent
