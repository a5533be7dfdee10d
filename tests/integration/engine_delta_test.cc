// Integration tests for incremental config apply (issue 20): ApplyDelta on the real engine (two
// shards) is applied to the compiled snapshot without recompiling it, yet a revocation still
// closes the live sockets it names with 4001, a new subscription admits a client at once, and
// /config_dump's proto catches up with every delta.
#include <gtest/gtest.h>

#include "tests/support/engine_fixture.h"

namespace wsgate::testing {
namespace {

class EngineDeltaTest : public EngineFixture {
 protected:
  v1::ApplyDeltaRequest Delta(uint64_t base, uint64_t version) {
    v1::ApplyDeltaRequest d;
    d.set_agent_id("test-agent");
    d.set_base_version(base);
    d.set_version(version);
    return d;
  }
  static void ExpectClosed4001(WsClient& c) {
    auto f = c.ReadFrame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->opcode, 0x8);
    auto close = ParseClose(f->payload);
    EXPECT_EQ(close.code, 4001);
    EXPECT_EQ(close.reason, "Invalid Credentials Connection closed!");
  }
};

TEST_F(EngineDeltaTest, ARevocationDeltaClosesOnlyTheRevokedTokensSockets) {
  const std::string path = "/chats/1.0.0/notifications";
  auto revoked = std::make_unique<WsClient>();
  ASSERT_TRUE(revoked->Connect(engine_port(), path, {Bearer(Token("prod-key", 3600, "jti-1"))}));
  ExpectWelcome(*revoked, path, "Subscribed to notifications!");
  auto kept = std::make_unique<WsClient>();
  ASSERT_TRUE(kept->Connect(engine_port(), path, {Bearer(Token("prod-key", 3600, "jti-2"))}));
  ExpectWelcome(*kept, path, "Subscribed to notifications!");

  v1::ApplyDeltaRequest d = Delta(1, 2);
  d.add_add_revoked_tokens()->set_jti("jti-1");
  auto r = engine_->ApplyDelta(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->applied_version, 2u);
  EXPECT_EQ(r->connections_closed, 1u);
  EXPECT_TRUE(engine_->last_apply_incremental()) << "a revocation must not recompile the snapshot";
  ExpectClosed4001(*revoked);
  // The other token's socket still relays, and the revoked token cannot come back.
  ASSERT_TRUE(kept->SendText("still here"));
  auto refused = Refuse(path, {Bearer(Token("prod-key", 3600, "jti-1"))});
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body, "Invalid Credentials: token revoked");
  // The proto the engine shows (and recompiles from) has the delta merged in.
  v1::Snapshot applied = engine_->AppliedProto();
  EXPECT_EQ(applied.version(), 2u);
  ASSERT_EQ(applied.revoked_tokens_size(), 1);
  EXPECT_EQ(applied.revoked_tokens(0).jti(), "jti-1");
  EXPECT_EQ(engine_->applied_version(), 2u);
}

TEST_F(EngineDeltaTest, ASubscriptionDeltaAdmitsANewClientAndItsRemovalClosesIt) {
  const std::string path = "/chats/1.0.0/notifications";
  v1::Snapshot s = BaseSnapshot(2);
  s.add_applications()->set_id("app2");
  auto* k = s.add_consumer_keys();
  k->set_client_id("key2");
  k->set_application_id("app2");
  Apply(s);
  auto before = Refuse(path, {Bearer(Token("key2", 3600, "jti-9"))});
  EXPECT_EQ(before.status, 403);
  EXPECT_EQ(before.body, "User is NOT authorized to access the Resource. API Subscription validation failed.");

  v1::ApplyDeltaRequest d = Delta(2, 3);
  auto* sub = d.add_upsert_subscriptions();
  sub->set_id("sub2");
  sub->set_application_id("app2");
  sub->set_api_id("api-chats");
  sub->set_plan("AsyncGold");
  auto r = engine_->ApplyDelta(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(engine_->last_apply_incremental());
  auto c = std::make_unique<WsClient>();
  ASSERT_TRUE(c->Connect(engine_port(), path, {Bearer(Token("key2", 3600, "jti-9"))})) << c->response();
  ExpectWelcome(*c, path, "Subscribed to notifications!");
  auto app1 = Join(path, "Subscribed to notifications!");

  d = Delta(3, 4);
  d.add_remove_subscription_ids("sub2");
  r = engine_->ApplyDelta(d);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->connections_closed, 1u) << "only app2's socket";
  ExpectClosed4001(*c);
  ASSERT_TRUE(app1->SendText("app1 stays"));
  EXPECT_EQ(engine_->AppliedProto().subscriptions_size(), 1);
}

TEST_F(EngineDeltaTest, ADeltaOnAnotherBaseIsRefusedAndChangesNothing) {
  v1::ApplyDeltaRequest d = Delta(7, 8);
  d.add_add_revoked_tokens()->set_jti("jti-1");
  auto r = engine_->ApplyDelta(d);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  d = Delta(1, 2);
  auto* k = d.add_upsert_consumer_keys();
  k->set_client_id("key3");
  k->set_application_id("no-such-app");
  r = engine_->ApplyDelta(d);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "upsert_consumer_keys[0].application_id: unknown application 'no-such-app'");
  EXPECT_EQ(engine_->applied_version(), 1u);
  Join("/chats/1.0.0/notifications", "Subscribed to notifications!");
}

}  // namespace
}  // namespace wsgate::testing
