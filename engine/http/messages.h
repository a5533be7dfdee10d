// File: engine/http/messages.h
//
// The HTTP/1.1 text the engine writes, as pure functions: status texts, error answers with a
// text body, the upstream upgrade request it sends a backend, and the 101 it gives the client.
#pragma once

#include <string>
#include <string_view>

namespace wsgate::engine::http {

// "Not Found" for 404; "Error" for a status this gateway never sends.
std::string_view StatusText(int status);

// A complete error answer: status line, text/plain body, Content-Length, Connection: close, and
// `extra_headers` (each ending in \r\n), e.g. "Retry-After: 1\r\n".
std::string ErrorResponse(int status, std::string_view body, std::string_view extra_headers = {});

// The WebSocket upgrade request the engine sends a backend (RFC 6455 §4.1). The client's access
// token never appears in it: `target` comes without it, and Authorization is not passed on.
struct UpstreamRequest {
  std::string_view target;       // path and query on the backend
  std::string_view host;         // Host header
  std::string_view key;          // our Sec-WebSocket-Key (fresh per connection)
  std::string_view protocols;    // the client's Sec-WebSocket-Protocol, passed through ("" none)
  std::string_view origin;       // the client's Origin ("" none)
  std::string_view user_agent;   // the client's User-Agent ("" none)
  std::string_view forwarded_for;  // the client's X-Forwarded-For ("" none)
  std::string_view client_ip;    // appended to X-Forwarded-For
  std::string_view extensions;   // the client's permessage-deflate offers (extensions.h; "" none)
  // Issue 14 item 7: whole header lines ("Name: value\r\n"): the API's pass-through headers
  // (forward.h) and its backend JWT.
  std::string_view extra_headers;
};
std::string FormatUpstreamRequest(const UpstreamRequest& r);

// The engine's 101 to the client: `accept` is AcceptKey(client key); `protocol` the one the
// backend chose ("" none); `extensions` the backend's permessage-deflate answer ("" none).
std::string SwitchingProtocols(std::string_view accept, std::string_view protocol, std::string_view extensions = {});

}  // namespace wsgate::engine::http
