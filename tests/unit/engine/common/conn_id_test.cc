// Unit tests for the connection registry's ids (engine/common/conn_id.h).
#include "engine/common/conn_id.h"

#include <gtest/gtest.h>

namespace wsgate::common {
namespace {

TEST(ConnIdTest, RoundTrips) {
  ConnId id{"3f9a0c1d2e4b5a69", 2, 517, 9};
  EXPECT_EQ(FormatConnId(id), "3f9a0c1d2e4b5a69-2-517-9");
  auto parsed = ParseConnId(FormatConnId(id));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, id);
  ConnId big{"ffffffffffffffff", 4294967295u, 4294967295u, 16777215u};
  auto back = ParseConnId(FormatConnId(big));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, big);
}

TEST(ConnIdTest, RejectsWhatIsNotAnId) {
  struct Case {
    const char* name;
    const char* text;
  } cases[] = {
      {"empty", ""},
      {"three parts", "abc-1-2"},
      {"five parts", "abc-1-2-3-4"},
      {"engine not hex", "xyz-1-2-3"},
      {"empty engine", "-1-2-3"},
      {"negative shard", "abc--1-2-3"},
      {"signed slot", "abc-1-+2-3"},
      {"not a number", "abc-1-two-3"},
      {"overflow", "abc-1-2-99999999999"},
      {"empty generation", "abc-1-2-"},
      {"engine too long", "0123456789abcdef0123456789abcdef0-1-2-3"},
  };
  for (const Case& c : cases) {
    auto r = ParseConnId(c.text);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("connection id"), absl::string_view::npos) << c.name;
    }
  }
}

TEST(ConnIdTest, DistinctEnginesAndGenerationsGiveDistinctIds) {
  EXPECT_NE(FormatConnId({"aa", 0, 1, 1}), FormatConnId({"ab", 0, 1, 1}));
  EXPECT_NE(FormatConnId({"aa", 0, 1, 1}), FormatConnId({"aa", 0, 1, 2}));
  EXPECT_NE(FormatConnId({"aa", 1, 11, 1}), FormatConnId({"aa", 11, 1, 1}));
}

}  // namespace
}  // namespace wsgate::common
