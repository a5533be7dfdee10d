// Unit tests for engine/http/request_parser: every case is fed whole and at every fragment size.
#include "engine/http/request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace wsgate::engine::http {
namespace {

const char kUpgrade[] =
    "GET /chats/1.0.0/rooms/room1?access_token=abc HTTP/1.1\r\n"
    "Host: localhost:9099\r\n"
    "Upgrade: websocket\r\n"
    "Connection:   keep-alive, Upgrade  \r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// Feeds `input` in chunks of `chunk` bytes (a growing buffer, as a connection would), returning
// the first result that is not kNeedMore, or kNeedMore at the end.
ParseResult FeedInChunks(RequestParser& parser, const std::string& input, size_t chunk) {
  ParseResult r;
  for (size_t end = std::min(chunk, input.size());; end = std::min(end + chunk, input.size())) {
    r = parser.Feed(std::string_view(input).substr(0, end));
    if (r.kind != ParseResult::kNeedMore || end == input.size()) return r;
  }
}

TEST(RequestParser, ParsesUpgradeAtEveryFragmentSize) {
  std::string input = kUpgrade;
  for (size_t chunk = 1; chunk <= input.size(); ++chunk) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    RequestParser parser;
    ParseResult r = FeedInChunks(parser, input, chunk);
    ASSERT_EQ(r.kind, ParseResult::kComplete);
    EXPECT_EQ(r.consumed, input.size());
    const Request& req = parser.request();
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.target, "/chats/1.0.0/rooms/room1?access_token=abc");
    EXPECT_EQ(req.path, "/chats/1.0.0/rooms/room1");
    EXPECT_EQ(req.query, "access_token=abc");
    EXPECT_EQ(req.minor_version, 1);
    ASSERT_EQ(req.header_count, 5u);
    ASSERT_NE(req.Find("CONNECTION"), nullptr);
    EXPECT_EQ(req.Find("connection")->value, "keep-alive, Upgrade");
    EXPECT_EQ(req.Find("sec-websocket-key")->value, "dGhlIHNhbXBsZSBub25jZQ==");
    EXPECT_EQ(req.Find("origin"), nullptr);
  }
}

TEST(RequestParser, ReportsBytesConsumedWhenFramesFollowTheHead) {
  std::string input = std::string(kUpgrade) + "\x81\x85";
  RequestParser parser;
  ParseResult r = parser.Feed(input);
  ASSERT_EQ(r.kind, ParseResult::kComplete);
  EXPECT_EQ(r.consumed, input.size() - 2);
}

TEST(RequestParser, IncompleteHeadNeedsMore) {
  RequestParser parser;
  EXPECT_EQ(parser.Feed("GET / HTTP/1.1\r\nHost: x\r\n").kind, ParseResult::kNeedMore);
  EXPECT_EQ(parser.Feed("GET / HTTP/1.1\r\nHost: x\r\n\r").kind, ParseResult::kNeedMore);
  EXPECT_EQ(parser.Feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n").kind, ParseResult::kComplete);
}

TEST(RequestParser, AcceptsNoHeadersAndHttp10) {
  RequestParser parser;
  ParseResult r = parser.Feed("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.kind, ParseResult::kComplete);
  EXPECT_EQ(parser.request().minor_version, 0);
  EXPECT_EQ(parser.request().header_count, 0u);
  EXPECT_EQ(parser.request().query, "");
}

struct BadCase {
  const char* name;
  std::string input;
  int status;
};

class RequestParserRejects : public testing::TestWithParam<BadCase> {};

TEST_P(RequestParserRejects, AtEveryFragmentSize) {
  const BadCase& c = GetParam();
  for (size_t chunk = 1; chunk <= c.input.size(); ++chunk) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    Limits limits;
    limits.max_head_bytes = 256;
    limits.max_request_line = 64;
    limits.max_headers = 4;
    RequestParser parser(limits);
    ParseResult r = FeedInChunks(parser, c.input, chunk);
    ASSERT_EQ(r.kind, ParseResult::kError);
    EXPECT_EQ(r.status, c.status);
    EXPECT_FALSE(r.reason.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequestParserRejects,
    testing::Values(
        BadCase{"bare_lf", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400},
        BadCase{"bare_cr", "GET / HTTP/1.1\rHost: x\r\n\r\n", 400},
        BadCase{"empty_request_line", "\r\nGET / HTTP/1.1\r\n\r\n", 400},
        BadCase{"missing_version", "GET /\r\n\r\n", 400},
        BadCase{"double_space", "GET  / HTTP/1.1\r\n\r\n", 400},
        BadCase{"bad_method", "G(T / HTTP/1.1\r\n\r\n", 400},
        BadCase{"absolute_form_target", "GET http://x/ HTTP/1.1\r\n\r\n", 400},
        BadCase{"control_char_in_target", "GET /a\x01 HTTP/1.1\r\n\r\n", 400},
        BadCase{"fragment_in_target", "GET /a#/../admin HTTP/1.1\r\n\r\n", 400},
        BadCase{"http2", "GET / HTTP/2.0\r\n\r\n", 505},
        BadCase{"http12", "GET / HTTP/1.2\r\n\r\n", 505},
        BadCase{"not_http", "GET / FTP/1.1\r\n\r\n", 400},
        BadCase{"obs_fold", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400},
        BadCase{"space_before_colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        BadCase{"no_colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400},
        BadCase{"empty_name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400},
        BadCase{"nul_in_value", std::string("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 26), 400},
        BadCase{"too_many_headers", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431},
        BadCase{"request_line_too_long", "GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", 414},
        // Found by http_request_fuzz: fed whole, this used to wait for the end of the head.
        BadCase{"request_line_too_long_head_incomplete",
                "GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: x\r\n", 414},
        // Also from the fuzzer: the request line is over its limit before the bare CR is reached.
        BadCase{"request_line_too_long_then_bare_cr",
                "GET /" + std::string(100, 'a') + " HTTP/0.1\ro\nHost: x\r\n", 414},
        BadCase{"slowloris_head_too_large",
                "GET / HTTP/1.1\r\n" + std::string(300, 'X'), 431},
        BadCase{"head_too_large", "GET / HTTP/1.1\r\nA: " + std::string(300, 'x') + "\r\n\r\n", 431}),
    [](const testing::TestParamInfo<BadCase>& p) { return p.param.name; });

TEST(HasToken, FindsCommaSeparatedTokensCaseInsensitively) {
  EXPECT_TRUE(HasToken("Upgrade", "upgrade"));
  EXPECT_TRUE(HasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(HasToken(" upgrade ,close", "upgrade"));
  EXPECT_FALSE(HasToken("upgraded", "upgrade"));
  EXPECT_FALSE(HasToken("", "upgrade"));
}

}  // namespace
}  // namespace wsgate::engine::http
