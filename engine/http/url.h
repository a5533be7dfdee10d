// File: engine/http/url.h
//
// Request-path safety checks, percent-encoding for what the engine splices into a backend's
// request-target, and query-string helpers with the semantics of Node.js `querystring.parse` (the sample backend's
// parser) and of the engine's token extraction: '&'-separated pairs, '+' means space, percent
// escapes decoded (a malformed escape is kept literally, as Node does). Pure logic.
//
//   QueryValue v = FindQueryParam("room=room1&x=2", "room");   // v.count == 1, v.value == "room1"
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace wsgate::engine::http {

// What makes a client's request path unsafe to route and forward: a backend (or a proxy in
// front of it) may normalize it into a path the gateway never routed (`/api/v1/../../admin`).
enum class PathIssue : uint8_t {
  kNone,
  kDotSegment,        // a "." or ".." segment, also percent-encoded ("%2e%2e") or before ';' ("..;")
  kEncodedSeparator,  // "%2F" or "%5C" (an encoded '/' or '\'), or a raw '\'
  kEmptySegment,      // "//" (an empty segment; one trailing '/' is fine)
  kBadEscape,         // '%' not followed by two hex digits, or an encoded NUL ("%00")
};

// Checks `path` (the request-target before '?').
PathIssue CheckPath(std::string_view path);

// Percent-encodes `decoded` for one path segment: unreserved characters and "!$&'()*+,=:@" stay,
// everything else (including '/', '?', '#', ';', '%') becomes %XX.
std::string EncodePathSegment(std::string_view decoded);
// Percent-encodes `decoded` for a query key or value: only unreserved characters stay, so '&',
// '=', '+', '#' and '%' cannot change the query's structure.
std::string EncodeQueryComponent(std::string_view decoded);

// Decodes %XX escapes and, when `plus_is_space`, '+' as ' '.
std::string PercentDecode(std::string_view in, bool plus_is_space = true);

struct QueryValue {
  int count = 0;      // how many times the (decoded) key occurred
  std::string value;  // the decoded value of its first occurrence
};

// Looks `key` up among the decoded keys of `query` (the part after '?').
QueryValue FindQueryParam(std::string_view query, std::string_view key);

// `query` with every pair whose decoded key is one of `keys` removed, in one pass; the other pairs
// keep their bytes and order. Used to strip the credentials (access_token, apikey) before
// forwarding.
std::string RemoveQueryParams(std::string_view query, std::initializer_list<std::string_view> keys);

}  // namespace wsgate::engine::http
