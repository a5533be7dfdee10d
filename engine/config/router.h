// File: engine/config/router.h
//
// Handshake routing: Host → vhost, path → API (versioned or default-version context) → topic.
// Pure; runs on shards against the current Snapshot. The messages are WSO2's, so clients that
// parse them keep working.
//
//   RouteResult r = Route(snapshot, host_header, request_path);
//   if (r.status != RouteStatus::kOk) Reply(r.http_status(), r.message());   // 404, or 503 before any config
#pragma once

#include <string_view>

#include "absl/container/inlined_vector.h"
#include "engine/config/snapshot.h"

namespace wsgate::engine::config {

enum class RouteStatus : uint8_t { kOk, kNoApi, kNoTopic, kNotConfigured };

inline constexpr std::string_view kNoApiMessage = "No matching API found to dispatch the request";
inline constexpr std::string_view kNoTopicMessage = "No matching resource found to dispatch the request";
inline constexpr std::string_view kNotConfiguredMessage = "Service Unavailable: the gateway has no configuration yet";

struct PathParam {
  std::string_view name;   // views into the Snapshot
  std::string_view value;  // views into the request path (still percent-encoded)
};

struct RouteResult {
  RouteStatus status = RouteStatus::kNoApi;
  const Api* api = nullptr;
  const Topic* topic = nullptr;
  std::string_view sub_path;  // the path below the context/version, "" or "/..."
  absl::InlinedVector<PathParam, 4> params;
  // The answer when status != kOk: 503 before the first config (snapshot.configured false), else 404.
  int http_status() const { return status == RouteStatus::kNotConfigured ? 503 : 404; }
  std::string_view message() const {
    switch (status) {
      case RouteStatus::kNoTopic: return kNoTopicMessage;
      case RouteStatus::kNotConfigured: return kNotConfiguredMessage;
      default: return kNoApiMessage;
    }
  }
};

// `host` is the Host header (a port is ignored, case-insensitive); `path` has no query. A
// trailing '/' is ignored (WSO2 strips it before matching).
RouteResult Route(const Snapshot& snapshot, std::string_view host, std::string_view path);

// The upstream request-target: endpoint base path + the topic's URL mapping with {uri.var.X}
// replaced (or the request's sub-path when the topic has no mapping), then the client's query
// (already stripped of access_token) appended with '&' or '?'. A {uri.var.X} value is decoded
// and re-encoded for the part it lands in: a path segment (http::EncodePathSegment) before the
// mapping's '?', a query component (http::EncodeQueryComponent) after it. The request path must
// have passed http::CheckPath (CheckUpgrade does that), so the sub-path holds no dot segments.
std::string UpstreamTarget(const Endpoint& endpoint, const RouteResult& route, std::string_view client_query);

}  // namespace wsgate::engine::config
