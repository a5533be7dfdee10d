// File: engine/http/url.h
//
// Query-string helpers with the semantics of Node.js `querystring.parse` (the sample backend's
// parser) and of the engine's token extraction: '&'-separated pairs, '+' means space, percent
// escapes decoded (a malformed escape is kept literally, as Node does). Pure logic.
//
//   QueryValue v = FindQueryParam("room=room1&x=2", "room");   // v.count == 1, v.value == "room1"
#pragma once

#include <string>
#include <string_view>

namespace wsgate::engine::http {

// Decodes %XX escapes and, when `plus_is_space`, '+' as ' '.
std::string PercentDecode(std::string_view in, bool plus_is_space = true);

struct QueryValue {
  int count = 0;      // how many times the (decoded) key occurred
  std::string value;  // the decoded value of its first occurrence
};

// Looks `key` up among the decoded keys of `query` (the part after '?').
QueryValue FindQueryParam(std::string_view query, std::string_view key);

// `query` with every pair whose decoded key is `key` removed; the other pairs keep their bytes
// and order. Used to strip access_token before forwarding.
std::string RemoveQueryParam(std::string_view query, std::string_view key);

}  // namespace wsgate::engine::http
