// File: engine/config/router.cc
#include "engine/config/router.h"

#include <algorithm>
#include <array>

#include "engine/common/absl_compat.h"
#include "engine/http/url.h"

namespace wsgate::engine::config {
namespace {

using common::Sv;

constexpr int kMaxPrefixSegments = 16;

bool MatchTopic(const Topic& topic, std::string_view sub_path, RouteResult* out) {
  out->params.clear();
  std::string_view rest = sub_path;  // "" or "/a/b"
  for (const TopicSegment& seg : topic.segments) {
    if (rest.empty()) return false;
    rest.remove_prefix(1);  // the '/'
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (part.empty()) return false;
    if (seg.is_param) {
      out->params.push_back(PathParam{seg.param, part});
    } else if (part != seg.literal) {
      return false;
    }
  }
  return rest.empty() || topic.wildcard;
}

// Only RFC 3986 unreserved characters: the same bytes in any part of a URL, decoded or not.
bool IsUnreserved(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
  });
}

}  // namespace

const absl::flat_hash_map<std::string, const Api*>* Snapshot::RoutesForHost(std::string_view host) const {
  std::array<char, kMaxHostLength> buf;
  int32_t vhost = vhost_index.Match(NormalizeHostHeader(host, buf));
  return vhost < 0 ? nullptr : &routes[static_cast<size_t>(vhost)];
}

RouteResult Route(const Snapshot& snapshot, std::string_view host, std::string_view path) {
  RouteResult result;
  if (!snapshot.configured) {
    result.status = RouteStatus::kNotConfigured;
    return result;
  }
  const auto* routes = snapshot.RoutesForHost(host);
  if (routes == nullptr) return result;
  const auto& table = *routes;

  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  // Segment ends of the path, to try the longest prefix first.
  size_t ends[kMaxPrefixSegments];
  int count = 0;
  for (size_t i = 1; i <= path.size() && count < kMaxPrefixSegments; ++i)
    if (i == path.size() || path[i] == '/') ends[count++] = i;
  for (int k = count - 1; k >= 0; --k) {
    auto it = table.find(Sv(path.substr(0, ends[k])));
    if (it == table.end()) continue;
    result.api = it->second;
    result.sub_path = path.substr(ends[k]);
    break;
  }
  if (result.api == nullptr) return result;
  result.status = RouteStatus::kNoTopic;
  for (const Topic& topic : result.api->topics) {
    if (MatchTopic(topic, result.sub_path, &result)) {
      result.topic = &topic;
      result.status = RouteStatus::kOk;
      return result;
    }
  }
  result.params.clear();
  return result;
}

std::string UpstreamTarget(const Endpoint& endpoint, const RouteResult& route, std::string_view client_query) {
  std::string target = endpoint.base_path;
  const std::string& mapping = route.topic->url_mapping;
  if (mapping.empty()) {
    target.append(route.sub_path);
  } else {
    std::string_view m = mapping;
    while (!m.empty()) {
      size_t brace = m.find("{uri.var.");
      target.append(m.substr(0, brace));
      if (brace == std::string_view::npos) break;
      size_t close = m.find('}', brace);
      std::string_view name = m.substr(brace + 9, close - brace - 9);
      // The client's value, decoded, then encoded for where it lands: in the query it cannot add
      // a parameter ('&', '='), in the path it cannot add a segment ('/') or start the query.
      bool in_query = target.find('?') != std::string::npos;
      for (const PathParam& p : route.params) {
        if (p.name != name) continue;
        if (IsUnreserved(p.value)) {  // the common case ("room1"): nothing to decode or encode
          target.append(p.value);
          continue;
        }
        std::string decoded = http::PercentDecode(p.value, /*plus_is_space=*/false);
        target.append(in_query ? http::EncodeQueryComponent(decoded) : http::EncodePathSegment(decoded));
      }
      m.remove_prefix(close + 1);
    }
  }
  if (target.empty() || target[0] == '?') target = std::string("/").append(target);
  if (!client_query.empty()) {
    target.push_back(target.find('?') == std::string::npos ? '?' : '&');
    target.append(client_query);
  }
  return target;
}

}  // namespace wsgate::engine::config
