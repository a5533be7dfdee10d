// Micro-benchmarks for the handshake's control-plane work on a shard and the agent→engine push:
// route match at 10 / 1,000 / 10,000 APIs, URL mapping, JWT verification per algorithm (cold,
// as on a cache miss), the Authenticator with its per-shard cache warm, opaque-token lookup, and
// compiling a whole snapshot of 1,000 APIs + 100k keys and 10,000 APIs + 1M keys, and the
// throttle check every relayed data frame makes (one to three levels; one counter shared by two
// threads, as a subscription's connections on two shards share it).
//
//   build/bench/wsgate_control_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/auth/authenticator.h"
#include "engine/auth/jwt.h"
#include "engine/config/compile.h"
#include "engine/config/router.h"
#include "engine/throttle/throttle.h"
#include "engine/tls/crypto.h"
#include "tests/support/loopback_resolver.h"

namespace wsgate::engine {
namespace {

constexpr int64_t kNow = 1900000000;

// `apis` APIs shaped like the walkthrough's Chats (a literal topic, a templated topic with a URL
// mapping, a wildcard), `keys` consumer keys spread over `apps` applications each subscribed to
// one API, and one signing key per algorithm.
struct Fixture {
  v1::Snapshot proto;
  std::unique_ptr<tls::PrivateKey> rsa, ec, ed;
};

Fixture MakeFixture(int apis, int keys) {
  Fixture f;
  f.rsa = *tls::PrivateKey::Generate(tls::SignatureAlgorithm::kRs256);
  f.ec = *tls::PrivateKey::Generate(tls::SignatureAlgorithm::kEs256);
  f.ed = *tls::PrivateKey::Generate(tls::SignatureAlgorithm::kEdDsa);
  v1::Snapshot& s = f.proto;
  s.set_version(1);
  s.mutable_token_validation()->set_issuer("wsgate");
  s.mutable_token_validation()->add_audiences("wsgate-gateway");
  s.add_vhosts()->set_name("localhost");
  for (int i = 0; i < apis; ++i) {
    v1::Api* a = s.add_apis();
    a->set_id(absl::StrCat("api-", i));
    a->set_name(absl::StrCat("Api", i));
    a->set_context(absl::StrCat("/svc", i));
    a->set_version("1.0.0");
    a->set_state(v1::PUBLISHED);
    a->add_vhosts("localhost");
    a->mutable_production_endpoint()->set_url("ws://localhost:8080");
    v1::Topic* t = a->add_topics();
    t->set_name("/notifications");
    t->set_url_mapping("/notifications");
    t = a->add_topics();
    t->set_name("/rooms/{roomID}");
    t->set_url_mapping("/rooms?room={uri.var.roomID}");
    a->add_topics()->set_name("/*");
  }
  int apps = std::max(1, keys / 2);
  for (int i = 0; i < apps; ++i) {
    v1::Application* app = s.add_applications();
    app->set_id(absl::StrCat("app-", i));
    app->set_name(absl::StrCat("App", i));
    v1::Subscription* sub = s.add_subscriptions();
    sub->set_id(absl::StrCat("sub-", i));
    sub->set_application_id(app->id());
    sub->set_api_id(absl::StrCat("api-", i % apis));
    sub->set_state(v1::ACTIVE);
  }
  for (int i = 0; i < keys; ++i) {
    v1::ConsumerKey* k = s.add_consumer_keys();
    k->set_client_id(absl::StrCat("client-", i));
    k->set_application_id(absl::StrCat("app-", i % apps));
    k->set_key_type(v1::PRODUCTION);
  }
  for (auto [kid, key, alg] : {std::tuple{"rsa", f.rsa.get(), v1::RS256}, std::tuple{"ec", f.ec.get(), v1::ES256},
                               std::tuple{"ed", f.ed.get(), v1::EDDSA}}) {
    v1::SigningKey* k = s.add_signing_keys();
    k->set_kid(kid);
    k->set_algorithm(alg);
    k->set_public_key_pem(key->PublicKeyPem());
  }
  return f;
}

std::shared_ptr<const config::Snapshot> CompileOrDie(const v1::Snapshot& proto) {
  auto s = config::Compile(proto, wsgate::testing::ResolveToLoopback);
  if (!s.ok()) {
    fprintf(stderr, "compile failed: %s\n", std::string(s.status().message()).c_str());
    abort();
  }
  return *s;
}

std::string MakeJwt(const tls::PrivateKey& key, const std::string& kid, const std::string& alg,
                    const std::string& client) {
  std::string input =
      auth::Base64UrlEncode(absl::StrCat(R"({"typ":"JWT","alg":")", alg, R"(","kid":")", kid, R"("})")) + "." +
      auth::Base64UrlEncode(absl::StrCat(R"({"iss":"wsgate","sub":"admin","aud":["wsgate-gateway"],"client_id":")",
                                         client, R"(","exp":)", kNow + 3600, R"(,"iat":)", kNow - 10,
                                         R"(,"jti":"jti-)", client, R"(","scope":"default"})"));
  return input + "." + auth::Base64UrlEncode(key.Sign(input));
}

