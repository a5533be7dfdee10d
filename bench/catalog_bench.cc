// Catalog mutations on both backends (issue 19 item 1): CreateApi and DeployRevision, each one
// transaction, on a SQLite file (WAL, synchronous=FULL) and on a private PostgreSQL (fsync off,
// loopback TCP, tests/support/postgres_server.h). The catalog grows by one API per iteration.
//
//   build/bench/wsgate_catalog_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "agent/catalog.h"
#include "tests/support/local_server.h"
#include "tests/support/postgres_server.h"

namespace {

using wsgate::agent::Catalog;
using wsgate::agent::CatalogOptions;

std::unique_ptr<Catalog> OpenCatalog(bool postgres, std::string* dir, benchmark::State& state) {
  static std::unique_ptr<wsgate::testing::PostgresServer> server;
  static int databases = 0;
  std::string target;
  *dir = wsgate::testing::MakeTempDir("wsgate-catalog-bench-");
  if (postgres) {
    if (!server) {
      server = std::make_unique<wsgate::testing::PostgresServer>();
      if (!server->Start()) {
        state.SkipWithError(server->error().c_str());
        return nullptr;
      }
    }
    target = server->CreateDatabase("bench_" + std::to_string(++databases));
  } else {
    target = *dir + "/catalog.db";
  }
  auto c = Catalog::Open(target, CatalogOptions());
  if (!c.ok()) {
    state.SkipWithError(std::string(c.status().message()).c_str());
    return nullptr;
  }
  return *std::move(c);
}

wsgate::v1::ApiSpec Spec(int i) {
  wsgate::v1::ApiSpec s;
  s.set_name("Api" + std::to_string(i));
  s.set_context("/api" + std::to_string(i));
  s.set_version("1.0.0");
  s.mutable_production_endpoint()->set_url("ws://localhost:8080");
  s.add_plans("AsyncGold");
  return s;
}

void BM_CreateApi(benchmark::State& state) {
  std::string dir;
  auto catalog = OpenCatalog(state.range(0) == 1, &dir, state);
  if (!catalog) return;
  int i = 0;
  for (auto _ : state)
    if (!catalog->CreateApi(Spec(++i)).ok()) state.SkipWithError("CreateApi failed");
  catalog.reset();
  wsgate::testing::RemoveTree(dir);
}

void BM_DeployRevision(benchmark::State& state) {
  std::string dir;
  auto catalog = OpenCatalog(state.range(0) == 1, &dir, state);
  if (!catalog) return;
  int i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ++i;
    std::string ref = "Api" + std::to_string(i) + ":1.0.0";
    bool ok = catalog->CreateApi(Spec(i)).ok() && catalog->ChangeLifecycle(ref, "Publish").ok() &&
              catalog->CreateRevision(ref, "").ok();
    state.ResumeTiming();
    if (!ok || !catalog->DeployRevision(ref, 1, "", "").ok()) state.SkipWithError("deploy failed");
  }
  catalog.reset();
  wsgate::testing::RemoveTree(dir);
}

// Arg 0: SQLite, 1: PostgreSQL.
BENCHMARK(BM_CreateApi)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->Iterations(200);
BENCHMARK(BM_DeployRevision)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->Iterations(200);

}  // namespace
