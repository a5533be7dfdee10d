// File: engine/config/syntax.cc
#include "engine/config/syntax.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::config {

using common::Sv;

absl::Status ParseEndpointUrl(std::string_view url, Endpoint* out) {
  std::string_view rest;
  if (url.substr(0, 5) == "ws://") {
    out->tls = false;
    rest = url.substr(5);
  } else if (url.substr(0, 6) == "wss://") {
    out->tls = true;
    rest = url.substr(6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("'", Sv(url), "' must start with ws:// or wss://"));
  }
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (!path.empty() && path[0] != '/') return absl::InvalidArgumentError("endpoint URLs take no query or fragment");
  if (authority.empty()) return absl::InvalidArgumentError(absl::StrCat("'", Sv(url), "' has no host"));
  if (authority.find('@') != std::string_view::npos)
    return absl::InvalidArgumentError("endpoint URLs take no user information");
  std::string_view host = authority;
  std::string_view port_text;
  if (authority[0] == '[') {  // [v6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("unclosed '[' in endpoint host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return absl::InvalidArgumentError("bad endpoint authority");
      port_text = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  uint16_t default_port = out->tls ? 443 : 80;
  uint32_t port = default_port;
  if (!port_text.empty() && (!absl::SimpleAtoi(Sv(port_text), &port) || port == 0 || port > 65535))
    return absl::InvalidArgumentError(absl::StrCat("bad port '", Sv(port_text), "'"));
  if (host.empty()) return absl::InvalidArgumentError(absl::StrCat("'", Sv(url), "' has no host"));
  out->host = std::string(host);
  out->port = static_cast<uint16_t>(port);
  bool v6 = out->host.find(':') != std::string::npos;
  std::string host_part = v6 ? absl::StrCat("[", out->host, "]") : out->host;
  out->host_header = port == default_port ? host_part : absl::StrCat(host_part, ":", port);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out->base_path = std::string(path);
  return absl::OkStatus();
}

absl::Status ParseTopicTemplate(std::string_view name, Topic* out) {
  if (name.empty() || name[0] != '/') return absl::InvalidArgumentError("a topic must start with '/'");
  out->name = std::string(name);
  out->segments.clear();
  out->wildcard = false;
  std::string_view rest = name.substr(1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (seg == "*") {
      if (!rest.empty()) return absl::InvalidArgumentError("'*' may only be the last segment");
      out->wildcard = true;
      break;
    }
    if (seg.empty()) return absl::InvalidArgumentError("empty path segment ('//')");
    TopicSegment ts;
    if (seg.front() == '{') {
      if (seg.back() != '}' || seg.size() < 3) return absl::InvalidArgumentError(absl::StrCat("bad parameter '", Sv(seg), "'"));
      ts.is_param = true;
      ts.param = std::string(seg.substr(1, seg.size() - 2));
      for (const auto& other : out->segments)
        if (other.is_param && other.param == ts.param)
          return absl::InvalidArgumentError(absl::StrCat("parameter {", ts.param, "} appears twice"));
    } else {
      if (seg.find_first_of("{}?#* ") != std::string_view::npos)
        return absl::InvalidArgumentError(absl::StrCat("bad segment '", Sv(seg), "'"));
      ts.literal = std::string(seg);
    }
    out->segments.push_back(std::move(ts));
  }
  return absl::OkStatus();
}

absl::Status CheckUrlMapping(const Topic& topic) {
  std::string_view m = topic.url_mapping;
  if (!m.empty() && m[0] != '/' && m[0] != '?')
    return absl::InvalidArgumentError("a URL mapping must start with '/' or '?'");
  for (size_t at = m.find('{'); at != std::string_view::npos; at = m.find('{', at + 1)) {
    size_t end = m.find('}', at);
    if (end == std::string_view::npos) return absl::InvalidArgumentError("unclosed '{' in URL mapping");
    std::string_view var = m.substr(at + 1, end - at - 1);
    if (var.substr(0, 8) != "uri.var.")
      return absl::InvalidArgumentError(absl::StrCat("{", Sv(var), "} is not a {uri.var.NAME} variable"));
    std::string_view name = var.substr(8);
    bool known = std::any_of(topic.segments.begin(), topic.segments.end(),
                             [&](const TopicSegment& s) { return s.is_param && s.param == name; });
    if (!known) return absl::InvalidArgumentError(absl::StrCat("{", Sv(var), "} is not a parameter of ", topic.name));
  }
  for (char c : m)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return absl::InvalidArgumentError("URL mapping contains a space or control character");
  return absl::OkStatus();
}

bool SameTemplate(const Topic& a, const Topic& b) {
  return a.wildcard == b.wildcard && a.segments.size() == b.segments.size() &&
         std::equal(a.segments.begin(), a.segments.end(), b.segments.begin(),
                    [](const TopicSegment& x, const TopicSegment& y) {
                      return x.is_param == y.is_param && (x.is_param || x.literal == y.literal);
                    });
}

}  // namespace wsgate::engine::config
