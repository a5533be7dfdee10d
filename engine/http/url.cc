// File: engine/http/url.cc
#include "engine/http/url.h"

namespace wsgate::engine::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls fn(raw_pair) for every non-empty '&'-separated pair; stops when fn returns false.
template <typename Fn>
void ForEachPair(std::string_view query, Fn fn) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!pair.empty() && !fn(pair)) return;
    if (amp == std::string_view::npos) return;
    query.remove_prefix(amp + 1);
  }
}

std::string_view RawKey(std::string_view pair) { return pair.substr(0, pair.find('=')); }

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string Encode(std::string_view in, std::string_view also_keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (IsUnreserved(c) || (c != '\0' && also_keep.find(static_cast<char>(c)) != std::string_view::npos)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// True if `segment` (raw) names the current or parent directory once decoded; what follows a
// ';' is ignored, as servlet containers do ("..;x" is "..").
bool IsDotSegment(std::string_view segment) {
  std::string_view s = segment.substr(0, segment.find(';'));
  int dots = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      ++dots;
    } else if (s[i] == '%' && i + 2 < s.size() && s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E')) {
      ++dots;
      i += 2;
    } else {
      return false;
    }
  }
  return dots == 1 || dots == 2;
}

}  // namespace

PathIssue CheckPath(std::string_view path) {
  // Escapes first: an encoded separator or a broken escape is reported as such.
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\') return PathIssue::kEncodedSeparator;
    if (path[i] != '%') continue;
    if (i + 2 >= path.size() || HexValue(path[i + 1]) < 0 || HexValue(path[i + 2]) < 0) return PathIssue::kBadEscape;
    int byte = HexValue(path[i + 1]) * 16 + HexValue(path[i + 2]);
    if (byte == '/' || byte == '\\') return PathIssue::kEncodedSeparator;
    if (byte == 0) return PathIssue::kBadEscape;
    i += 2;
  }
  std::string_view rest = path;
  if (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (IsDotSegment(segment)) return PathIssue::kDotSegment;
    if (slash == std::string_view::npos) break;
    if (segment.empty()) return PathIssue::kEmptySegment;
    rest.remove_prefix(slash + 1);
  }
  return PathIssue::kNone;
}

std::string EncodePathSegment(std::string_view decoded) { return Encode(decoded, "!$&'()*+,=:@"); }

std::string EncodeQueryComponent(std::string_view decoded) { return Encode(decoded, ""); }

std::string PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

QueryValue FindQueryParam(std::string_view query, std::string_view key) {
  QueryValue result;
  ForEachPair(query, [&](std::string_view pair) {
    if (PercentDecode(RawKey(pair)) != key) return true;
    if (result.count++ == 0) {
      size_t eq = pair.find('=');
      result.value = eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
    }
    return true;
  });
  return result;
}

std::string RemoveQueryParams(std::string_view query, std::initializer_list<std::string_view> keys) {
  std::string out;
  out.reserve(query.size());
  ForEachPair(query, [&](std::string_view pair) {
    const std::string decoded = PercentDecode(RawKey(pair));
    for (std::string_view key : keys)
      if (decoded == key) return true;
    if (!out.empty()) out.push_back('&');
    out.append(pair);
    return true;
  });
  return out;
}

}  // namespace wsgate::engine::http
