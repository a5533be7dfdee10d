#!/usr/bin/env bash
# tools/test.sh — the README's test command: installs what is missing (tools/setup.sh), builds
# with warnings as errors, runs every test (unit, integration, e2e), then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test under them, then runs each
# libFuzzer target (clang) for a bounded time from its seed corpus.
#
#   tools/test.sh           # everything (about 6 minutes on 2 cores)
#   tools/test.sh --quick   # skip the sanitizer and fuzzing passes
#   tools/test.sh -L unit   # extra arguments go to both ctest runs
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
ctest_args=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ctest_args+=("$arg") ;;
  esac
done

tools/setup.sh
jobs=$(nproc)

step() { printf '\n== %s\n' "$*"; }

step "build (release, -Werror)"
cmake -S . -B build -G Ninja -DWSGATE_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
step "tests (release)"
ctest --test-dir build --output-on-failure -j "$jobs" "${ctest_args[@]}"

if [ "$quick" = 0 ]; then
  step "build (address,undefined sanitizers)"
  cmake -S . -B build-asan -G Ninja -DWSGATE_WERROR=ON -DWSGATE_SANITIZE=address,undefined \
        -DCMAKE_BUILD_TYPE=Debug -DWSGATE_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  step "tests (address,undefined sanitizers)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" "${ctest_args[@]}"
fi
if [ "$quick" = 0 ]; then
  step "fuzzing (libFuzzer, ${WSGATE_FUZZ_SECONDS:-15} s per target)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DWSGATE_FUZZ=ON -DWSGATE_BUILD_BENCH=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fuzzers=(http_request_fuzz frame_scanner_fuzz jwt_fuzz)
  cmake --build build-fuzz -j "$jobs" --target "${fuzzers[@]}"
  for f in "${fuzzers[@]}"; do
    corpus="build-fuzz/corpus/$f"
    mkdir -p "$corpus" && cp tests/fuzz/corpus/"$f"/* "$corpus"/
    log="build-fuzz/$f.log"
    if ! build-fuzz/tests/fuzz/"$f" -max_total_time="${WSGATE_FUZZ_SECONDS:-15}" -max_len=4096 \
         -artifact_prefix=build-fuzz/ "$corpus" >"$log" 2>&1; then
      tail -40 "$log"
      echo "fuzzer $f found a failure; the input is saved under build-fuzz/"
      exit 1
    fi
    echo "$f: $(grep -E '^Done' "$log")"
  done
fi
step "all tests passed"
