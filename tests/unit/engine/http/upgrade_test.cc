// Unit tests for engine/http/upgrade: RFC 6455 §4.2.1 checks and their status mapping.
#include "engine/http/upgrade.h"

#include <gtest/gtest.h>

#include <string>

namespace wsgate::engine::http {
namespace {

UpgradeCheck Check(const std::string& head, UpgradeOptions options = {}) {
  static std::string storage;  // the request views into it
  storage = head;
  RequestParser parser;
  ParseResult r = parser.Feed(storage);
  EXPECT_EQ(r.kind, ParseResult::kComplete) << head;
  return CheckUpgrade(parser.request(), options);
}

std::string Request(const std::string& method, const std::string& headers, const std::string& version = "1.1") {
  return method + " /x HTTP/" + version + "\r\n" + headers + "\r\n";
}

const std::string kGood =
    "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

TEST(CheckUpgrade, AcceptsAValidRequest) {
  UpgradeCheck c = Check(Request("GET", kGood + "Sec-WebSocket-Protocol: chat, superchat\r\n"));
  EXPECT_EQ(c.error, UpgradeError::kNone);
  EXPECT_EQ(c.key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(c.host, "h");
  EXPECT_EQ(c.protocols, "chat, superchat");
  EXPECT_EQ(FirstProtocol(c.protocols), "chat");
}

TEST(CheckUpgrade, RejectsWithTheRightError) {
  EXPECT_EQ(Check(Request("POST", kGood)).error, UpgradeError::kNotGet);
  EXPECT_EQ(Check(Request("GET", kGood, "1.0")).error, UpgradeError::kHttp10);
  EXPECT_EQ(Check(Request("GET", "Upgrade: websocket\r\nConnection: Upgrade\r\n")).error, UpgradeError::kNoHost);
  EXPECT_EQ(Check(Request("GET", "Host: h\r\nConnection: Upgrade\r\n")).error, UpgradeError::kNoUpgradeHeader);
  EXPECT_EQ(Check(Request("GET", "Host: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n")).error,
            UpgradeError::kNoUpgradeHeader);
  EXPECT_EQ(Check(Request("GET", "Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n")).error,
            UpgradeError::kNoConnectionUpgrade);
  EXPECT_EQ(Check(Request("GET", "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Version: 13\r\n")).error,
            UpgradeError::kBadKey);
  EXPECT_EQ(Check(Request("GET", "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n")).error,
            UpgradeError::kBadKey);
  // 22 base64 characters whose last one carries bits beyond 16 bytes.
  EXPECT_EQ(Check(Request("GET", "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZB==\r\nSec-WebSocket-Version: 13\r\n")).error,
            UpgradeError::kBadKey);
  EXPECT_EQ(Check(Request("GET", "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n")).error,
            UpgradeError::kBadVersion);
  EXPECT_EQ(Check(Request("GET", "Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")).error,
            UpgradeError::kBadVersion);
}

TEST(CheckUpgrade, LenientOptionsMatchTheNodeWsLibrary) {
  UpgradeOptions ws_like;
  ws_like.accept_version_8 = true;
  ws_like.strict_key = false;
  ws_like.require_host = false;
  EXPECT_EQ(Check(Request("GET", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Key: anything\r\nSec-WebSocket-Version: 8\r\n"),
                  ws_like).error,
            UpgradeError::kNone);
}

// Issue #11, item 5: a header that must appear once, twice, is a 400 (which copy wins would
// differ between the gateway and what sits behind it).
TEST(CheckUpgrade, RejectsDuplicateSingleValueHeaders) {
  struct Case {
    std::string extra;
    UpgradeError error;
  };
  for (const Case& c : {Case{"Host: evil\r\n", UpgradeError::kDuplicateHost},
                        Case{"host: h\r\n", UpgradeError::kDuplicateHost},
                        Case{"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n", UpgradeError::kDuplicateKey},
                        Case{"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n", UpgradeError::kDuplicateKey},
                        Case{"Sec-WebSocket-Version: 8\r\n", UpgradeError::kDuplicateVersion},
                        Case{"Sec-WebSocket-Version: 13\r\n", UpgradeError::kDuplicateVersion},
                        Case{"Authorization: Bearer a\r\nAuthorization: Bearer b\r\n",
                             UpgradeError::kDuplicateAuthorization}}) {
    UpgradeCheck check = Check(Request("GET", kGood + c.extra));
    EXPECT_EQ(check.error, c.error) << c.extra;
    EXPECT_EQ(DefaultStatus(check.error), 400) << c.extra;
  }
  EXPECT_EQ(Describe(UpgradeError::kDuplicateHost), "more than one Host header");
  EXPECT_EQ(Describe(UpgradeError::kDuplicateKey), "more than one Sec-WebSocket-Key header");
  // One of each is fine, and list-valued headers may repeat.
  EXPECT_EQ(Check(Request("GET", kGood + "Authorization: Bearer a\r\nSec-WebSocket-Protocol: a\r\n"
                                         "Sec-WebSocket-Protocol: b\r\nConnection: keep-alive\r\n")).error,
            UpgradeError::kNone);
  // The Node "ws"-like options read the first copy, as "ws" does.
  UpgradeOptions ws_like;
  ws_like.reject_duplicates = false;
  UpgradeCheck first = Check(Request("GET", kGood + "Host: evil\r\n"), ws_like);
  EXPECT_EQ(first.error, UpgradeError::kNone);
  EXPECT_EQ(first.host, "h");
}

// Issue #11, item 4: unsafe paths are refused at the upgrade with a 400 naming the problem.
TEST(CheckUpgrade, RejectsUnsafePaths) {
  auto check_target = [](const std::string& target, UpgradeOptions options = {}) {
    return Check("GET " + target + " HTTP/1.1\r\n" + kGood + "\r\n", options).error;
  };
  EXPECT_EQ(check_target("/echo/1.0.0/../../admin"), UpgradeError::kDotSegment);
  EXPECT_EQ(check_target("/echo/1.0.0/%2e%2e/%2E%2E/admin"), UpgradeError::kDotSegment);
  EXPECT_EQ(check_target("/echo/1.0.0/..;/admin"), UpgradeError::kDotSegment);
  EXPECT_EQ(check_target("/echo/1.0.0/a%2f..%2f..%2fadmin"), UpgradeError::kEncodedSeparator);
  EXPECT_EQ(check_target("/echo/1.0.0/a%5Cb"), UpgradeError::kEncodedSeparator);
  EXPECT_EQ(check_target("/echo/1.0.0//admin"), UpgradeError::kEmptySegment);
  EXPECT_EQ(check_target("/echo/1.0.0/a%zz"), UpgradeError::kBadEscape);
  // The query is not a path: dots and slashes there are data.
  EXPECT_EQ(check_target("/echo/1.0.0/rooms/r1?next=/../..//x"), UpgradeError::kNone);
  EXPECT_EQ(check_target("/echo/1.0.0/rooms/r1/"), UpgradeError::kNone);
  for (UpgradeError e : {UpgradeError::kDotSegment, UpgradeError::kEncodedSeparator, UpgradeError::kEmptySegment,
                         UpgradeError::kBadEscape}) {
    EXPECT_EQ(DefaultStatus(e), 400);
    EXPECT_EQ(Describe(e).substr(0, 18), "the path contains ");
  }
  UpgradeOptions lenient;
  lenient.check_path = false;
  EXPECT_EQ(check_target("/a/../b", lenient), UpgradeError::kNone);
}

TEST(CheckUpgrade, StatusMapping) {
  EXPECT_EQ(DefaultStatus(UpgradeError::kNotGet), 405);
  EXPECT_EQ(DefaultStatus(UpgradeError::kBadVersion), 426);
  EXPECT_EQ(DefaultStatus(UpgradeError::kBadKey), 400);
  EXPECT_EQ(DefaultStatus(UpgradeError::kNoUpgradeHeader), 400);
  EXPECT_NE(Describe(UpgradeError::kBadVersion).find("13"), std::string_view::npos);
}

}  // namespace
}  // namespace wsgate::engine::http
