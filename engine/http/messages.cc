// File: engine/http/messages.cc
#include "engine/http/messages.h"

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::http {

using common::Sv;

std::string_view StatusText(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

std::string ErrorResponse(int status, std::string_view body, std::string_view extra_headers) {
  return absl::StrCat("HTTP/1.1 ", status, " ", Sv(StatusText(status)),
                      "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n", Sv(extra_headers), "\r\n", Sv(body));
}

std::string FormatUpstreamRequest(const UpstreamRequest& r) {
  std::string out = absl::StrCat("GET ", Sv(r.target), " HTTP/1.1\r\nHost: ", Sv(r.host),
                                 "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ", Sv(r.key),
                                 "\r\nSec-WebSocket-Version: 13\r\n");
  if (!r.protocols.empty()) absl::StrAppend(&out, "Sec-WebSocket-Protocol: ", Sv(r.protocols), "\r\n");
  if (!r.extensions.empty()) absl::StrAppend(&out, "Sec-WebSocket-Extensions: ", Sv(r.extensions), "\r\n");
  if (!r.origin.empty()) absl::StrAppend(&out, "Origin: ", Sv(r.origin), "\r\n");
  if (!r.user_agent.empty()) absl::StrAppend(&out, "User-Agent: ", Sv(r.user_agent), "\r\n");
  out.append(r.extra_headers);
  absl::StrAppend(&out, "X-Forwarded-For: ", Sv(r.forwarded_for), r.forwarded_for.empty() ? "" : ", ", Sv(r.client_ip),
                  "\r\n\r\n");
  return out;
}

std::string SwitchingProtocols(std::string_view accept, std::string_view protocol, std::string_view extensions) {
  std::string out = absl::StrCat("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: ",
                                 Sv(accept), "\r\n");
  if (!protocol.empty()) absl::StrAppend(&out, "Sec-WebSocket-Protocol: ", Sv(protocol), "\r\n");
  if (!extensions.empty()) absl::StrAppend(&out, "Sec-WebSocket-Extensions: ", Sv(extensions), "\r\n");
  out.append("\r\n");
  return out;
}

}  // namespace wsgate::engine::http
