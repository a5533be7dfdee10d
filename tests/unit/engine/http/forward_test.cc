// Unit tests for engine/http/forward: which client headers reach the backend (issue 14 item 7)
// and the rules an API's backend identity settings must follow.
#include "engine/http/forward.h"

#include <gtest/gtest.h>

#include <string>

namespace wsgate::engine::http {
namespace {

class PassHeadersTest : public ::testing::Test {
 protected:
  std::string Pass(const std::string& headers, const std::vector<std::string>& allow, std::string_view drop = "") {
    storage_ = "GET /x HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
    parser_ = std::make_unique<RequestParser>();
    EXPECT_EQ(parser_->Feed(storage_).kind, ParseResult::kComplete);
    return PassHeaders(parser_->request(), allow, drop);
  }
  std::string storage_;
  std::unique_ptr<RequestParser> parser_;
};

TEST_F(PassHeadersTest, OnlyListedHeadersPassCaseInsensitivelyInRequestOrder) {
  std::string h = "X-Request-Id: 7\r\nCookie: a=b\r\nX-Other: no\r\nx-tenant: t1\r\nUser-Agent: ua\r\n";
  EXPECT_EQ(Pass(h, {"x-tenant", "x-request-id"}), "X-Request-Id: 7\r\nx-tenant: t1\r\n");
  EXPECT_EQ(Pass(h, {"cookie", "user-agent"}), "Cookie: a=b\r\nUser-Agent: ua\r\n");
  EXPECT_EQ(Pass(h, {}), "");  // no list: nothing extra
}

TEST_F(PassHeadersTest, CredentialsHopByHopAndTheJwtHeaderNeverPass) {
  std::string h =
      "Authorization: Bearer t\r\napikey: k\r\nConnection: keep-alive\r\nX-JWT-Assertion: forged\r\n"
      "Proxy-Authorization: p\r\nX-Forwarded-For: 1.2.3.4\r\nX-Ok: 1\r\n";
  EXPECT_EQ(Pass(h, {"authorization", "apikey", "connection", "x-jwt-assertion", "proxy-authorization",
                     "x-forwarded-for", "x-ok"},
                 "x-jwt-assertion"),
            "X-Ok: 1\r\n");
  // Repeated headers pass each copy.
  EXPECT_EQ(Pass("X-A: 1\r\nX-A: 2\r\n", {"x-a"}), "X-A: 1\r\nX-A: 2\r\n");
}

TEST(NeverPassed, NamesTheReason) {
  EXPECT_EQ(NeverPassed("AUTHORIZATION"), "a client credential (never sent to the backend)");
  EXPECT_EQ(NeverPassed("Upgrade"), "a hop-by-hop header");
  EXPECT_EQ(NeverPassed("Sec-WebSocket-Key"), "part of the WebSocket handshake (the gateway writes the backend's)");
  EXPECT_EQ(NeverPassed("Cookie"), "");
  EXPECT_EQ(NeverPassed("X-Request-Id"), "");
}

TEST(CheckBackendIdentity, DecisionTable) {
  EXPECT_EQ(CheckBackendIdentity(true, "", 0, {}), "");
  EXPECT_EQ(CheckBackendIdentity(true, "X-Caller", 60, {"x-request-id", "Cookie"}), "");
  EXPECT_EQ(CheckBackendIdentity(true, "Bad Header", 0, {}), "backend.jwt_header: 'Bad Header' is not an HTTP header name");
  EXPECT_EQ(CheckBackendIdentity(true, "Authorization", 0, {}),
            "backend.jwt_header: 'Authorization' is a client credential (never sent to the backend)");
  EXPECT_EQ(CheckBackendIdentity(true, "", 59, {}), "backend.jwt_validity_s: 59 is outside 60..3600 seconds");
  EXPECT_EQ(CheckBackendIdentity(true, "", 3601, {}), "backend.jwt_validity_s: 3601 is outside 60..3600 seconds");
  EXPECT_EQ(CheckBackendIdentity(false, "", 0, {"x-ok", "apikey"}),
            "backend.pass_headers[1]: 'apikey' is a client credential (never sent to the backend)");
  EXPECT_EQ(CheckBackendIdentity(true, "", 0, {"x-jwt-assertion"}),
            "backend.pass_headers[0]: 'x-jwt-assertion' is the backend JWT's header (a client must never set it)");
  EXPECT_EQ(CheckBackendIdentity(false, "", 0, {"x-jwt-assertion"}), "");  // no JWT: an ordinary header
  EXPECT_EQ(CheckBackendIdentity(false, "", 0, {""}), "backend.pass_headers[0]: '' is not an HTTP header name");
  EXPECT_EQ(CheckBackendIdentity(false, "", 0, {"host"}),
            "backend.pass_headers[0]: 'host' is part of the WebSocket handshake (the gateway writes the backend's)");
}

}  // namespace
}  // namespace wsgate::engine::http
