// Integration tests for the connection registry (engine/server/registry.h) on a live relay: the
// real Server in-process, the chat backend behind it, WsClient in front. A listed connection's
// facts match the session; a send arrives at the client as an unmasked frame; a close delivers its
// code and reason; a client that does not read gets RESOURCE_EXHAUSTED, not an unbounded queue.
#include <sys/socket.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "engine/ws/frame.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/ws_client.h"

namespace wsgate::testing {
namespace {

using engine::server::ConnFilter;
using engine::server::ConnRecord;
using engine::server::ConnRef;

class RegistryTest : public EngineFixture {
 protected:
  std::vector<ConnRecord> List(const ConnFilter& filter = {}) {
    auto page = engine_->ListConnections(filter, "", 1000);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->connections : std::vector<ConnRecord>{};
  }
  static ConnRef Ref(const ConnRecord& r) { return {r.shard, r.slot, r.generation}; }
  static ConnFilter By(std::string ConnFilter::*field, std::string value) {
    ConnFilter f;
    f.*field = std::move(value);
    return f;
  }
};

TEST_F(RegistryTest, ListsRelayingConnectionsWithTheirFactsFiltersAndPages) {
  auto room1 = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto peer = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto notes = Join("/chats/1.0.0/notifications", "Subscribed to notifications!");
  ASSERT_TRUE(room1->SendText("hello"));
  ASSERT_TRUE(peer->ReadMessage());  // relayed to the other member: both directions counted

  std::vector<ConnRecord> all = List();
  ASSERT_EQ(all.size(), 3u);
  for (const ConnRecord& r : all) {
    EXPECT_EQ(r.api_id, "api-chats");
    EXPECT_EQ(r.api_name, "Chats");
    EXPECT_EQ(r.api_version, "1.0.0");
    EXPECT_EQ(r.application_id, "app1");
    EXPECT_EQ(r.subscription_id, "sub1");
    EXPECT_EQ(r.key_type, v1::PRODUCTION);
    EXPECT_EQ(r.client_address, "127.0.0.1");
    EXPECT_NE(r.vhost.find("127.0.0.1"), std::string::npos) << r.vhost;
    EXPECT_GT(r.opened_unix_s, 1700000000);
  }
  auto rooms = List(By(&ConnFilter::topic, "/rooms/{roomID}"));
  EXPECT_EQ(rooms.size(), 2u);
  EXPECT_EQ(List(By(&ConnFilter::topic, "/notifications")).size(), 1u);
  EXPECT_EQ(List(By(&ConnFilter::api_id, "api-other")).size(), 0u);
  EXPECT_EQ(List([] {
              ConnFilter f = By(&ConnFilter::application_id, "app1");
              f.subscription_id = "sub1";
              return f;
            }()).size(), 3u);
  EXPECT_EQ(List(By(&ConnFilter::client_address_prefix, "127.0.")).size(), 3u);
  EXPECT_EQ(List(By(&ConnFilter::client_address_prefix, "10.")).size(), 0u);
  uint64_t counted = 0;
  for (const ConnRecord& r : rooms) counted += r.client_to_backend.frames + r.backend_to_client.frames;
  EXPECT_GE(counted, 2u) << "room1's message, and the same message to its peer";

  // Pages of one: every connection exactly once, then no token.
  std::set<std::pair<uint32_t, uint32_t>> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    auto p = engine_->ListConnections({}, token, 1);
    ASSERT_TRUE(p.ok()) << p.status();
    for (const ConnRecord& r : p->connections) EXPECT_TRUE(seen.insert({r.shard, r.slot}).second);
    token = p->next_page_token;
    if (token.empty()) break;
  }
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(engine_->ListConnections({}, "nonsense", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->ListConnections({}, "", 5000).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, SendArrivesAtTheClientAsAnUnmaskedFrame) {
  auto c = Join("/chats/1.0.0/notifications", "Subscribed to notifications!");
  auto all = List();
  ASSERT_EQ(all.size(), 1u);
  ASSERT_TRUE(engine_->SendToConnection(Ref(all[0]), false, "from the operator").ok());
  auto text = c->ReadFrame();  // ReadFrame fails on a masked server frame
  ASSERT_TRUE(text);
  EXPECT_EQ(text->opcode, engine::ws::kText);
  EXPECT_EQ(text->payload, "from the operator");
  ASSERT_TRUE(engine_->SendToConnection(Ref(all[0]), true, std::string("\x00\xff\x01", 3)).ok());
  auto bin = c->ReadFrame();
  ASSERT_TRUE(bin);
  EXPECT_EQ(bin->opcode, engine::ws::kBinary);
  EXPECT_EQ(bin->payload, std::string("\x00\xff\x01", 3));

  EXPECT_EQ(engine_->SendToConnection(Ref(all[0]), false, "\xff\xfe").status().code(),
            absl::StatusCode::kInvalidArgument);
  ConnRef stale = Ref(all[0]);
  ++stale.generation;
  EXPECT_EQ(engine_->SendToConnection(stale, false, "x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->SendToConnection({99, 0, 0}, false, "x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->CollectStats().registry_sends, 2u);
  // The relay still works after engine frames were spliced into the stream.
  ASSERT_TRUE(c->SendText("still here"));
}

TEST_F(RegistryTest, CloseSendsCodeAndReasonToTheClient) {
  auto c = Join("/chats/1.0.0/rooms/room1", "You joined room1!");
  auto all = List();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(engine_->CloseConnection(Ref(all[0]), 1006, "no").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->CloseConnection(Ref(all[0]), 2000, "no").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->CloseConnection(Ref(all[0]), 5000, "no").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->CloseConnection(Ref(all[0]), 4000, std::string(124, 'r')).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(engine_->CloseConnection(Ref(all[0]), 4000, "closed by ops").ok());
  auto close = c->ReadMessage();
  ASSERT_TRUE(close);
  ASSERT_EQ(close->opcode, engine::ws::kClose);
  CloseInfo info = ParseClose(close->payload);
  EXPECT_EQ(info.code, 4000);
  EXPECT_EQ(info.reason, "closed by ops");
  // A second close of the same connection is refused while it is closing, and it is gone after.
  auto again = engine_->CloseConnection(Ref(all[0]), 4000, "again");
  EXPECT_TRUE(again.code() == absl::StatusCode::kFailedPrecondition || again.code() == absl::StatusCode::kNotFound)
      << again;
  c->SendClose(4000, "closed by ops");
  EXPECT_TRUE(c->WaitForEof());
  for (int i = 0; i < 100 && !List().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(List().empty());
  EXPECT_EQ(engine_->CloseConnection(Ref(all[0]), 4000, "gone").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->CollectStats().registry_closes, 1u);
}

TEST_F(RegistryTest, SendToAClientThatDoesNotReadIsRefusedNotQueuedWithoutLimit) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_settings()->set_queue_bytes(64 * 1024);
  Apply(s);
  auto c = Join("/chats/1.0.0/notifications", "Subscribed to notifications!");
  auto all = List();
  ASSERT_EQ(all.size(), 1u);
  const std::string chunk(256 * 1024, 'z');
  int accepted = 0;
  uint64_t most_queued = 0;
  absl::Status refused;
  for (int i = 0; i < 400; ++i) {  // at most 100 MiB if nothing were ever refused
    auto r = engine_->SendToConnection(Ref(all[0]), true, chunk);
    if (!r.ok()) {
      refused = r.status();
      break;
    }
    most_queued = std::max(most_queued, *r);
    ++accepted;
  }
  // The engine holds at most the bound plus the one frame that crossed it.
  EXPECT_LE(most_queued, 64 * 1024 + chunk.size() + 16);
  ASSERT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << "accepted " << accepted << " frames";
  EXPECT_NE(refused.message().find("not reading"), std::string::npos) << refused;
  EXPECT_GE(engine_->CollectStats().registry_sends_refused, 1u);
  std::printf("backpressure: %d x 256 KiB accepted before the refusal\n", accepted);
  // Everything accepted arrives, in order, once the client reads.
  for (int i = 0; i < accepted; ++i) {
    auto m = c->ReadFrame();
    ASSERT_TRUE(m) << i;
    ASSERT_EQ(m->payload.size(), chunk.size()) << i;
  }
}

}  // namespace
}  // namespace wsgate::testing
