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

TEST(CheckUpgrade, StatusMapping) {
  EXPECT_EQ(DefaultStatus(UpgradeError::kNotGet), 405);
  EXPECT_EQ(DefaultStatus(UpgradeError::kBadVersion), 426);
  EXPECT_EQ(DefaultStatus(UpgradeError::kBadKey), 400);
  EXPECT_EQ(DefaultStatus(UpgradeError::kNoUpgradeHeader), 400);
  EXPECT_NE(Describe(UpgradeError::kBadVersion).find("13"), std::string_view::npos);
}

}  // namespace
}  // namespace wsgate::engine::http
