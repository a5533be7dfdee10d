// Unit tests for engine/http/extensions: permessage-deflate offers passed upstream and the
// backend's answer checked against them (RFC 7692 §7.1), and the 502 a bad answer gets.
#include "engine/http/extensions.h"

#include <gtest/gtest.h>

#include "engine/http/request_parser.h"
#include "engine/http/response.h"
#include "engine/ws/handshake.h"

namespace wsgate::engine::http {
namespace {

std::string Offers(const std::string& headers) {
  std::string text = "GET /x HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
  RequestParser parser;
  ParseResult r = parser.Feed(text);
  EXPECT_EQ(r.kind, ParseResult::kComplete);
  return DeflateOffers(parser.request());
}

TEST(DeflateOffers, KeepsOnlyValidPermessageDeflateOffers) {
  EXPECT_EQ(Offers(""), "");
  EXPECT_EQ(Offers("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"),
            "permessage-deflate; client_max_window_bits");
  // What a browser sends, plus an extension the engine does not understand (dropped).
  EXPECT_EQ(Offers("Sec-WebSocket-Extensions: x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10, "
                   "permessage-deflate\r\n"),
            "permessage-deflate; server_max_window_bits=10, permessage-deflate");
  EXPECT_EQ(Offers("Sec-WebSocket-Extensions: permessage-deflate; bogus=1\r\n"
                   "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n"),
            "permessage-deflate; client_no_context_takeover")
      << "headers are one list; a malformed offer is dropped";
  EXPECT_EQ(Offers("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=16\r\n"), "");
  EXPECT_EQ(Offers("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                   "server_no_context_takeover\r\n"),
            "");
}

TEST(CheckDeflateAnswer, AcceptsASubsetOfAnOffer) {
  const std::string offers = "permessage-deflate; client_max_window_bits, permessage-deflate";
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate", offers), "");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate; server_no_context_takeover; client_max_window_bits=12", offers), "");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate; client_no_context_takeover; server_max_window_bits=9", offers), "");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate; client_max_window_bits=10", "permessage-deflate"),
            "backend's permessage-deflate answer does not match the client's offer")
      << "client_max_window_bits needs the client's consent";
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate", "permessage-deflate; server_max_window_bits=10"),
            "backend's permessage-deflate answer does not match the client's offer");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate; server_max_window_bits=12",
                               "permessage-deflate; server_max_window_bits=10"),
            "backend's permessage-deflate answer does not match the client's offer");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate", "permessage-deflate; server_no_context_takeover"),
            "backend's permessage-deflate answer does not match the client's offer");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate; client_max_window_bits", offers),
            "backend's Sec-WebSocket-Extensions answer is invalid: client_max_window_bits must be 8 to 15");
  EXPECT_EQ(CheckDeflateAnswer("x-other", offers),
            "backend's Sec-WebSocket-Extensions answer is invalid: not permessage-deflate");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate, permessage-deflate", offers),
            "backend accepted more than one extension (only permessage-deflate was offered)");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate", ""), "backend negotiated an extension that was not offered");
}

TEST(CheckDeflateAnswer, NoContextTakeoverForThrottledConnections) {
  EXPECT_EQ(WithServerNoContextTakeover("permessage-deflate; client_max_window_bits, permessage-deflate; "
                                        "server_no_context_takeover"),
            "permessage-deflate; client_max_window_bits; server_no_context_takeover, permessage-deflate; "
            "server_no_context_takeover");
  EXPECT_EQ(WithClientNoContextTakeover("permessage-deflate; server_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_EQ(WithClientNoContextTakeover("permessage-deflate; client_no_context_takeover"),
            "permessage-deflate; client_no_context_takeover");
  // The backend must then honour server_no_context_takeover.
  std::string offers = WithServerNoContextTakeover("permessage-deflate");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate", offers),
            "backend's permessage-deflate answer does not match the client's offer");
  EXPECT_EQ(CheckDeflateAnswer("permessage-deflate; server_no_context_takeover", offers), "");
}

TEST(ParseUpgradeResponse, PassesAValidDeflateAnswerOnAndRefusesOthers) {
  const std::string accept = ws::AcceptKey("dGhlIHNhbXBsZSBub25jZQ==");
  std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: " + accept + "\r\n";
  std::string ok = head + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n";
  UpstreamAnswer a = ParseUpgradeResponse(ok, accept, "", "permessage-deflate; client_max_window_bits");
  ASSERT_EQ(a.kind, UpstreamAnswer::kAccepted) << a.error;
  EXPECT_EQ(a.extensions, "permessage-deflate; client_max_window_bits=15");
  UpstreamAnswer unoffered = ParseUpgradeResponse(ok, accept, "", "");
  EXPECT_EQ(unoffered.kind, UpstreamAnswer::kRefused);
  EXPECT_EQ(unoffered.error, "backend negotiated an extension that was not offered");
  UpstreamAnswer plain = ParseUpgradeResponse(head + "\r\n", accept, "", "permessage-deflate");
  ASSERT_EQ(plain.kind, UpstreamAnswer::kAccepted) << "a backend may decline the offer";
  EXPECT_EQ(plain.extensions, "");
}

}  // namespace
}  // namespace wsgate::engine::http
