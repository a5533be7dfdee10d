// File: bench/backend_jwt_bench.cc — cost of the backend JWT (issue 14 item 7) on the handshake:
// claims JSON, a signature per algorithm (what a cache miss pays), a cache hit (what a
// reconnecting client pays), and the pass-through header filter.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/auth/backend_jwt.h"
#include "engine/http/forward.h"

namespace {

using wsgate::engine::auth::BackendClaims;
using wsgate::engine::auth::BackendJwtCache;
using wsgate::engine::config::BackendKey;
using wsgate::engine::tls::PrivateKey;
using wsgate::engine::tls::SignatureAlgorithm;

const std::vector<std::string> kScopes = {"chat:read", "chat:write"};

BackendClaims Claims() {
  BackendClaims c;
  c.issuer = "wsgate";
  c.subscriber = "alice";
  c.application_id = "3f1c9a52-7a8b-4c1d-9e2f-0a1b2c3d4e5f";
  c.application_name = "ChatApp";
  c.application_tier = "Unlimited";
  c.api_name = "Chats";
  c.api_context = "/chats/1.0.0";
  c.api_version = "1.0.0";
  c.tier = "AsyncGold";
  c.key_type = "PRODUCTION";
  c.scopes = &kScopes;
  return c;
}

BackendKey Key(SignatureAlgorithm alg) { return BackendKey{"backend-1", *PrivateKey::Generate(alg)}; }

void BM_BackendClaimsJson(benchmark::State& state) {
  BackendClaims c = Claims();
  for (auto _ : state) benchmark::DoNotOptimize(wsgate::engine::auth::BackendClaimsJson(c, 1900000000, 1900000900, "0123456789abcdef0123456789abcdef"));
}
BENCHMARK(BM_BackendClaimsJson);

// A cache miss: claims, signature, base64url (args: 0 ES256, 1 RS256, 2 EdDSA).
void BM_BackendJwtSign(benchmark::State& state) {
  SignatureAlgorithm alg = state.range(0) == 0   ? SignatureAlgorithm::kEs256
                           : state.range(0) == 1 ? SignatureAlgorithm::kRs256
                                                 : SignatureAlgorithm::kEdDsa;
  BackendKey key = Key(alg);
  BackendClaims c = Claims();
  for (auto _ : state) {
    std::string jwt = wsgate::engine::auth::SignBackendJwt(key, wsgate::engine::auth::BackendClaimsJson(c, 1, 901, "j"));
    benchmark::DoNotOptimize(jwt);
  }
  state.SetLabel(std::string(wsgate::engine::tls::JwsName(alg)));
}
BENCHMARK(BM_BackendJwtSign)->Arg(0)->Arg(1)->Arg(2);

// A reconnect of the same identity: the cache key and a lookup, no signature.
void BM_BackendJwtCacheHit(benchmark::State& state) {
  BackendKey key = Key(SignatureAlgorithm::kEs256);
  BackendClaims c = Claims();
  BackendJwtCache cache;
  cache.Get(key, c, 900, 1000);
  for (auto _ : state) benchmark::DoNotOptimize(cache.Get(key, c, 900, 1000));
}
BENCHMARK(BM_BackendJwtCacheHit);

// The pass-through filter over a browser-like request (10 headers, 3 listed).
void BM_PassHeaders(benchmark::State& state) {
  static const std::string request =
      "GET /chats/1.0.0/notifications HTTP/1.1\r\nHost: gw.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://app.example\r\n"
      "User-Agent: Mozilla/5.0\r\nCookie: session=abc\r\nX-Request-Id: 42\r\nX-JWT-Assertion: forged\r\n\r\n";
  wsgate::engine::http::RequestParser parser;
  parser.Feed(request);
  std::vector<std::string> allow = {"x-request-id", "cookie", "x-tenant"};
  for (auto _ : state)
    benchmark::DoNotOptimize(wsgate::engine::http::PassHeaders(parser.request(), allow, "x-jwt-assertion"));
}
BENCHMARK(BM_PassHeaders);

}  // namespace
