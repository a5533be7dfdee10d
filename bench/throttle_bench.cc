// The per-event throttle check on a shard (issue 19): a local counter (--quota-store local)
// against the same counter behind a cluster gate holding a lease (--quota-store redis://). The
// gate adds one relaxed load of the mode and of the allowance and the refill check; no Redis
// call is ever on this path (the quota thread serves refills).
#include <benchmark/benchmark.h>

#include "engine/throttle/throttle.h"

namespace {

using namespace wsgate::engine::throttle;

constexpr int64_t kNow = 1'800'000'000;

void BM_ThrottleAdmitLocal(benchmark::State& state) {
  Registry registry;
  Policy plan{"Plan", false, Counter::kCountMask, 86400, true};
  Limits limits;
  limits.Add(plan, registry.Get("sub:s1"));
  for (auto _ : state) benchmark::DoNotOptimize(limits.Admit(kNow));
}
BENCHMARK(BM_ThrottleAdmitLocal);

void BM_ThrottleAdmitClusterGate(benchmark::State& state) {
  Registry registry;
  ClusterQuota quota(LeaseParams{4, 4, 100});
  Policy plan{"Plan", false, Counter::kCountMask, 86400, true};
  Counter* counter = registry.Get("sub:s1");
  ClusterGate* gate = quota.Gate("sub:s1", 86400, counter);
  // One huge grant, so the loop measures the check, not the queue.
  gate->ApplyGrant(static_cast<uint64_t>(kNow) / 86400, uint64_t{1} << 38, uint64_t{1} << 38);
  Limits limits;
  limits.Add(plan, counter, gate);
  for (auto _ : state) benchmark::DoNotOptimize(limits.Admit(kNow));
}
BENCHMARK(BM_ThrottleAdmitClusterGate);

}  // namespace
