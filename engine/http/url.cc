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

}  // namespace

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

std::string RemoveQueryParam(std::string_view query, std::string_view key) {
  std::string out;
  ForEachPair(query, [&](std::string_view pair) {
    if (PercentDecode(RawKey(pair)) == key) return true;
    if (!out.empty()) out.push_back('&');
    out.append(pair);
    return true;
  });
  return out;
}

}  // namespace wsgate::engine::http
