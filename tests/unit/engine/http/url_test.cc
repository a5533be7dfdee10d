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

TEST(RemoveQueryParams, KeepsOtherPairsVerbatim) {
  EXPECT_EQ(RemoveQueryParams("access_token=abc", {"access_token"}), "");
  EXPECT_EQ(RemoveQueryParams("a=1&access_token=abc&b=%20", {"access_token"}), "a=1&b=%20");
  EXPECT_EQ(RemoveQueryParams("access_token=1&access%5Ftoken=2&c", {"access_token"}), "c");
  EXPECT_EQ(RemoveQueryParams("a=1", {"access_token"}), "a=1");
}

TEST(RemoveQueryParams, RemovesEveryListedKeyInOnePass) {
  const auto creds = {std::string_view("access_token"), std::string_view("apikey")};
  EXPECT_EQ(RemoveQueryParams("apikey=k&room=1&access_token=t", creds), "room=1");
  EXPECT_EQ(RemoveQueryParams("api%6Bey=k&apikey&x=apikey", creds), "x=apikey");
  EXPECT_EQ(RemoveQueryParams("a=1&b=2", creds), "a=1&b=2");
  EXPECT_EQ(RemoveQueryParams("", creds), "");
}

// Issue #11, item 4: paths a backend could normalize into one the gateway never routed.
TEST(CheckPath, AcceptsOrdinaryPaths) {
  for (const char* p : {"/", "/chats/1.0.0/rooms/room1", "/chats/1.0.0/rooms/room1/", "/a/b.c/..d/d..", "/a/...",
                        "/rooms/room1&room=common", "/a/%41%62", "/a/%2e%2ex", "/a/.x;y", "/caf%C3%A9"})
    EXPECT_EQ(CheckPath(p), PathIssue::kNone) << p;
}

TEST(CheckPath, RejectsDotSegmentsAlsoEncoded) {
  for (const char* p : {"/echo/1.0.0/../../admin", "/echo/1.0.0/./x", "/a/..", "/a/.", "/..", "/a/%2e%2e/b",
                        "/a/%2E%2E/b", "/a/.%2e/b", "/a/%2e./b", "/a/%2e", "/a/..;/admin", "/a/..;jsessionid=1/b",
                        "/a/.;x/b"})
    EXPECT_EQ(CheckPath(p), PathIssue::kDotSegment) << p;
}

TEST(CheckPath, RejectsEncodedSeparatorsEmptySegmentsAndBadEscapes) {
  for (const char* p : {"/a/%2f/b", "/a%2Fb", "/a/%5c..", "/a/%5C", "/a\\b"})
    EXPECT_EQ(CheckPath(p), PathIssue::kEncodedSeparator) << p;
  for (const char* p : {"//admin", "/a//b", "/echo/1.0.0//", "/a///"})
    EXPECT_EQ(CheckPath(p), PathIssue::kEmptySegment) << p;
  for (const char* p : {"/a/%", "/a/%4", "/a/%zz", "/a/%00", "/a%0"})
    EXPECT_EQ(CheckPath(p), PathIssue::kBadEscape) << p;
}

TEST(Encode, PathSegmentAndQueryComponent) {
  EXPECT_EQ(EncodePathSegment("room1&room=common"), "room1&room=common");
  EXPECT_EQ(EncodePathSegment("a/b?c#d;e%f g"), "a%2Fb%3Fc%23d%3Be%25f%20g");
  EXPECT_EQ(EncodePathSegment("AZaz09-._~!$&'()*+,=:@"), "AZaz09-._~!$&'()*+,=:@");
  EXPECT_EQ(EncodeQueryComponent("room1&room=common"), "room1%26room%3Dcommon");
  EXPECT_EQ(EncodeQueryComponent("a+b c#/?%"), "a%2Bb%20c%23%2F%3F%25");
  EXPECT_EQ(EncodeQueryComponent(std::string("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(EncodeQueryComponent("AZaz09-._~"), "AZaz09-._~");
  // Decoding what was encoded gives the value back.
  EXPECT_EQ(PercentDecode(EncodeQueryComponent("x&y=z+1"), false), "x&y=z+1");
}

}  // namespace
}  // namespace wsgate::engine::http
