// Unit tests for engine/http/response: the backend's answer to our upgrade.
#include "engine/http/response.h"

#include <gtest/gtest.h>

#include "engine/ws/handshake.h"

namespace wsgate::engine::http {
namespace {

const std::string kKey = "dGhlIHNhbXBsZSBub25jZQ==";
const std::string kAccept = ws::AcceptKey(kKey);

std::string Response(const std::string& status_and_headers) { return status_and_headers + "\r\n"; }

TEST(ParseUpgradeResponse, AcceptsAtEveryFragmentSizeAndReportsLeftovers) {
  std::string r = Response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: " + kAccept + "\r\nSec-WebSocket-Protocol: chat\r\n") +
                  "\x81\x02hi";
  for (size_t n = 0; n < r.size() - 4; ++n) {
    UpstreamAnswer a = ParseUpgradeResponse(std::string_view(r).substr(0, n), kAccept, "chat, x");
    ASSERT_EQ(a.kind, UpstreamAnswer::kNeedMore) << n;
  }
  UpstreamAnswer a = ParseUpgradeResponse(r, kAccept, "chat, x");
  ASSERT_EQ(a.kind, UpstreamAnswer::kAccepted) << a.error;
  EXPECT_EQ(a.protocol, "chat");
  EXPECT_EQ(r.substr(a.consumed), "\x81\x02hi");
}

TEST(ParseUpgradeResponse, RefusesWithAReason) {
  auto refuse = [](const std::string& r, const std::string& offered = "") {
    UpstreamAnswer a = ParseUpgradeResponse(r, kAccept, offered);
    EXPECT_EQ(a.kind, UpstreamAnswer::kRefused) << r;
    EXPECT_FALSE(a.error.empty());
    return a;
  };
  EXPECT_EQ(refuse(Response("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n")).status, 404);
  refuse(Response("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n"));
  refuse(Response("HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + kAccept + "\r\n"));
  refuse(Response("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + kAccept +
                  "\r\nSec-WebSocket-Protocol: other\r\n"),
         "chat");
  refuse(Response("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + kAccept +
                  "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"));
  refuse(Response("garbage\r\n"));
  EXPECT_EQ(ParseUpgradeResponse(std::string(20000, 'x'), kAccept, "").kind, UpstreamAnswer::kRefused);
}

}  // namespace
}  // namespace wsgate::engine::http
