// File: engine/server/handshake.cc
//
// The handshake layer, as named phases: the client's request (kRequest) → route → authenticate
// → the upstream request → connect (kConnecting, next address on failure) → the backend's 101
// (kUpstreamHandshake) → our 101 to the client and the relay (kRelay). Every refusal is an HTTP
// answer with a text body (Respond), never a bare close.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/base64.h"
#include "engine/common/log.h"
#include "engine/config/router.h"
#include "engine/http/messages.h"
#include "engine/http/response.h"
#include "engine/http/upgrade.h"
#include "engine/http/url.h"
#include "engine/server/loop.h"
#include "engine/tls/crypto.h"
#include "engine/ws/handshake.h"

namespace wsgate::engine::server {
namespace {
using common::Sv;
constexpr size_t kMaxEarlyBytes = 1 << 20;  // client bytes buffered before the relay starts
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
  http::UpgradeCheck check = http::CheckUpgrade(req);
  if (check.error != http::UpgradeError::kNone) {
    int status = http::DefaultStatus(check.error);
    std::string body = absl::StrCat(Sv(http::StatusText(status)), ": ", Sv(http::Describe(check.error)));
    if (status == 426) return Respond(c, 426, body, "Sec-WebSocket-Version: 13\r\n");
    if (status == 405) return Respond(c, 405, body, "Allow: GET\r\n");
    return Respond(c, status, body);
  }
  c.snapshot = snapshot_;
  const config::Snapshot& snap = *c.snapshot;
  config::RouteResult route = config::Route(snap, check.host, req.path);
  if (route.status != config::RouteStatus::kOk) return Respond(c, route.http_status(), route.message());

  auth::Credentials creds;
  if (const http::Header* h = req.Find("authorization")) creds.authorization = h->value;
  http::QueryValue q = http::FindQueryParam(req.query, "access_token");
  creds.has_query_token = q.count > 0;
  creds.access_token = std::move(q.value);
  auth::AuthResult auth = authenticator_.Authenticate(snap, route, creds, now_s_);
  if (auth.status != 0) return Respond(c, auth.status, auth.message);
  if (!auth.endpoint->resolve_error.empty())
    return Respond(c, 502, absl::StrCat("Bad Gateway: ", auth.endpoint->resolve_error));

  c.endpoint = auth.endpoint;
  c.identity = std::move(auth.identity);
  c.api_id = route.api->id;
  auto& counters = stats_.apis[route.api->id];
  if (!counters) counters = std::make_unique<ApiCounters>(route.api->name, route.api->version);
  c.counters = counters.get();
  c.facts.api_name = route.api->name;
  c.facts.api_version = route.api->version;
  if (route.topic != nullptr) c.facts.topic = route.topic->name;
  c.facts.vhost = std::string(check.host);
  ResolveLimits(c, snap);
  c.client_protocols = std::string(check.protocols);
  c.client_accept = ws::AcceptKey(check.key);

  // The upstream request: fresh key, the client's subprotocols, X-Forwarded-For. The access
  // token never reaches the backend (neither the header nor the query parameter).
  uint8_t nonce[16];
  tls::RandomBytes(nonce, sizeof(nonce));
  std::string key = common::Base64Encode(nonce, sizeof(nonce));
  c.expected_accept = ws::AcceptKey(key);
  std::string target = config::UpstreamTarget(*c.endpoint, route, http::RemoveQueryParam(req.query, "access_token"));
  http::UpstreamRequest up;
  up.target = target;
  up.host = c.endpoint->host_header;
  up.key = key;
  up.protocols = check.protocols;
  if (const http::Header* origin = req.Find("origin")) up.origin = origin->value;
  if (const http::Header* ua = req.Find("user-agent")) up.user_agent = ua->value;
  if (const http::Header* xff = req.Find("x-forwarded-for")) up.forwarded_for = xff->value;
  up.client_ip = c.client_ip;
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
  if (c.address_index == 0) SetDeadline(c, now_ms_ + timeout);
  const sockaddr_storage& addr = c.endpoint->addresses[c.address_index];
  Side& backend = c.backend();
  if (backend.fd >= 0) ::close(backend.fd);
  backend.fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (backend.fd < 0) return Respond(c, 502, absl::StrCat("Bad Gateway: socket: ", strerror(errno)));
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
    return Respond(c, 502, absl::StrCat("Bad Gateway: cannot connect to the backend (", strerror(-res), ")"));
  }
  c.phase = Phase::kUpstreamHandshake;
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
  http::UpstreamAnswer a = http::ParseUpgradeResponse(c.upstream_bytes, c.expected_accept, c.client_protocols);
  if (a.kind == http::UpstreamAnswer::kNeedMore) return;
  if (a.kind == http::UpstreamAnswer::kRefused) {
    WSGATE_LOG(kInfo, "shard %d: upstream handshake refused: %s", options_.index, a.error);
    ++stats_.backend_handshake_failures;
    return Respond(c, 502, absl::StrCat("Bad Gateway: ", a.error));
  }
  StartRelay(c, a.consumed, a.protocol);
}

void Loop::StartRelay(Conn& c, size_t response_head_bytes, std::string_view protocol) {
  c.phase = Phase::kRelay;
  SetDeadline(c, 0);
  c.last_client_activity_ms = now_ms_;
  ws::ScannerLimits limits;
  limits.max_message_bytes = c.snapshot->settings.max_message_bytes;
  c.client().scanner.emplace(ws::Direction::kFromClient, limits);
  c.backend().scanner.emplace(ws::Direction::kFromBackend, limits);
  ++stats_.active_connections;
  ++stats_.total_connections;
  c.facts.opened_unix_s = now_s_;
  ++c.counters->active;
  ++c.counters->total;

  // Our 101 to the client, only now that the backend said 101.
  EnqueueOwned(c, SideId::kClient, http::SwitchingProtocols(c.client_accept, protocol));

  std::string backend_early = c.upstream_bytes.substr(response_head_bytes);
  std::string client_early = std::move(c.early_client);
  // What only the handshake needed goes now: an idle relay holds as little as possible.
  c.upstream_bytes = std::string();
  c.expected_accept = std::string();
  c.client_accept = std::string();
  c.client_protocols = std::string();
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
