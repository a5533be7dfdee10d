// File: engine/http/request_parser.h
//
// A bounded, incremental HTTP/1.1 request-head parser for WebSocket upgrade requests. Pure logic:
// no sockets, no allocation. Feed it the bytes buffered so far (the same prefix plus whatever
// arrived since, the buffer may move between calls) until it says kComplete or kError:
//
//   RequestParser parser(limits);
//   ParseResult r = parser.Feed(buffered);
//   if (r.kind == ParseResult::kComplete) Use(parser.request());   // views into `buffered`
//   if (r.kind == ParseResult::kError) Reply(r.status, r.reason);
//
// Each call scans only the bytes it has not seen before for the end of the head, so feeding one
// byte at a time is linear. Rules (RFC 9112): CRLF line ends (a bare LF or CR is an error), no
// obs-fold, no whitespace between a field name and its colon, token field names and methods,
// visible-ASCII origin-form targets (no '#'), HTTP/1.0 or HTTP/1.1. Limits: total head size (431), request
// line length (414), header count (431).
//
// Owned by one connection; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wsgate::engine::http {

struct Limits {
  size_t max_head_bytes = 16 * 1024;  // request line + headers + final CRLF
  size_t max_request_line = 8 * 1024;
  size_t max_headers = 64;            // at most kMaxHeaders
};

struct Header {
  std::string_view name;   // as sent (compare case-insensitively)
  std::string_view value;  // surrounding whitespace trimmed
};

struct Request {
  static constexpr size_t kMaxHeaders = 128;

  std::string_view method;
  std::string_view target;  // the request-target as sent, e.g. "/chats/1.0.0/rooms/r1?x=1"
  std::string_view path;    // target before '?'
  std::string_view query;   // target after '?', without it; empty if none
  int minor_version = 1;    // HTTP/1.<minor_version>
  std::array<Header, kMaxHeaders> headers;
  size_t header_count = 0;

  // First header whose name equals `name` case-insensitively, or nullptr.
  const Header* Find(std::string_view name) const;
};

struct ParseResult {
  enum Kind : uint8_t { kNeedMore, kComplete, kError };
  Kind kind = kNeedMore;
  size_t consumed = 0;          // kComplete: bytes of the head, including the final CRLF CRLF
  int status = 0;               // kError: the HTTP status to answer (400, 414, 431, 505)
  std::string_view reason;      // kError: a short human-readable reason (static storage)
};

class RequestParser {
 public:
  explicit RequestParser(const Limits& limits = Limits()) : limits_(limits) {}

  // `buffered` is everything received so far, from the first byte of the request.
  ParseResult Feed(std::string_view buffered);
  // Valid after Feed() returned kComplete, for as long as the buffer passed to it lives.
  const Request& request() const { return request_; }
  // Forget everything; ready for a new request.
  void Reset() { scan_pos_ = 0; request_line_end_ = 0; }

 private:
  ParseResult ParseHead(std::string_view head);

  Limits limits_;
  size_t scan_pos_ = 0;          // bytes already checked for line ends
  size_t request_line_end_ = 0;  // 0 until the first CRLF has been seen
  Request request_;
};

// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimOws(std::string_view s);
// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// True if the comma-separated header value `list` holds `token` (case-insensitive), e.g.
// HasToken("keep-alive, Upgrade", "upgrade").
bool HasToken(std::string_view list, std::string_view token);

}  // namespace wsgate::engine::http
