// File: engine/server/handshake.cc
//
// The handshake layer, as named phases: the client's request (kRequest) → route → authenticate
// → the upstream request → connect (kConnecting, next address on failure) → the backend's 101
// (kUpstreamHandshake) → our 101 to the client and the relay (kRelay). Every refusal is an HTTP
// answer with a text body (Respond), never a bare close.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/auth/api_key.h"
#include "engine/common/absl_compat.h"
#include "engine/common/base64.h"
#include "engine/common/log.h"
#include "engine/config/access.h"
#include "engine/config/router.h"
#include "engine/http/extensions.h"
#include "engine/http/forward.h"
#include "engine/http/messages.h"
#include "engine/http/response.h"
#include "engine/http/upgrade.h"
#include "engine/http/url.h"
#include "engine/server/access_log.h"
#include "engine/server/loop.h"
#include "engine/tls/crypto.h"
#include "engine/ws/handshake.h"

namespace wsgate::engine::server {

namespace {

using common::Sv;
constexpr size_t kMaxEarlyBytes = 1 << 20;  // client bytes buffered before the relay starts

// The client address for IP rules and API key restrictions: the peer's unless the peer is a
// trusted proxy (X-Forwarded-For, every such header, in order).
policy::IpAddress ClientIp(const Conn& c, const http::Request& req, const config::Settings& env) {
  policy::IpAddress peer = policy::IpAddress::Parse(c.client_ip).value_or(policy::IpAddress::FromBytes({}));
  if (env.trusted_proxies.empty()) return peer;
  std::vector<std::string_view> forwarded;
  for (size_t i = 0; i < req.header_count; ++i)
    if (absl::EqualsIgnoreCase(Sv(req.headers[i].name), "x-forwarded-for")) forwarded.push_back(req.headers[i].value);
  return policy::ClientAddress(peer, forwarded, env.trusted_proxies);
}

// The Origin and client-address rules (config/access.h) for one request.
config::AccessDecision CheckAccess(const http::Request& req, const config::Settings& env, const config::Api& api,
                                   const policy::IpAddress& client) {
  std::optional<std::string_view> origin;
  if (const http::Header* h = req.Find("origin")) origin = h->value;
  return config::CheckAccess(env, api, origin, client);
}

// "example.com:9099" → "example.com"; "[::1]:9099" → "[::1]".
std::string_view HostWithoutPort(std::string_view host) {
  size_t colon = host.rfind(':');
  if (host.empty() || colon == std::string_view::npos || host.find(']', colon) != std::string_view::npos) return host;
  if (host.front() != '[' && host.find(':') != colon) return host;  // a bare IPv6 address
  return host.substr(0, colon);
}
}  // namespace

void Loop::OnClientBytes(Conn& c, const uint8_t* data, size_t n) {
  if (c.phase != Phase::kRequest) {
    if (c.phase == Phase::kConnecting || c.phase == Phase::kUpstreamHandshake) {
      // Frames sent before our 101: keep them (bounded) for the relay.
      if (c.early_client.size() + n > kMaxEarlyBytes)
        return Respond(c, 400, "Bad Request: too much data before the handshake completed");
      c.early_client.append(reinterpret_cast<const char*>(data), n);
    }
    return;  // kFinishing: discard
  }
  c.request.append(reinterpret_cast<const char*>(data), n);
  if (c.parser == nullptr) {
    http::Limits limits;
    limits.max_head_bytes = snapshot_->settings.max_header_bytes;
    c.parser = pool_.TakeParser(limits);
  }
  http::ParseResult r = c.parser->Feed(c.request);
  if (r.kind == http::ParseResult::kNeedMore) return;
  if (r.kind == http::ParseResult::kError)
    return Respond(c, r.status, absl::StrCat(Sv(http::StatusText(r.status)), ": ", Sv(r.reason)));
  HandleRequest(c, r.consumed);
}

void Loop::HandleRequest(Conn& c, size_t consumed) {
  const http::Request& req = c.parser->request();
  if (draining_) return Respond(c, 503, "Service Unavailable: the gateway is shutting down");
  if (RefuseIfOverloaded(c)) return;  // 503 with Retry-After (admission.cc)
  http::UpgradeCheck check = http::CheckUpgrade(req);
  if (check.error != http::UpgradeError::kNone) {
    int status = http::DefaultStatus(check.error);
    std::string body = absl::StrCat(Sv(http::StatusText(status)), ": ", Sv(http::Describe(check.error)));
    if (status == 426) return Respond(c, 426, body, "Sec-WebSocket-Version: 13\r\n");
    if (status == 405) return Respond(c, 405, body, "Allow: GET\r\n");
    return Respond(c, status, body);
  }
  if (!AdmitHandshakeRate(c, nullptr)) return;  // per client address, before any routing or crypto
  c.snapshot = snapshot_;
  const config::Snapshot& snap = *c.snapshot;
  c.info.vhost = std::string(HostWithoutPort(check.host));
  config::RouteResult route = config::Route(snap, check.host, req.path);
  if (route.status != config::RouteStatus::kOk) return Respond(c, route.http_status(), route.message());
  // From here a refusal counts against the API (ApiCounters::refused_upgrades, Loop::Respond).
  auto& counters = stats_.apis[route.api->id];
  if (!counters) counters = std::make_unique<ApiCounters>(route.api->name, route.api->version);
  c.counters = counters.get();
  counters->environment = route.api->environment;
  if (!AdmitHandshakeRate(c, route.api)) return;
  policy::IpAddress client = ClientIp(c, req, snap.settings);
  if (config::AccessDecision access = CheckAccess(req, snap.settings, *route.api, client); access.status != 0) {
    ++stats_.access_refusals;
    return Respond(c, access.status, access.message);
  }
  c.info.api_name = route.api->name;
  c.info.api_version = route.api->version;
  c.info.topic = route.topic->name;

  auth::Credentials creds;
  if (const http::Header* h = req.Find("authorization")) creds.authorization = h->value;
  http::QueryValue q = http::FindQueryParam(req.query, "access_token");
  creds.has_query_token = q.count > 0;
  creds.access_token = std::move(q.value);
  if (route.api->api_key) {  // issue 14 item 4: the header wins over ?apikey=
    if (const http::Header* h = req.Find("apikey")) {
      creds.api_key = std::string(h->value);
      creds.has_api_key = true;
    } else if (http::QueryValue k = http::FindQueryParam(req.query, "apikey"); k.count > 0) {
      creds.api_key = std::move(k.value);
      creds.has_api_key = true;
    }
    if (const http::Header* h = req.Find("origin")) creds.origin = std::string(h->value);
    else if (const http::Header* r = req.Find("referer")) creds.origin = auth::RefererOrigin(r->value);
    creds.client = client;
  }
  auth::AuthResult auth = authenticator_.Authenticate(snap, route, creds, now_s_);
  if (auth.status != 0) return Respond(c, auth.status, auth.message);
  if (!auth.endpoint->resolve_error.empty()) {
    ++stats_.backend_failures["resolve"];
    return Respond(c, 502, absl::StrCat("Bad Gateway: ", auth.endpoint->resolve_error));
  }

  c.endpoint = auth.endpoint;
  c.identity = std::move(auth.identity);
  c.api_id = route.api->id;
  c.may_publish = route.topic->publish;
  c.may_subscribe = route.topic->subscribe;
  c.info.app_throttled = &counters->throttled_by_app[c.identity.application_id];
  ResolveLimits(c, snap);
  if (!AdmitConnection(c, snap)) return;  // 429, before the backend is contacted
  c.client_protocols = std::string(check.protocols);
  c.client_extensions = http::DeflateOffers(req);  // others are not forwarded
  // Throttling may drop messages: then no context takeover either way (http/extensions.h).
  if (!c.client_extensions.empty() && !c.limits.empty())
    c.client_extensions = http::WithServerNoContextTakeover(c.client_extensions);
  c.client_accept = ws::AcceptKey(check.key);

  // The upstream request: fresh key, the client's subprotocols, X-Forwarded-For. The access
  // token and the API key never reach the backend (neither the headers nor the query parameters).
  uint8_t nonce[16];
  tls::RandomBytes(nonce, sizeof(nonce));
  std::string key = common::Base64Encode(nonce, sizeof(nonce));
  c.expected_accept = ws::AcceptKey(key);
  std::string target = config::UpstreamTarget(*c.endpoint, route, http::RemoveQueryParams(req.query, {"access_token", "apikey"}));
  http::UpstreamRequest up;
  up.target = target;
  up.host = c.endpoint->host_header;
  up.key = key;
  up.protocols = check.protocols;
  up.extensions = c.client_extensions;
  const config::BackendIdentity& backend = route.api->backend;
  if (backend.pass_headers.empty()) {  // no allow-list: Origin and User-Agent, nothing else
    if (const http::Header* origin = req.Find("origin")) up.origin = origin->value;
    if (const http::Header* ua = req.Find("user-agent")) up.user_agent = ua->value;
  }
  if (const http::Header* xff = req.Find("x-forwarded-for")) up.forwarded_for = xff->value;
  up.client_ip = c.client_ip;
  // Issue 14 item 7: the listed client headers, then the backend JWT (a client's own copy of
  // its header is never passed).
  std::string extra = http::PassHeaders(req, backend.pass_headers, backend.jwt ? backend.jwt_header_lower : "");
  if (backend.jwt && snap.backend_key != nullptr && !c.identity.anonymous) {
    auth::BackendClaims claims = auth::ClaimsFor(snap, *route.api, c.identity, auth.scopes);
    absl::StrAppend(&extra, backend.jwt_header, ": ",
                    backend_jwts_.Get(*snap.backend_key, claims, backend.jwt_validity_s, now_s_), "\r\n");
  }
  up.extra_headers = extra;
  std::string out = http::FormatUpstreamRequest(up);
  c.early_client = c.request.substr(consumed);
  c.request = std::string();
  pool_.GiveBack(std::move(c.parser));
  EnqueueOwned(c, SideId::kBackend, std::move(out));  // sent once the connect completes
  StartConnect(c);
}

void Loop::StartConnect(Conn& c) {
  c.phase = Phase::kConnecting;
  uint32_t timeout = c.endpoint->connect_timeout_ms ? c.endpoint->connect_timeout_ms
                                                    : c.snapshot->settings.upstream_connect_timeout_ms;
  if (c.address_index == 0) {
    c.connect_deadline_ms = now_ms_ + timeout;
    c.info.connect_started_ms = now_ms_;
  }
  // Each address gets an equal share of the time left (the last one all of it), so an address
  // that never answers (a dropped SYN) leaves time for the next: OnTimer cancels the attempt.
  int64_t left = std::max<int64_t>(c.connect_deadline_ms - now_ms_, 1);
  SetDeadline(c, now_ms_ + left / static_cast<int64_t>(c.endpoint->addresses.size() - c.address_index));
  const sockaddr_storage& addr = c.endpoint->addresses[c.address_index];
  Side& backend = c.backend();
  if (backend.fd >= 0) ::close(backend.fd);
  backend.fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (backend.fd < 0) {
    ++stats_.backend_failures["socket"];
    return Respond(c, 502, absl::StrCat("Bad Gateway: socket: ", strerror(errno)));
  }
  int one = 1;
  setsockopt(backend.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c.connect_addr = addr;
  if (!Arm(c, kOpConnect)) return Respond(c, 503, "Service Unavailable: the gateway is overloaded; retry later");
}

void Loop::OnConnect(Conn& c, int res) {
  --c.inflight;
  if (c.phase != Phase::kConnecting) return;
  if (res < 0) {
    if (c.address_index + 1 < c.endpoint->addresses.size()) {
      ++c.address_index;  // e.g. localhost: ::1 refused, try 127.0.0.1
      return StartConnect(c);
    }
    ++stats_.backend_connect_failures;
    ++stats_.backend_failures["connect_error"];
    return Respond(c, 502, absl::StrCat("Bad Gateway: cannot connect to the backend (", strerror(-res), ")"));
  }
  c.phase = Phase::kUpstreamHandshake;
  stats_.connect_latency.ObserveMs(now_ms_ - c.info.connect_started_ms);
  SetDeadline(c, c.connect_deadline_ms);  // the handshake may use what the connect left
  if (c.endpoint->tls) {
    // wss:// backend: the TLS handshake runs first; the queued upgrade request is encrypted
    // and sent once it completes (Encrypt() retries it on every StartSend).
    c.backend().tls = std::make_unique<tls::TlsSession>(c.endpoint->tls_context->NewSsl(c.endpoint->host), false);
    c.backend().tls->Connect();
  }
  ArmRecv(c, SideId::kBackend);
  StartSend(c, SideId::kBackend);
}

void Loop::OnBackendBytes(Conn& c, const uint8_t* data, size_t n) {
  if (c.phase != Phase::kUpstreamHandshake) return;
  c.upstream_bytes.append(reinterpret_cast<const char*>(data), n);
  http::UpstreamAnswer a =
      http::ParseUpgradeResponse(c.upstream_bytes, c.expected_accept, c.client_protocols, c.client_extensions);
  if (a.kind == http::UpstreamAnswer::kNeedMore) return;
  if (a.kind == http::UpstreamAnswer::kRefused) {
    WSGATE_LOG(kInfo, "shard %d: upstream handshake refused: %s", options_.index, a.error);
    ++stats_.backend_handshake_failures;
    ++stats_.backend_failures["handshake_refused"];
    return Respond(c, 502, absl::StrCat("Bad Gateway: ", a.error));
  }
  StartRelay(c, a.consumed, a.protocol, a.extensions);
}

void Loop::StartRelay(Conn& c, size_t response_head_bytes, std::string_view protocol, std::string_view extensions) {
  c.phase = Phase::kRelay;
  SetDeadline(c, 0);
  c.last_client_activity_ms = now_ms_;
  c.relay_started_ms = c.last_data_ms = now_ms_;
  ResolveLifetime(c, *c.snapshot);
  ws::ScannerLimits limits;
  limits.max_message_bytes = c.snapshot->MaxMessageBytes(c.api_id);
  limits.allow_rsv1 = !extensions.empty();  // permessage-deflate, checked against the offer
  c.deflate = !extensions.empty();
  c.deflate_drops_ok = c.deflate && !c.limits.empty();
  std::string answer = c.deflate_drops_ok ? http::WithClientNoContextTakeover(extensions) : std::string(extensions);
  c.client().scanner.emplace(ws::Direction::kFromClient, limits);
  c.backend().scanner.emplace(ws::Direction::kFromBackend, limits);
  ++stats_.active_connections;
  ++stats_.total_connections;
  c.info.opened_unix_s = now_s_;
  ++c.counters->active;
  ++c.counters->total;
  c.info.http_status = 101;
  c.info.subprotocol = std::string(protocol);
  c.info.topic_active = &c.counters->active_by_topic[c.info.topic];
  ++*c.info.topic_active;
  stats_.handshake_latency.ObserveMs(now_ms_ - c.info.accepted_ms);
  if (access_log_ != nullptr && access_log_->log_open()) LogAccess(c, /*open=*/true);

  // Our 101 to the client, only now that the backend said 101.
  EnqueueOwned(c, SideId::kClient, http::SwitchingProtocols(c.client_accept, protocol, answer));

  std::string backend_early = c.upstream_bytes.substr(response_head_bytes);
  std::string client_early = std::move(c.early_client);
  // What only the handshake needed goes now: an idle relay holds as little as possible.
  c.upstream_bytes = std::string();
  c.expected_accept = std::string();
  c.client_accept = std::string();
  c.client_protocols = std::string();
  c.client_extensions = std::string();
  c.snapshot.reset();  // the relay keeps ids, not pointers into a snapshot
  c.endpoint = nullptr;
  if (!backend_early.empty())
    ScanInto(c, SideId::kBackend, -1, reinterpret_cast<const uint8_t*>(backend_early.data()), backend_early.size());
  if (!client_early.empty() && c.phase == Phase::kRelay)
    ScanInto(c, SideId::kClient, -1, reinterpret_cast<const uint8_t*>(client_early.data()), client_early.size());
  if (c.phase == Phase::kRelay) {
    StartSend(c, SideId::kClient);
    StartSend(c, SideId::kBackend);
  }
}

}  // namespace wsgate::engine::server
