// File: engine/ws/handshake.h
//
// RFC 6455 handshake arithmetic and small text rules shared by the engine, the chat backend and
// the load generator. Pure logic; no crypto library: the accept key needs SHA-1 only as a fixed
// transform (RFC 6455 §1.3), so a small portable SHA-1 lives here.
//
//   std::string accept = AcceptKey("dGhlIHNhbXBsZSBub25jZQ==");  // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsgate::engine::ws {

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string AcceptKey(std::string_view client_key);

// SHA-1 digest (FIPS 180-4). Exposed for tests.
std::array<uint8_t, 20> Sha1(std::string_view data);

// True if `text` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF), as RFC 6455
// requires for text messages and close reasons.
bool IsValidUtf8(std::string_view text);

// Close status codes a peer may send on the wire (RFC 6455 §7.4): 1000-1003, 1007-1011,
// 1012-1014 (IANA registry) and 3000-4999.
bool IsValidCloseCodeOnWire(uint16_t code);

}  // namespace wsgate::engine::ws
