// File: engine/config/syntax.h
//
// The syntax of what publishers write, checked the same way by the agent (when an API is edited)
// and the engine (when a snapshot is compiled): endpoint URLs, topic templates, URL mappings.
// Pure; no crypto, no sockets beyond the sockaddr type, so the agent can link it without
// BoringSSL.
//
//   Endpoint e;  absl::Status s = ParseEndpointUrl("ws://localhost:8080", &e);
//   Topic t;     s = ParseTopicTemplate("/rooms/{roomID}", &t);
//   t.url_mapping = "/rooms?room={uri.var.roomID}";  s = CheckUrlMapping(t);
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace wsgate::engine::tls {
class ClientTlsContext;  // engine/tls/tls.h; only the engine's compile fills it in
}

namespace wsgate::engine::config {

// A backend endpoint URL, split and resolved. Names are resolved by the control thread when the
// snapshot is compiled, never on a shard.
struct Endpoint {
  bool tls = false;             // wss://
  std::string host;             // for the Host header and SNI
  uint16_t port = 0;
  std::string host_header;      // "host" or "host:port" when the port is not the scheme default
  std::string base_path;        // the URL's path without a trailing '/' ("" for none)
  std::vector<sockaddr_storage> addresses;  // resolved; tried in order
  std::string resolve_error;    // non-empty when resolution failed (handshakes answer 502)
  bool insecure_skip_verify = false;
  std::string ca_file;
  uint32_t connect_timeout_ms = 0;  // 0: settings default
  // wss:// endpoints: verification settings compiled into a context (engine only).
  std::shared_ptr<const tls::ClientTlsContext> tls_context;
};

struct TopicSegment {
  std::string literal;  // when !is_param
  std::string param;    // the {name} when is_param
  bool is_param = false;
};

struct Topic {
  std::string name;                      // "/rooms/{roomID}"
  std::vector<TopicSegment> segments;    // before a trailing "/*"
  bool wildcard = false;                 // ends in "/*" (or is "/*"): matches any remainder
  bool publish = true;
  bool subscribe = true;
  std::string url_mapping;
  std::vector<std::string> scopes;
  bool unsecured = false;
};

// Parses "ws://host[:port][/path]" or "wss://..." into `out` (no resolution).
absl::Status ParseEndpointUrl(std::string_view url, Endpoint* out);

// Parses a topic template: "/notifications", "/rooms/{roomID}", "/*", "/a/{b}/*".
absl::Status ParseTopicTemplate(std::string_view name, Topic* out);

// Checks `topic.url_mapping` against the parsed template: it starts with '/' or '?', every
// {uri.var.NAME} names a parameter of the template, no spaces or control characters.
absl::Status CheckUrlMapping(const Topic& topic);

// True if two parsed templates match exactly the same paths ("/t" and "/t/").
bool SameTemplate(const Topic& a, const Topic& b);

}  // namespace wsgate::engine::config
