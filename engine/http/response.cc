// File: engine/http/response.cc
#include "engine/http/response.h"

#include "engine/http/extensions.h"
#include "engine/http/request_parser.h"

namespace wsgate::engine::http {
namespace {

bool Offered(std::string_view offered, std::string_view protocol) {
  while (!offered.empty()) {
    size_t comma = offered.find(',');
    if (TrimOws(offered.substr(0, comma)) == protocol) return true;
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

UpstreamAnswer ParseUpgradeResponse(std::string_view buffered, std::string_view expected_accept,
                                    std::string_view offered_protocols, std::string_view offered_extensions,
                                    size_t max_bytes) {
  UpstreamAnswer a;
  size_t end = buffered.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buffered.size() > max_bytes) {
      a.kind = UpstreamAnswer::kRefused;
      a.error = "backend response head too large";
    }
    return a;
  }
  a.consumed = end + 4;
  a.kind = UpstreamAnswer::kRefused;
  std::string_view head = buffered.substr(0, end + 2);
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    a.error = "backend sent a malformed HTTP status line";
    return a;
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    char c = status_line[i];
    if (c < '0' || c > '9') {
      a.error = "backend sent a malformed HTTP status line";
      return a;
    }
    status = status * 10 + (c - '0');
  }
  a.status = status;
  if (status != 101) {
    a.error = "backend answered HTTP " + std::to_string(status) + " instead of 101";
    return a;
  }
  bool upgrade = false, connection = false, accept_ok = false;
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t line_end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, line_end - pos);
    pos = line_end + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      a.error = "backend sent a malformed header";
      return a;
    }
    std::string_view name = line.substr(0, colon), value = TrimOws(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "upgrade")) upgrade = HasToken(value, "websocket");
    else if (EqualsIgnoreCase(name, "connection")) connection = HasToken(value, "upgrade");
    else if (EqualsIgnoreCase(name, "sec-websocket-accept")) accept_ok = value == expected_accept;
    else if (EqualsIgnoreCase(name, "sec-websocket-protocol")) a.protocol = std::string(value);
    else if (EqualsIgnoreCase(name, "sec-websocket-extensions") && !value.empty()) {
      if (!a.extensions.empty()) a.extensions += ", ";  // several headers are one list
      a.extensions.append(value.data(), value.size());
    }
  }
  if (!upgrade || !connection) a.error = "backend's 101 lacks Upgrade: websocket / Connection: upgrade";
  else if (!accept_ok) a.error = "backend's Sec-WebSocket-Accept does not match the key";
  else if (std::string e = a.extensions.empty() ? "" : CheckDeflateAnswer(a.extensions, offered_extensions); !e.empty())
    a.error = std::move(e);
  else if (!a.protocol.empty() && !Offered(offered_protocols, a.protocol))
    a.error = "backend chose a subprotocol the client did not offer";
  else a.kind = UpstreamAnswer::kAccepted;
  return a;
}

}  // namespace wsgate::engine::http
