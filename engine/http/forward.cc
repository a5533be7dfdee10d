// File: engine/http/forward.cc
#include "engine/http/forward.h"

#include <algorithm>
#include <array>

#include "engine/http/request_parser.h"

namespace wsgate::engine::http {
namespace {

struct Never {
  std::string_view name;  // lowercase
  std::string_view why;
};
constexpr std::array<Never, 18> kNever = {{
    {"connection", "a hop-by-hop header"},
    {"keep-alive", "a hop-by-hop header"},
    {"proxy-connection", "a hop-by-hop header"},
    {"te", "a hop-by-hop header"},
    {"trailer", "a hop-by-hop header"},
    {"transfer-encoding", "a hop-by-hop header"},
    {"upgrade", "a hop-by-hop header"},
    {"content-length", "a hop-by-hop header"},
    {"host", "part of the WebSocket handshake (the gateway writes the backend's)"},
    {"sec-websocket-key", "part of the WebSocket handshake (the gateway writes the backend's)"},
    {"sec-websocket-version", "part of the WebSocket handshake (the gateway writes the backend's)"},
    {"sec-websocket-protocol", "part of the WebSocket handshake (always passed through)"},
    {"sec-websocket-extensions", "part of the WebSocket handshake (the gateway negotiates it)"},
    {"sec-websocket-accept", "part of the WebSocket handshake"},
    {"authorization", "a client credential (never sent to the backend)"},
    {"proxy-authorization", "a client credential (never sent to the backend)"},
    {"apikey", "a client credential (never sent to the backend)"},
    {"x-forwarded-for", "always written by the gateway (the client's chain plus its address)"},
}};

bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

bool IsHeaderName(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), IsTchar);
}

std::string_view NeverPassed(std::string_view name) {
  for (const Never& n : kNever)
    if (EqualsIgnoreCase(name, n.name)) return n.why;
  return {};
}

std::string CheckBackendIdentity(bool jwt, std::string_view jwt_header, uint32_t validity_s,
                                 const std::vector<std::string>& pass_headers) {
  std::string header(jwt_header.empty() ? kDefaultJwtHeader : jwt_header);
  if (!IsHeaderName(header)) return "backend.jwt_header: '" + header + "' is not an HTTP header name";
  if (std::string_view why = NeverPassed(header); !why.empty())
    return "backend.jwt_header: '" + header + "' is " + std::string(why);
  if (validity_s != 0 && (validity_s < kMinJwtValidityS || validity_s > kMaxJwtValidityS))
    return "backend.jwt_validity_s: " + std::to_string(validity_s) + " is outside " + std::to_string(kMinJwtValidityS) +
           ".." + std::to_string(kMaxJwtValidityS) + " seconds";
  for (size_t i = 0; i < pass_headers.size(); ++i) {
    const std::string& name = pass_headers[i];
    std::string field = "backend.pass_headers[" + std::to_string(i) + "]: '" + name + "' ";
    if (!IsHeaderName(name)) return field + "is not an HTTP header name";
    if (std::string_view why = NeverPassed(name); !why.empty()) return field + "is " + std::string(why);
    if (jwt && EqualsIgnoreCase(name, header)) return field + "is the backend JWT's header (a client must never set it)";
  }
  return {};
}

std::string PassHeaders(const Request& request, const std::vector<std::string>& allow, std::string_view drop) {
  std::string out;
  if (allow.empty()) return out;
  for (size_t i = 0; i < request.header_count; ++i) {
    const Header& h = request.headers[i];
    if (EqualsIgnoreCase(h.name, drop) || !NeverPassed(h.name).empty()) continue;
    bool listed = std::any_of(allow.begin(), allow.end(), [&](const std::string& a) { return EqualsIgnoreCase(h.name, a); });
    if (!listed) continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  return out;
}

}  // namespace wsgate::engine::http
