// File: engine/http/request_parser.cc
#include "engine/http/request_parser.h"

#include <cstring>

namespace wsgate::engine::http {

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

namespace {

// RFC 9110 tchar.
constexpr bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!IsTokenChar(c)) return false;
  return true;
}

// Field values: visible ASCII, obs-text (0x80-0xff), SP and HTAB. No other controls.
bool IsFieldValue(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

// origin-form (RFC 9112 §3.2.1): no fragment, so no '#'.
bool IsTarget(std::string_view s) {
  if (s.empty() || s[0] != '/') return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f || c == '#') return false;
  return true;
}

ParseResult Error(int status, std::string_view reason) {
  ParseResult r;
  r.kind = ParseResult::kError;
  r.status = status;
  r.reason = reason;
  return r;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x |= 0x20;
    if (y >= 'A' && y <= 'Z') y |= 0x20;
    if (x != y) return false;
  }
  return true;
}

bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = TrimOws(list.substr(0, comma));
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

const Header* Request::Find(std::string_view name) const {
  for (size_t i = 0; i < header_count; ++i)
    if (EqualsIgnoreCase(headers[i].name, name)) return &headers[i];
  return nullptr;
}

ParseResult RequestParser::Feed(std::string_view buffered) {
  // Scan new bytes for line ends; stop at the empty line that ends the head.
  size_t limit = buffered.size();
  for (size_t i = scan_pos_; i < limit; ++i) {
    // Limits are checked byte by byte, in scan order, so the answer never depends on how the
    // head was split into reads (an earlier bare CR wins over a later size limit, always).
    if (i >= limits_.max_head_bytes) return Error(431, "request header fields too large");
    if (request_line_end_ == 0 && i > limits_.max_request_line)
      return Error(414, "request line too long");
    char c = buffered[i];
    if (c == '\r') {
      if (i + 1 == limit) {  // CR is the last byte so far: decide when its successor arrives
        scan_pos_ = i;
        break;
      }
      if (buffered[i + 1] != '\n') return Error(400, "bare CR in request head");
      size_t line_end = i + 2;  // first byte after this CRLF
      if (request_line_end_ == 0) {
        if (i == 0) return Error(400, "empty request line");
        request_line_end_ = line_end;
      } else if (i >= 2 && buffered[i - 1] == '\n') {
        // An empty line: the head is complete. (i-1 is the LF of the previous CRLF.)
        if (line_end > limits_.max_head_bytes) return Error(431, "request header fields too large");
        scan_pos_ = line_end;
        ParseResult r = ParseHead(buffered.substr(0, line_end));
        if (r.kind == ParseResult::kComplete) r.consumed = line_end;
        return r;
      }
      scan_pos_ = line_end;
      ++i;  // skip the LF
      continue;
    }
    if (c == '\n') return Error(400, "bare LF in request head");
    scan_pos_ = i + 1;
  }
  return ParseResult{};
}

ParseResult RequestParser::ParseHead(std::string_view head) {
  Request& req = request_;
  req.header_count = 0;

  // Request line: method SP target SP HTTP/1.x
  std::string_view line = head.substr(0, request_line_end_ - 2);
  if (line.size() > limits_.max_request_line) return Error(414, "request line too long");
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return Error(400, "malformed request line");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return Error(400, "malformed request line");
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(req.method)) return Error(400, "malformed request method");
  if (!IsTarget(req.target)) return Error(400, "malformed request target");
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1.") {
    if (version.substr(0, 5) == "HTTP/") return Error(505, "HTTP version not supported");
    return Error(400, "malformed HTTP version");
  }
  if (version[7] != '0' && version[7] != '1') return Error(505, "HTTP version not supported");
  req.minor_version = version[7] - '0';
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string_view::npos ? std::string_view() : req.target.substr(q + 1);

  // Header lines up to the final empty line.
  size_t pos = request_line_end_;
  while (true) {
    size_t eol = head.find("\r\n", pos);
    if (eol == pos) break;  // the empty line
    std::string_view field = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (field[0] == ' ' || field[0] == '\t') return Error(400, "obsolete line folding");
    size_t colon = field.find(':');
    if (colon == std::string_view::npos) return Error(400, "header line without a colon");
    std::string_view name = field.substr(0, colon);
    if (!IsToken(name)) return Error(400, "malformed header name");
    std::string_view value = TrimOws(field.substr(colon + 1));
    if (!IsFieldValue(value)) return Error(400, "control character in header value");
    if (req.header_count >= limits_.max_headers || req.header_count >= Request::kMaxHeaders)
      return Error(431, "too many header fields");
    req.headers[req.header_count++] = Header{name, value};
  }
  ParseResult r;
  r.kind = ParseResult::kComplete;
  return r;
}

}  // namespace wsgate::engine::http
