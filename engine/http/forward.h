// File: engine/http/forward.h
//
// Which of a client's request headers reach the backend (issue 14 item 7, an API's
// BackendIdentity.pass_headers). Pure logic, shared with the agent, which refuses a spec naming a
// header the engine would never pass.
//
//   std::string extra = PassHeaders(request, {"x-request-id", "cookie"}, "x-jwt-assertion");
//   // "X-Request-Id: 7\r\nCookie: a=b\r\n"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/request_parser.h"

namespace wsgate::engine::http {

// WSO2's header for the backend JWT.
inline constexpr std::string_view kDefaultJwtHeader = "X-JWT-Assertion";

// Whether `name` is an HTTP field name (RFC 9110 §5.1: a token, 1..128 characters here).
bool IsHeaderName(std::string_view name);

// Why a client header called `name` can never be passed to the backend, or "" if it may be:
// hop-by-hop headers (Connection, Upgrade, TE, ...), the handshake's own (Host, Sec-WebSocket-*),
// credentials (Authorization, Proxy-Authorization, apikey) and X-Forwarded-For (the gateway
// writes its own). Case-insensitive. Cookie may be passed, but only when listed.
std::string_view NeverPassed(std::string_view name);

// The backend JWT's validity bounds (seconds) and WSO2's default.
inline constexpr uint32_t kDefaultJwtValidityS = 900, kMinJwtValidityS = 60, kMaxJwtValidityS = 3600;

// Checks an API's backend identity settings (config.proto BackendIdentity); "" when they are
// fine, else "backend.FIELD: why". `jwt_header` "" means kDefaultJwtHeader, validity 0 the default.
std::string CheckBackendIdentity(bool jwt, std::string_view jwt_header, uint32_t validity_s,
                                 const std::vector<std::string>& pass_headers);

// The client's headers whose lowercase names are in `allow` (lowercase), in request order, each
// as "Name: value\r\n"; a header named `drop` (lowercase; the backend JWT's) or NeverPassed is
// left out whatever the list says.
std::string PassHeaders(const Request& request, const std::vector<std::string>& allow, std::string_view drop);

}  // namespace wsgate::engine::http
