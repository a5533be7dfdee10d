// File: engine/config/vhost.cc
#include "engine/config/vhost.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::config {
namespace {

using common::Sv;

bool IsLabelChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

absl::Status CheckDnsName(std::string_view name, std::string_view original) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("'", Sv(original), "' ", Sv(why)));
  };
  if (name.size() > 253) return bad("is longer than 253 characters");
  if (name.back() == '.') return bad("ends with a dot (write the name without it)");
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return bad("has an empty label");
    if (label.size() > 63) return bad("has a label longer than 63 characters");
    for (char c : label) {
      if (c == '*') return bad("may hold '*' only as its whole first label (\"*.example.com\")");
      if (c == ':' || c == '/') return bad("is not a host name: no scheme, port or path");
      if (!IsLabelChar(c)) return bad(absl::StrCat("holds '", std::string(1, c), "', which a host name cannot"));
    }
    if (label.front() == '-' || label.back() == '-') return bad("has a label that starts or ends with '-'");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeVhostName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("must not be empty");
  std::string lower = absl::AsciiStrToLower(Sv(name));
  // IPv6 literals: "[::1]", or bare "::1".
  if (lower.front() == '[' || lower.find(':') != std::string::npos) {
    bool bracketed = lower.front() == '[';
    if (bracketed && (lower.size() < 3 || lower.back() != ']'))
      return absl::InvalidArgumentError(absl::StrCat("'", Sv(name), "' is not an IPv6 literal in brackets"));
    std::string text = bracketed ? lower.substr(1, lower.size() - 2) : lower;
    in6_addr a;
    if (inet_pton(AF_INET6, text.c_str(), &a) != 1)
      return absl::InvalidArgumentError(absl::StrCat(
          "'", Sv(name), "' is not a host name or an IP address (no scheme, port or path: \"gw.example.com\", \"[::1]\")"));
    char canonical[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &a, canonical, sizeof(canonical));
    return absl::StrCat("[", canonical, "]");
  }
  if (lower == "*") return absl::InvalidArgumentError("'*' alone is not a vhost name; to serve every host, mark a vhost is_default");
  if (lower.size() > 2 && lower[0] == '*' && lower[1] == '.') {
    if (absl::Status s = CheckDnsName(std::string_view(lower).substr(2), name); !s.ok()) return s;
    return lower;
  }
  if (absl::Status s = CheckDnsName(lower, name); !s.ok()) return s;
  return lower;
}

std::string_view NormalizeHostHeader(std::string_view host, std::array<char, kMaxHostLength>& buf) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.size() > buf.size()) return {};
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
  }
  return std::string_view(buf.data(), host.size());
}

bool VhostIndex::Add(const std::string& normalized, uint32_t vhost) {
  if (IsWildcardName(normalized)) {
    std::string suffix = normalized.substr(1);  // ".example.com"
    for (const auto& w : wildcards_)
      if (w.first == suffix) return false;
    wildcards_.emplace_back(std::move(suffix), vhost);
    return true;
  }
  return exact_.emplace(normalized, vhost).second;
}

void VhostIndex::Finish() {
  std::stable_sort(wildcards_.begin(), wildcards_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

int32_t VhostIndex::Match(std::string_view host) const {
  if (auto it = exact_.find(Sv(host)); it != exact_.end()) return static_cast<int32_t>(it->second);
  for (const auto& [suffix, vhost] : wildcards_) {
    if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix)
      return static_cast<int32_t>(vhost);
  }
  return default_;
}

}  // namespace wsgate::engine::config
