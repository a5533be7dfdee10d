// Micro-benchmarks for incremental config apply (issue 20) on an engine holding 1M consumer
// keys (500k applications each subscribed once), 1M revocations and 1M opaque tokens:
//   - BM_Delta*/full: what ApplyDelta cost before: MergeDelta into the proto, then Compile().
//   - BM_Delta*/incremental: ApplyCompiledDelta() on the compiled snapshot (copy-on-write
//     indexes: the delta copies the buckets it touches).
//   - BM_ApplyDeltaRpc: the real Server (2 shards) behind the real gRPC control socket: the
//     ApplyDelta RPC round trip, which returns once every shard has swapped the new snapshot in,
//     and the engine's own measure of it (server_us: RPC handler to the last shard).
//   - BM_IndexMemory: RSS growth of the 1M-key credential indexes, flat_hash_map (as before) vs
//     CowIndex.
//
//   build/bench/wsgate_delta_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/config/compile.h"
#include "engine/config/delta.h"
#include "engine/config/incremental.h"
#include "engine/control/control_service.h"
#include "engine/server/server.h"
#include "engine/tls/crypto.h"
#include "tests/support/loopback_resolver.h"
#include "wsgate/v1/engine.grpc.pb.h"

namespace wsgate::engine {
namespace {

constexpr int kKeys = 1000000;

std::string TokenHash(int i) {
  tls::Sha256Digest d = tls::Sha256(absl::StrCat("token-", i));
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// 10 APIs, kKeys consumer keys over kKeys/2 applications (each subscribed to one API), kKeys
// revoked JWT ids and kKeys opaque tokens, one signing key. Built once.
const v1::Snapshot& Proto() {
  static const v1::Snapshot* proto = [] {
    auto* s = new v1::Snapshot;
    s->set_agent_id("bench");
    s->set_version(1);
    s->add_vhosts()->set_name("localhost");
    for (int i = 0; i < 10; ++i) {
      v1::Api* a = s->add_apis();
      a->set_id(absl::StrCat("api-", i));
      a->set_name(absl::StrCat("Api", i));
      a->set_context(absl::StrCat("/svc", i));
      a->set_version("1.0.0");
      a->add_vhosts("localhost");
      a->mutable_production_endpoint()->set_url("ws://127.0.0.1:8080");
      a->add_topics()->set_name("/notifications");
    }
    for (int i = 0; i < kKeys / 2; ++i) {
      s->add_applications()->set_id(absl::StrCat("app-", i));
      v1::Subscription* sub = s->add_subscriptions();
      sub->set_id(absl::StrCat("sub-", i));
      sub->set_application_id(absl::StrCat("app-", i));
      sub->set_api_id(absl::StrCat("api-", i % 10));
    }
    for (int i = 0; i < kKeys; ++i) {
      v1::ConsumerKey* k = s->add_consumer_keys();
      k->set_client_id(absl::StrCat("client-", i));
      k->set_application_id(absl::StrCat("app-", i / 2));
      s->add_revoked_tokens()->set_jti(absl::StrCat("revoked-jti-", i));
      v1::OpaqueToken* t = s->add_opaque_tokens();
      t->set_sha256(TokenHash(i));
      t->set_client_id(absl::StrCat("client-", i));
      t->set_expires_unix_s(1900000000);
    }
    auto key = *tls::PrivateKey::Generate(tls::SignatureAlgorithm::kEs256);
    v1::SigningKey* sk = s->add_signing_keys();
    sk->set_kid("k1");
    sk->set_algorithm(v1::ES256);
    sk->set_public_key_pem(key->PublicKeyPem());
    return s;
  }();
  return *proto;
}

std::shared_ptr<const config::Snapshot> Compiled() {
  static const std::shared_ptr<const config::Snapshot> snap = [] {
    auto s = config::Compile(Proto(), wsgate::testing::ResolveToLoopback);
    if (!s.ok()) {
      fprintf(stderr, "compile failed: %s\n", std::string(s.status().message()).c_str());
      abort();
    }
    return *s;
  }();
  return snap;
}

// One revoked token, or one new subscription (an application subscribing to a second API).
v1::ApplyDeltaRequest MakeDelta(bool subscription, uint64_t base, int n) {
  v1::ApplyDeltaRequest d;
  d.set_agent_id("bench");
  d.set_base_version(base);
  d.set_version(base + 1);
  if (subscription) {
    v1::Subscription* sub = d.add_upsert_subscriptions();
    sub->set_id(absl::StrCat("sub-new-", n));
    sub->set_application_id(absl::StrCat("app-", n % (kKeys / 2)));
    sub->set_api_id("api-9x");
  } else {
    d.add_add_revoked_tokens()->set_jti(absl::StrCat("jti-new-", n));
  }
  return d;
}

// Arg 0: a revocation, 1: a subscription.
void BM_DeltaFull(benchmark::State& state) {
  v1::ApplyDeltaRequest d = MakeDelta(state.range(0) == 1, 1, 0);
  for (auto _ : state) {
    auto merged = config::MergeDelta(Proto(), d);
    auto s = config::Compile(*merged, wsgate::testing::ResolveToLoopback);
    if (!s.ok()) state.SkipWithError("compile failed");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_DeltaFull)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_DeltaIncremental(benchmark::State& state) {
  std::shared_ptr<const config::Snapshot> base = Compiled();
  int n = 0;
  for (auto _ : state) {
    auto next = config::ApplyCompiledDelta(*base, MakeDelta(state.range(0) == 1, 1, n++));
    if (!next.ok() || *next == nullptr) state.SkipWithError("delta not applied incrementally");
    benchmark::DoNotOptimize(next);
  }
}
BENCHMARK(BM_DeltaIncremental)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

double RssMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

// The engine end to end: ApplyDelta over the control socket to a Server with 2 shards.
void BM_ApplyDeltaRpc(benchmark::State& state) {
  server::ServerOptions options;
  options.ws_listen = "127.0.0.1:0";
  options.shards = 2;
  options.resolver = wsgate::testing::ResolveToLoopback;
  server::Server engine(options);
  if (!engine.Start().ok()) return state.SkipWithError("engine start failed");
  if (!engine.Apply(Proto()).ok()) return state.SkipWithError("full apply failed");
  malloc_trim(0);
  state.counters["rss_full_MiB"] = RssMiB();  // the engine holding the 1M-key snapshot (and its proto)
  std::string path = absl::StrCat("/tmp/wsgate-delta-bench-", getpid(), ".sock");
  control::ControlServer control(engine, {path, "bench"});
  if (!control.Start().ok()) return state.SkipWithError("control start failed");
  auto stub = v1::EngineControl::NewStub(grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials()));
  uint64_t version = 1;
  int64_t server_us = 0;
  int n = 0;
  for (auto _ : state) {
    v1::ApplyDeltaRequest d = MakeDelta(state.range(0) == 1, version, n++);
    grpc::ClientContext ctx;
    v1::ApplyResponse resp;
    grpc::Status st = stub->ApplyDelta(&ctx, d, &resp);
    if (!st.ok()) return state.SkipWithError(st.error_message().c_str());
    version = resp.applied_version();
    server_us += engine.last_apply_duration_us();
  }
  state.counters["server_us"] = benchmark::Counter(static_cast<double>(server_us), benchmark::Counter::kAvgIterations);
  malloc_trim(0);
  state.counters["rss_after_MiB"] = RssMiB();  // after the deltas: old snapshots freed, the log kept
  control.Stop();
  engine.Drain(0);
  engine.Wait();
}
BENCHMARK(BM_ApplyDeltaRpc)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->Iterations(200);

// RSS growth of the 1M consumer keys + 1M revocations + 1M opaque tokens + 500k subscriptions
// indexes. Arg 0: flat_hash_map (the snapshot's layout before), 1: CowIndex.
void BM_IndexMemory(benchmark::State& state) {
  const v1::Snapshot& proto = Proto();
  for (auto _ : state) {
    malloc_trim(0);
    double before = RssMiB();
    double grown = 0;
    if (state.range(0) == 0) {
      absl::flat_hash_map<std::string, config::ConsumerKey> keys;
      absl::flat_hash_map<std::string, config::Subscription> subs;
      absl::flat_hash_map<std::string, config::OpaqueToken> tokens;
      absl::flat_hash_map<std::string, bool> revoked;
      for (const auto& k : proto.consumer_keys()) keys[k.client_id()] = {k.client_id(), k.application_id(), k.key_type()};
      for (const auto& s : proto.subscriptions())
        subs[config::SubscriptionKey(s.application_id(), s.api_id())] = {s.id(), s.application_id(), s.api_id(), s.plan(), s.state()};
      for (const auto& t : proto.opaque_tokens()) tokens[t.sha256()] = {t.client_id(), t.expires_unix_s(), {}};
      for (const auto& r : proto.revoked_tokens()) revoked[r.jti()] = true;
      grown = RssMiB() - before;
    } else {
      config::Snapshot s;
      s.consumer_keys.Reserve(kKeys);
      s.opaque_tokens.Reserve(kKeys);
      s.revoked_jtis.Reserve(kKeys);
      s.subscriptions.Reserve(kKeys / 2);
      s.subscription_keys.Reserve(kKeys / 2);
      for (const auto& k : proto.consumer_keys()) s.consumer_keys.Insert(k.client_id(), {k.client_id(), k.application_id(), k.key_type()});
      for (const auto& sub : proto.subscriptions()) {
        s.subscription_keys.Insert(sub.id(), config::SubscriptionKey(sub.application_id(), sub.api_id()));
        s.subscriptions.Insert(config::SubscriptionKey(sub.application_id(), sub.api_id()),
                               {sub.id(), sub.application_id(), sub.api_id(), sub.plan(), sub.state()});
      }
      for (const auto& t : proto.opaque_tokens()) s.opaque_tokens.Insert(t.sha256(), {t.client_id(), t.expires_unix_s(), {}});
      for (const auto& r : proto.revoked_tokens()) s.revoked_jtis.Insert(r.jti());
      grown = RssMiB() - before;
    }
    state.counters["rss_MiB"] = grown;
  }
}
BENCHMARK(BM_IndexMemory)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace wsgate::engine
