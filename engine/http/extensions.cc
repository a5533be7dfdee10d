// File: engine/http/extensions.cc
#include "engine/http/extensions.h"

#include <vector>

namespace wsgate::engine::http {
namespace {

// Splits at `sep` outside double quotes.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '"') quoted = !quoted;
    if (i == s.size() || (s[i] == sep && !quoted)) {
      out.push_back(TrimOws(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

// 8..15, or 0 when `v` is no such number.
int WindowBits(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 2) return 0;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n >= 8 && n <= 15 ? n : 0;
}

}  // namespace

std::string ParseDeflate(std::string_view element, bool answer, DeflateParams* out) {
  *out = DeflateParams{};
  std::vector<std::string_view> parts = Split(element, ';');
  if (parts.empty() || !EqualsIgnoreCase(parts[0], kPermessageDeflate)) return "not permessage-deflate";
  bool seen[4] = {false, false, false, false};
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    size_t eq = p.find('=');
    std::string_view name = TrimOws(p.substr(0, eq));
    std::string_view value = eq == std::string_view::npos ? std::string_view() : TrimOws(p.substr(eq + 1));
    bool has_value = eq != std::string_view::npos;
    int which;
    if (EqualsIgnoreCase(name, "server_no_context_takeover")) which = 0;
    else if (EqualsIgnoreCase(name, "client_no_context_takeover")) which = 1;
    else if (EqualsIgnoreCase(name, "server_max_window_bits")) which = 2;
    else if (EqualsIgnoreCase(name, "client_max_window_bits")) which = 3;
    else return "unknown permessage-deflate parameter '" + std::string(name) + "'";
    if (seen[which]) return "permessage-deflate parameter '" + std::string(name) + "' given twice";
    seen[which] = true;
    switch (which) {
      case 0:
      case 1:
        if (has_value) return "permessage-deflate parameter '" + std::string(name) + "' takes no value";
        (which == 0 ? out->server_no_context_takeover : out->client_no_context_takeover) = true;
        break;
      case 2:
        out->server_max_window_bits = WindowBits(value);
        if (out->server_max_window_bits == 0) return "server_max_window_bits must be 8 to 15";
        break;
      default:
        out->client_max_window_bits = true;
        if (has_value || answer) {
          out->client_max_window_bits_value = WindowBits(value);
          if (out->client_max_window_bits_value == 0) return "client_max_window_bits must be 8 to 15";
        }
        break;
    }
  }
  return "";
}

std::string DeflateOffers(const Request& request) {
  std::string out;
  for (size_t i = 0; i < request.header_count; ++i) {
    const Header& h = request.headers[i];
    if (!EqualsIgnoreCase(h.name, "sec-websocket-extensions")) continue;
    for (std::string_view element : Split(h.value, ',')) {
      DeflateParams ignored;
      if (!ParseDeflate(element, /*answer=*/false, &ignored).empty()) continue;
      if (!out.empty()) out += ", ";
      out.append(element.data(), element.size());
    }
  }
  return out;
}

std::string CheckDeflateAnswer(std::string_view answer, std::string_view offers) {
  if (offers.empty()) return "backend negotiated an extension that was not offered";
  std::vector<std::string_view> elements = Split(answer, ',');
  if (elements.size() != 1) return "backend accepted more than one extension (only permessage-deflate was offered)";
  DeflateParams a;
  if (std::string error = ParseDeflate(elements[0], /*answer=*/true, &a); !error.empty())
    return "backend's Sec-WebSocket-Extensions answer is invalid: " + error;
  for (std::string_view offer : Split(offers, ',')) {
    DeflateParams o;
    if (!ParseDeflate(offer, false, &o).empty()) continue;
    if (a.client_max_window_bits &&
        (!o.client_max_window_bits ||
         (o.client_max_window_bits_value != 0 && a.client_max_window_bits_value > o.client_max_window_bits_value)))
      continue;
    if (o.server_max_window_bits != 0 &&
        (a.server_max_window_bits == 0 || a.server_max_window_bits > o.server_max_window_bits))
      continue;
    if (o.server_no_context_takeover && !a.server_no_context_takeover) continue;
    return "";
  }
  return "backend's permessage-deflate answer does not match the client's offer";
}

namespace {
// `elements` with `param` added to each element that lacks it.
std::string WithParam(std::string_view elements, std::string_view param, bool DeflateParams::*has) {
  std::string out;
  for (std::string_view element : Split(elements, ',')) {
    DeflateParams p;
    bool valid = ParseDeflate(element, false, &p).empty();
    if (!out.empty()) out += ", ";
    out.append(element.data(), element.size());
    if (valid && !(p.*has)) out.append("; ").append(param.data(), param.size());
  }
  return out;
}
}  // namespace

std::string WithServerNoContextTakeover(std::string_view offers) {
  return WithParam(offers, "server_no_context_takeover", &DeflateParams::server_no_context_takeover);
}

std::string WithClientNoContextTakeover(std::string_view answer) {
  return WithParam(answer, "client_no_context_takeover", &DeflateParams::client_no_context_takeover);
}

}  // namespace wsgate::engine::http