// Route() for a templated topic of an API in the middle of the table.
void BM_RouteTemplatedTopic(benchmark::State& state) {
  int apis = static_cast<int>(state.range(0));
  auto snapshot = CompileOrDie(MakeFixture(apis, 2).proto);
  std::string path = absl::StrCat("/svc", apis / 2, "/1.0.0/rooms/room42");
  for (auto _ : state) {
    config::RouteResult r = config::Route(*snapshot, "localhost:9099", path);
    benchmark::DoNotOptimize(r);
    if (r.status != config::RouteStatus::kOk) state.SkipWithError("route failed");
  }
}
BENCHMARK(BM_RouteTemplatedTopic)->Arg(10)->Arg(1000)->Arg(10000);

// A miss (404 "No matching API found…"): what a scanner hammering random paths costs.
void BM_RouteUnknownApi(benchmark::State& state) {
  auto snapshot = CompileOrDie(MakeFixture(static_cast<int>(state.range(0)), 2).proto);
  for (auto _ : state) {
    config::RouteResult r = config::Route(*snapshot, "localhost", "/wp-admin/setup-config.php");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RouteUnknownApi)->Arg(10000);

// The upstream request-target: {uri.var.roomID} substitution plus the client's query.
void BM_UpstreamTarget(benchmark::State& state) {
  auto snapshot = CompileOrDie(MakeFixture(10, 2).proto);
  config::RouteResult r = config::Route(*snapshot, "localhost", "/svc3/1.0.0/rooms/room42");
  for (auto _ : state) {
    std::string target = config::UpstreamTarget(*r.api->production, r, "lang=en");
    benchmark::DoNotOptimize(target);
  }
}
BENCHMARK(BM_UpstreamTarget);

// One full JWT verification (base64url, JSON, signature, claims): what a cache miss costs.
void BM_VerifyJwt(benchmark::State& state) {
  Fixture f = MakeFixture(1, 2);
  auto snapshot = CompileOrDie(f.proto);
  const tls::PrivateKey* keys[] = {f.rsa.get(), f.ec.get(), f.ed.get()};
  const char* kids[] = {"rsa", "ec", "ed"};
  const char* algs[] = {"RS256", "ES256", "EdDSA"};
  int i = static_cast<int>(state.range(0));
  std::string token = MakeJwt(*keys[i], kids[i], algs[i], "client-0");
  state.SetLabel(algs[i]);
  for (auto _ : state) {
    auth::VerifiedJwt v = auth::VerifyJwt(token, *snapshot, kNow);
    if (v.error != auth::JwtError::kNone) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_VerifyJwt)->Arg(0)->Arg(1)->Arg(2);

// The timed loop shared by the Authenticator benchmarks: one shard's Authenticator, so the
// first iteration fills its token cache and the rest hit it.
void RunAuthenticate(benchmark::State& state, const config::Snapshot& snapshot, const config::RouteResult& route,
                     const std::string& authorization) {
  auth::Credentials c;
  c.authorization = authorization;
  auth::Authenticator authenticator;
  for (auto _ : state) {
    auth::AuthResult r = authenticator.Authenticate(snapshot, route, c, kNow);
    if (r.status != 0) state.SkipWithError(r.message.c_str());
    benchmark::DoNotOptimize(r);
  }
}

// The whole handshake decision for a reconnecting client: token cache hit, then key,
// application, subscription and topic checks against a snapshot with `keys` keys.
void BM_AuthenticateCachedJwt(benchmark::State& state) {
  int keys = static_cast<int>(state.range(0));
  Fixture f = MakeFixture(10, keys);
  auto snapshot = CompileOrDie(f.proto);
  // client-(keys-1) belongs to app-((keys-1) % apps), subscribed to api-(that % 10).
  int apps = std::max(1, keys / 2);
  int api = ((keys - 1) % apps) % 10;
  config::RouteResult route = config::Route(*snapshot, "localhost", absl::StrCat("/svc", api, "/1.0.0/notifications"));
  std::string header = "Bearer " + MakeJwt(*f.rsa, "rsa", "RS256", absl::StrCat("client-", keys - 1));
  RunAuthenticate(state, *snapshot, route, header);
}
BENCHMARK(BM_AuthenticateCachedJwt)->Arg(2)->Arg(100000);

// An opaque token: SHA-256 of the token, one hash lookup, then the same checks.
void BM_AuthenticateOpaque(benchmark::State& state) {
  Fixture f = MakeFixture(10, 2);
  std::string token = "0f8c2a1e-6c3b-4f57-9a0e-0d8d2f9d1c77";
  tls::Sha256Digest d = tls::Sha256(token);
  v1::OpaqueToken* o = f.proto.add_opaque_tokens();
  o->set_sha256(std::string(reinterpret_cast<const char*>(d.data()), d.size()));
  o->set_client_id("client-0");
  o->set_expires_unix_s(kNow + 3600);
  auto snapshot = CompileOrDie(f.proto);
  config::RouteResult route = config::Route(*snapshot, "localhost", "/svc0/1.0.0/notifications");
  std::string header = "Bearer " + token;
  RunAuthenticate(state, *snapshot, route, header);
}
BENCHMARK(BM_AuthenticateOpaque);

// Compile(): validate and index a whole pushed snapshot (the engine's control thread; shards keep
// serving the previous one meanwhile). Args: APIs, consumer keys.
void BM_CompileSnapshot(benchmark::State& state) {
  Fixture f = MakeFixture(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  state.counters["proto_MiB"] = static_cast<double>(f.proto.ByteSizeLong()) / (1 << 20);
  config::Resolver resolver = wsgate::testing::ResolveToLoopback;
  for (auto _ : state) {
    auto s = config::Compile(f.proto, resolver);
    if (!s.ok()) state.SkipWithError("compile failed");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_CompileSnapshot)->Args({1000, 100000})->Args({10000, 1000000})->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// Throttle admission per data frame: Limits::Admit over 1 to 3 levels (plan, application, API),
// each a compare-and-swap on a shared counter, with a limit that is never reached.
void BM_ThrottleAdmit(benchmark::State& state) {
  throttle::Registry registry;
  throttle::Policy policy{"Huge", false, uint64_t{1} << 39, 86400, true};
  throttle::Limits limits;
  const char* keys[] = {"sub:s1", "app:a1", "api:x"};
  for (int i = 0; i < state.range(0); ++i) limits.Add(policy, registry.Get(keys[i]));
  const int64_t now = 1'800'000'000;
  for (auto _ : state) {
    if (!limits.Admit(now)) state.SkipWithError("refused below the limit");
  }
}
BENCHMARK(BM_ThrottleAdmit)->Arg(1)->Arg(3);

// One subscription on two shards: both threads hit the same counter's cache line.
void BM_ThrottleAdmitShared(benchmark::State& state) {
  static throttle::Registry registry;
  throttle::Policy policy{"Huge", false, uint64_t{1} << 39, 86400, true};
  throttle::Limits limits;
  limits.Add(policy, registry.Get("sub:shared"));
  const int64_t now = 1'800'000'000;
  for (auto _ : state) {
    if (!limits.Admit(now)) state.SkipWithError("refused below the limit");
  }
}
BENCHMARK(BM_ThrottleAdmitShared)->Threads(1)->Threads(2)->UseRealTime();

// Issue 15: what a handshake pays for concurrent-connection quotas (a slot per limited key,
// taken at the upgrade and given back when the connection ends) — nothing per frame — and for
// the handshake rate limits (a token from each bucket). Arg: keys (subscription, application,
// API, client address). Threads(2): two shards on the same keys.
void BM_ConnectionQuotaAcquireRelease(benchmark::State& state) {
  static throttle::ConnectionCounts counts;
  std::vector<throttle::ConnectionQuota> quotas;
  const char* keys[] = {"sub:s1", "app:a1", "api:x", "addr:192.0.2.7"};
  for (int i = 0; i < state.range(0); ++i) quotas.push_back({keys[i], 1u << 30, "x"});
  throttle::ConnectionHold hold;
  for (auto _ : state) {
    if (counts.TryAcquireAll(quotas, &hold) >= 0) state.SkipWithError("refused below the limit");
    hold.Release(counts);
  }
}
BENCHMARK(BM_ConnectionQuotaAcquireRelease)->Arg(1)->Arg(4)->Threads(1)->Threads(2)->UseRealTime();

void BM_HandshakeRateTake(benchmark::State& state) {
  static throttle::HandshakeRates rates;
  int64_t now = 1'000'000;
  for (auto _ : state) benchmark::DoNotOptimize(rates.TryTake("addr:192.0.2.7", 1u << 30, 1u << 30, ++now));
}
BENCHMARK(BM_HandshakeRateTake)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace wsgate::engine
