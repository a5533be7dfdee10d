// File: tests/unit/engine/http/messages_test.cc
#include "engine/http/messages.h"

#include <gtest/gtest.h>

namespace wsgate::engine::http {
namespace {

TEST(Messages, StatusTexts) {
  EXPECT_EQ(StatusText(404), "Not Found");
  EXPECT_EQ(StatusText(429), "Too Many Requests");
  EXPECT_EQ(StatusText(503), "Service Unavailable");
  EXPECT_EQ(StatusText(299), "Error");
}

TEST(Messages, ErrorResponseIsCompleteAndClosesTheConnection) {
  EXPECT_EQ(ErrorResponse(503, "Service Unavailable: busy", "Retry-After: 1\r\n"),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 25\r\n"
            "Connection: close\r\nRetry-After: 1\r\n\r\nService Unavailable: busy");
  EXPECT_EQ(ErrorResponse(400, ""), "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(Messages, UpstreamRequestPassesOnlyWhatTheBackendNeeds) {
  UpstreamRequest r;
  r.target = "/notifications?x=1";
  r.host = "localhost:8080";
  r.key = "dGhlIHNhbXBsZSBub25jZQ==";
  r.client_ip = "127.0.0.1";
  EXPECT_EQ(FormatUpstreamRequest(r),
            "GET /notifications?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            "X-Forwarded-For: 127.0.0.1\r\n\r\n");
  r.protocols = "chat, superchat";
  r.origin = "https://app.example";
  r.user_agent = "wscat";
  r.forwarded_for = "10.0.0.1";
  std::string out = FormatUpstreamRequest(r);
  EXPECT_NE(out.find("\r\nSec-WebSocket-Protocol: chat, superchat\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nOrigin: https://app.example\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nUser-Agent: wscat\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\nX-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n\r\n"), std::string::npos);
}

TEST(Messages, SwitchingProtocolsNamesTheChosenProtocol) {
  EXPECT_EQ(SwitchingProtocols("abc=", ""),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n");
  EXPECT_NE(SwitchingProtocols("abc=", "chat").find("\r\nSec-WebSocket-Protocol: chat\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace wsgate::engine::http
