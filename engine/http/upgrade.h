// File: engine/http/upgrade.h
//
// Checks that a parsed request is a WebSocket opening handshake (RFC 6455 §4.2.1) and pulls out
// the fields a server needs. Pure logic. The caller maps a failure to its answer; DefaultStatus()
// gives the engine's mapping (426 with "Sec-WebSocket-Version: 13" for a wrong version, else 400/405).
//
// The request path is checked too (dot segments, encoded separators, "//", broken escapes: 400).
//
//   UpgradeCheck check = CheckUpgrade(parser.request(), {.accept_version_8 = false});
//   if (check.error != UpgradeError::kNone) Reply(DefaultStatus(check.error), Describe(check.error));
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/http/request_parser.h"

namespace wsgate::engine::http {

enum class UpgradeError : uint8_t {
  kNone,
  kNotGet,               // method other than GET
  kHttp10,               // HTTP/1.0 cannot upgrade
  kNoUpgradeHeader,      // no "Upgrade: websocket"
  kNoConnectionUpgrade,  // "Connection" lacks the "upgrade" token
  kBadKey,               // Sec-WebSocket-Key missing or not base64 of 16 bytes
  kBadVersion,           // Sec-WebSocket-Version missing or unsupported
  kNoHost,               // HTTP/1.1 requires Host
  // A header that must appear once appeared more than once (RFC 9112 §3.2, RFC 6455 §11.3): which
  // copy a component reads would differ between the gateway and whatever sits behind it.
  kDuplicateHost,
  kDuplicateKey,
  kDuplicateVersion,
  kDuplicateAuthorization,
  // The path is unsafe to route and forward (http::CheckPath in url.h).
  kDotSegment,
  kEncodedSeparator,
  kEmptySegment,
  kBadEscape,
};

struct UpgradeOptions {
  // The Node.js "ws" library (the sample backend) also accepts version 8 (hybi-08).
  bool accept_version_8 = false;
  // Require a 24-character base64 key that decodes to 16 bytes. "ws" only checks presence.
  bool strict_key = true;
  bool require_host = true;
  // Reject a second Host, Sec-WebSocket-Key, Sec-WebSocket-Version or Authorization header.
  // "ws" reads the first.
  bool reject_duplicates = true;
  // Reject unsafe paths (http::CheckPath: dot segments, encoded separators, "//", bad escapes).
  // "ws" leaves the path to the application.
  bool check_path = true;
};

struct UpgradeCheck {
  UpgradeError error = UpgradeError::kNone;
  std::string_view key;          // Sec-WebSocket-Key
  std::string_view host;         // Host (may be empty when !require_host)
  std::string_view protocols;    // first Sec-WebSocket-Protocol header, raw; empty if none
};

UpgradeCheck CheckUpgrade(const Request& request, const UpgradeOptions& options = {});

// 405 for kNotGet, 426 for kBadVersion (send "Sec-WebSocket-Version: 13"), else 400.
int DefaultStatus(UpgradeError error);
// A one-line description for the response body and logs, e.g. "missing Upgrade: websocket header".
std::string_view Describe(UpgradeError error);

// The first entry of a comma-separated Sec-WebSocket-Protocol value ("a, b" -> "a"), trimmed.
std::string_view FirstProtocol(std::string_view protocols);

}  // namespace wsgate::engine::http
