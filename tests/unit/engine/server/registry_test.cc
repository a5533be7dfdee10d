// Unit tests for the connection registry's pure parts (engine/server/registry.h): filters, page
// tokens and sizes, merging the shards' answers into pages, operator close codes.
#include "engine/server/registry.h"

#include <gtest/gtest.h>

namespace wsgate::engine::server {
namespace {

ConnRecord Record(uint32_t shard, uint32_t slot) {
  ConnRecord r;
  r.shard = shard;
  r.slot = slot;
  r.api_id = "api-chats";
  r.topic = "/rooms/{roomID}";
  r.application_id = "app1";
  r.subscription_id = "sub1";
  r.client_address = "10.1.2.3";
  return r;
}

TEST(RegistryFilterTest, EveryFieldMustMatch) {
  ConnRecord r = Record(0, 1);
  EXPECT_TRUE(Matches({}, r)) << "an empty filter matches everything";
  struct Case {
    const char* name;
    ConnFilter filter;
    bool match;
  } cases[] = {
      {"api", {"api-chats", "", "", "", ""}, true},
      {"other api", {"api-x", "", "", "", ""}, false},
      {"topic", {"", "/rooms/{roomID}", "", "", ""}, true},
      {"topic prefix is not enough", {"", "/rooms", "", "", ""}, false},
      {"application", {"", "", "app1", "", ""}, true},
      {"other application", {"", "", "app2", "", ""}, false},
      {"subscription", {"", "", "", "sub1", ""}, true},
      {"other subscription", {"", "", "", "sub2", ""}, false},
      {"address prefix", {"", "", "", "", "10.1."}, true},
      {"whole address", {"", "", "", "", "10.1.2.3"}, true},
      {"longer than the address", {"", "", "", "", "10.1.2.34"}, false},
      {"other network", {"", "", "", "", "192.168."}, false},
      {"all fields", {"api-chats", "/rooms/{roomID}", "app1", "sub1", "10."}, true},
      {"all but one", {"api-chats", "/rooms/{roomID}", "app1", "sub9", "10."}, false},
  };
  for (const Case& c : cases) EXPECT_EQ(Matches(c.filter, r), c.match) << c.name;
}

TEST(RegistryPageTest, TokensRoundTripAndBadOnesAreRefused) {
  auto none = ParsePageToken("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto c = ParsePageToken(FormatPageToken({3, 70}));
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->shard, 3u);
  EXPECT_EQ((*c)->slot, 70u);
  for (const char* bad : {"x", "1", "1.", ".1", "1.2.3", "-1.2", "1.99999999999"}) {
    auto r = ParsePageToken(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RegistryPageTest, PageSizeDefaultsAndIsBounded) {
  EXPECT_EQ(*CheckPageSize(0), 100u);
  EXPECT_EQ(*CheckPageSize(7), 7u);
  EXPECT_EQ(*CheckPageSize(1000), 1000u);
  EXPECT_EQ(CheckPageSize(1001).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RegistryPageTest, MergeTakesShardsInOrderAndPointsAfterTheLastOne) {
  // Three shards answered (each at most page_size + 1 = 3): 2, 3 and 1 connections.
  std::vector<std::vector<ConnRecord>> parts = {{Record(0, 4), Record(0, 9)},
                                                {Record(1, 0), Record(1, 2), Record(1, 5)},
                                                {Record(2, 1)}};
  ConnPage page = MergePages(parts, 2);
  ASSERT_EQ(page.connections.size(), 2u);
  EXPECT_EQ(page.connections[1].slot, 9u);
  EXPECT_EQ(page.next_page_token, "0.9");
  page = MergePages(parts, 3);
  ASSERT_EQ(page.connections.size(), 3u);
  EXPECT_EQ(page.connections[2].shard, 1u);
  EXPECT_EQ(page.next_page_token, "1.0");
  page = MergePages(parts, 6);
  EXPECT_EQ(page.connections.size(), 6u);
  EXPECT_EQ(page.next_page_token, "") << "exactly everything: the last page";
  EXPECT_EQ(MergePages({{}, {}}, 5).connections.size(), 0u);
}

TEST(RegistryCloseTest, OnlyOperatorCodesAndFrameSizedReasons) {
  for (uint32_t ok : {1000u, 3000u, 4000u, 4999u}) EXPECT_TRUE(CheckOperatorClose(ok, "bye").ok()) << ok;
  for (uint32_t bad : {0u, 999u, 1001u, 1005u, 1006u, 1011u, 1015u, 2999u, 5000u, 65535u})
    EXPECT_EQ(CheckOperatorClose(bad, "").code(), absl::StatusCode::kInvalidArgument) << bad;
  EXPECT_TRUE(CheckOperatorClose(4000, std::string(123, 'r')).ok());
  EXPECT_EQ(CheckOperatorClose(4000, std::string(124, 'r')).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckOperatorClose(4000, "\xc3\x28").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wsgate::engine::server
