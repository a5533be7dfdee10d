// File: engine/http/extensions.h
//
// permessage-deflate pass-through (RFC 7692), the negotiation half: the engine does not compress
// or inflate anything. It forwards the client's permessage-deflate offers to the backend (other
// extensions, which it does not understand, and malformed offers are dropped), checks the
// backend's answer against them, and passes that answer to the client. Frames of a negotiated
// connection may then carry RSV1 on a message's first frame (ws::ScannerLimits::allow_rsv1).
// Pure logic.
//
//   std::string offers = DeflateOffers(request);        // "" when the client offered none
//   ... "Sec-WebSocket-Extensions: " + offers in the upstream request ...
//   std::string error = CheckDeflateAnswer(backend_answer, offers);  // "" = accepted
#pragma once

#include <string>
#include <string_view>

#include "engine/http/request_parser.h"

namespace wsgate::engine::http {

inline constexpr std::string_view kPermessageDeflate = "permessage-deflate";

// One permessage-deflate element's parameters (RFC 7692 §7.1).
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 0;   // 0: absent; else 8..15
  bool client_max_window_bits = false;
  int client_max_window_bits_value = 0;  // 0: present without a value (an offer may say so)
};

// Parses one element ("permessage-deflate; client_max_window_bits"). `answer`: the backend's
// side, where client_max_window_bits needs a value. "" when valid, else why not.
std::string ParseDeflate(std::string_view element, bool answer, DeflateParams* out);

// The client's valid permessage-deflate offers from every Sec-WebSocket-Extensions header, in
// order, joined with ", " (as forwarded upstream); "" when it made none.
std::string DeflateOffers(const Request& request);

// Whether the backend's Sec-WebSocket-Extensions value accepts one of `offers` (RFC 7692 §7.1:
// one permessage-deflate element, no parameter the offer did not allow). "" when it does, else
// the reason for the client's 502.
std::string CheckDeflateAnswer(std::string_view answer, std::string_view offers);

// A connection the engine may drop messages on (a throttle policy) must not use context
// takeover, or the receiver's inflater would break on the message after a dropped one:
// every offer asks the backend for server_no_context_takeover ...
std::string WithServerNoContextTakeover(std::string_view offers);
// ... and the answer passed to the client tells it client_no_context_takeover (RFC 7692
// §7.1.1.1: a server may include it whatever the offer said).
std::string WithClientNoContextTakeover(std::string_view answer);

}  // namespace wsgate::engine::http
