// File: engine/http/upgrade.cc
#include "engine/http/upgrade.h"

#include "engine/http/url.h"

namespace wsgate::engine::http {
namespace {

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// 16 bytes encode to 22 base64 characters plus "==". The last character before the padding
// carries only 2 significant bits, so it must be one of A, Q, g, w.
bool IsSixteenByteBase64(std::string_view key) {
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (size_t i = 0; i < 22; ++i)
    if (!IsBase64Char(key[i])) return false;
  char last = key[21];
  return last == 'A' || last == 'Q' || last == 'g' || last == 'w';
}

// The first header named `name`, or nullptr; *duplicate says whether it appears more than once.
const Header* FindSingle(const Request& request, std::string_view name, bool* duplicate) {
  *duplicate = false;
  const Header* found = nullptr;
  for (size_t i = 0; i < request.header_count; ++i) {
    if (!EqualsIgnoreCase(request.headers[i].name, name)) continue;
    if (found != nullptr) {
      *duplicate = true;
      return found;
    }
    found = &request.headers[i];
  }
  return found;
}

UpgradeError FromPathIssue(PathIssue issue) {
  switch (issue) {
    case PathIssue::kNone: return UpgradeError::kNone;
    case PathIssue::kDotSegment: return UpgradeError::kDotSegment;
    case PathIssue::kEncodedSeparator: return UpgradeError::kEncodedSeparator;
    case PathIssue::kEmptySegment: return UpgradeError::kEmptySegment;
    case PathIssue::kBadEscape: return UpgradeError::kBadEscape;
  }
  return UpgradeError::kBadEscape;
}

}  // namespace

UpgradeCheck CheckUpgrade(const Request& request, const UpgradeOptions& options) {
  UpgradeCheck out;
  auto fail = [&out](UpgradeError e) {
    out.error = e;
    return out;
  };
  if (request.method != "GET") return fail(UpgradeError::kNotGet);
  if (request.minor_version < 1) return fail(UpgradeError::kHttp10);

  if (options.check_path) {
    if (UpgradeError e = FromPathIssue(CheckPath(request.path)); e != UpgradeError::kNone) return fail(e);
  }

  bool duplicate = false;
  bool strict = options.reject_duplicates;
  const Header* host = FindSingle(request, "host", &duplicate);
  if (strict && duplicate) return fail(UpgradeError::kDuplicateHost);
  if (host != nullptr) out.host = host->value;
  if (options.require_host && (host == nullptr || host->value.empty()))
    return fail(UpgradeError::kNoHost);

  const Header* upgrade = request.Find("upgrade");
  if (upgrade == nullptr || !HasToken(upgrade->value, "websocket"))
    return fail(UpgradeError::kNoUpgradeHeader);
  const Header* connection = request.Find("connection");
  if (connection == nullptr || !HasToken(connection->value, "upgrade"))
    return fail(UpgradeError::kNoConnectionUpgrade);

  const Header* key = FindSingle(request, "sec-websocket-key", &duplicate);
  if (strict && duplicate) return fail(UpgradeError::kDuplicateKey);
  if (key == nullptr || key->value.empty()) return fail(UpgradeError::kBadKey);
  if (options.strict_key && !IsSixteenByteBase64(key->value)) return fail(UpgradeError::kBadKey);
  out.key = key->value;

  const Header* version = FindSingle(request, "sec-websocket-version", &duplicate);
  if (strict && duplicate) return fail(UpgradeError::kDuplicateVersion);
  if (version == nullptr) return fail(UpgradeError::kBadVersion);
  bool ok = version->value == "13" || (options.accept_version_8 && version->value == "8");
  if (!ok) return fail(UpgradeError::kBadVersion);

  FindSingle(request, "authorization", &duplicate);
  if (strict && duplicate) return fail(UpgradeError::kDuplicateAuthorization);

  if (const Header* protocols = request.Find("sec-websocket-protocol")) out.protocols = protocols->value;
  return out;
}

int DefaultStatus(UpgradeError error) {
  switch (error) {
    case UpgradeError::kNone: return 101;
    case UpgradeError::kNotGet: return 405;
    case UpgradeError::kBadVersion: return 426;
    default: return 400;
  }
}

std::string_view Describe(UpgradeError error) {
  switch (error) {
    case UpgradeError::kNone: return "ok";
    case UpgradeError::kNotGet: return "a WebSocket upgrade must use GET";
    case UpgradeError::kHttp10: return "a WebSocket upgrade needs HTTP/1.1";
    case UpgradeError::kNoUpgradeHeader: return "missing Upgrade: websocket header";
    case UpgradeError::kNoConnectionUpgrade: return "missing Connection: upgrade header";
    case UpgradeError::kBadKey: return "missing or malformed Sec-WebSocket-Key header";
    case UpgradeError::kBadVersion: return "unsupported Sec-WebSocket-Version (supported: 13)";
    case UpgradeError::kNoHost: return "missing Host header";
    case UpgradeError::kDuplicateHost: return "more than one Host header";
    case UpgradeError::kDuplicateKey: return "more than one Sec-WebSocket-Key header";
    case UpgradeError::kDuplicateVersion: return "more than one Sec-WebSocket-Version header";
    case UpgradeError::kDuplicateAuthorization: return "more than one Authorization header";
    case UpgradeError::kDotSegment: return "the path contains a '.' or '..' segment (also when percent-encoded)";
    case UpgradeError::kEncodedSeparator:
      return "the path contains an encoded '/' or '\\' (%2F, %5C) or a backslash";
    case UpgradeError::kEmptySegment: return "the path contains an empty segment ('//')";
    case UpgradeError::kBadEscape: return "the path contains a malformed percent-escape or an encoded NUL";
  }
  return "bad upgrade request";
}

std::string_view FirstProtocol(std::string_view protocols) {
  std::string_view first = protocols.substr(0, protocols.find(','));
  while (!first.empty() && (first.front() == ' ' || first.front() == '\t')) first.remove_prefix(1);
  while (!first.empty() && (first.back() == ' ' || first.back() == '\t')) first.remove_suffix(1);
  return first;
}

}  // namespace wsgate::engine::http
