// File: engine/common/base64.h
//
// Base64 (RFC 4648 §4, padded: the WebSocket accept key) and base64url (§5, unpadded: JWS).
// Pure; shared by the engine, the agent and the tools.
//
//   std::string a = Base64Encode(digest.data(), digest.size());
//   std::string b = Base64UrlEncode(json);
//   std::string raw; bool ok = Base64UrlDecode(b, &raw);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wsgate::common {

std::string Base64Encode(const uint8_t* data, size_t size);
std::string Base64UrlEncode(std::string_view in);
// Unpadded base64url; false on any other character, an impossible length or non-zero trailing
// bits (only the canonical encoding is accepted).
bool Base64UrlDecode(std::string_view in, std::string* out);

}  // namespace wsgate::common
