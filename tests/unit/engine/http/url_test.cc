// Unit tests for engine/http/url: Node.js querystring semantics.
#include "engine/http/url.h"

#include <gtest/gtest.h>

namespace wsgate::engine::http {
namespace {

TEST(PercentDecode, DecodesEscapesAndPlus) {
  EXPECT_EQ(PercentDecode("room%31"), "room1");
  EXPECT_EQ(PercentDecode("a+b%20c"), "a b c");
  EXPECT_EQ(PercentDecode("a+b", /*plus_is_space=*/false), "a+b");
  EXPECT_EQ(PercentDecode("100%"), "100%");     // malformed escapes stay literal
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("%4a%4A"), "JJ");
}

TEST(FindQueryParam, CountsAndDecodes) {
  EXPECT_EQ(FindQueryParam("room=room1", "room").count, 1);
  EXPECT_EQ(FindQueryParam("room=room1", "room").value, "room1");
  EXPECT_EQ(FindQueryParam("x=1&room=room%32", "room").value, "room2");
  EXPECT_EQ(FindQueryParam("room=a&room=b", "room").count, 2);
  EXPECT_EQ(FindQueryParam("room=a&room=b", "room").value, "a");
  EXPECT_EQ(FindQueryParam("room", "room").value, "");
  EXPECT_EQ(FindQueryParam("room", "room").count, 1);
  EXPECT_EQ(FindQueryParam("r%6Fom=x", "room").value, "x");
  EXPECT_EQ(FindQueryParam("", "room").count, 0);
  EXPECT_EQ(FindQueryParam("&&room=c&&", "room").value, "c");
}

TEST(RemoveQueryParam, KeepsOtherPairsVerbatim) {
  EXPECT_EQ(RemoveQueryParam("access_token=abc", "access_token"), "");
  EXPECT_EQ(RemoveQueryParam("a=1&access_token=abc&b=%20", "access_token"), "a=1&b=%20");
  EXPECT_EQ(RemoveQueryParam("access_token=1&access%5Ftoken=2&c", "access_token"), "c");
  EXPECT_EQ(RemoveQueryParam("a=1", "access_token"), "a=1");
}

}  // namespace
}  // namespace wsgate::engine::http
