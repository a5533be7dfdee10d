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

// The headers CheckUpgrade reads, found in one pass: the first of each, and whether one that
// must appear once appeared again.
struct UpgradeHeaders {
  const Header* host = nullptr;
  const Header* upgrade = nullptr;
  const Header* connection = nullptr;
  const Header* key = nullptr;
  const Header* version = nullptr;
  const Header* protocols = nullptr;
  UpgradeError duplicate = UpgradeError::kNone;  // the first repeated single-value header
};

UpgradeHeaders ScanHeaders(const Request& request) {
  UpgradeHeaders out;
  const Header* authorization = nullptr;
  auto take = [&out](const Header*& slot, const Header& h, UpgradeError if_repeated) {
    if (slot == nullptr) {
      slot = &h;
    } else if (out.duplicate == UpgradeError::kNone) {
      out.duplicate = if_repeated;
    }
  };
  for (size_t i = 0; i < request.header_count; ++i) {
    const Header& h = request.headers[i];
    switch (h.name.size()) {  // EqualsIgnoreCase only for the one name of that length
      case 4: if (EqualsIgnoreCase(h.name, "host")) take(out.host, h, UpgradeError::kDuplicateHost); break;
      case 7: if (EqualsIgnoreCase(h.name, "upgrade") && !out.upgrade) out.upgrade = &h; break;
      case 10: if (EqualsIgnoreCase(h.name, "connection") && !out.connection) out.connection = &h; break;
      case 13:
        if (EqualsIgnoreCase(h.name, "authorization")) take(authorization, h, UpgradeError::kDuplicateAuthorization);
        break;
      case 17: if (EqualsIgnoreCase(h.name, "sec-websocket-key")) take(out.key, h, UpgradeError::kDuplicateKey); break;
      case 21:
        if (EqualsIgnoreCase(h.name, "sec-websocket-version")) take(out.version, h, UpgradeError::kDuplicateVersion);
        break;
      case 22: if (EqualsIgnoreCase(h.name, "sec-websocket-protocol") && !out.protocols) out.protocols = &h; break;
      default: break;
    }
  }
  return out;
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

  UpgradeHeaders h = ScanHeaders(request);
  if (options.reject_duplicates && h.duplicate != UpgradeError::kNone) return fail(h.duplicate);

  if (h.host != nullptr) out.host = h.host->value;
  if (options.require_host && (h.host == nullptr || h.host->value.empty())) return fail(UpgradeError::kNoHost);
  if (h.upgrade == nullptr || !HasToken(h.upgrade->value, "websocket")) return fail(UpgradeError::kNoUpgradeHeader);
  if (h.connection == nullptr || !HasToken(h.connection->value, "upgrade"))
    return fail(UpgradeError::kNoConnectionUpgrade);

  if (h.key == nullptr || h.key->value.empty()) return fail(UpgradeError::kBadKey);
  if (options.strict_key && !IsSixteenByteBase64(h.key->value)) return fail(UpgradeError::kBadKey);
  out.key = h.key->value;

  if (h.version == nullptr) return fail(UpgradeError::kBadVersion);
  bool ok = h.version->value == "13" || (options.accept_version_8 && h.version->value == "8");
  if (!ok) return fail(UpgradeError::kBadVersion);

  if (h.protocols != nullptr) out.protocols = h.protocols->value;
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
