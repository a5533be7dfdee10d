#!/usr/bin/env bash
# tools/test.sh — the README's test command: installs what is missing (tools/setup.sh), builds
# with warnings as errors, runs every test (unit, integration, e2e), builds the .deb packages and
# installs, checks and removes them (tools/package_test.sh), then builds again with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test under them, then again with
# ThreadSanitizer (build-tsan) and runs every test under it, then runs each libFuzzer target
# (clang) for a bounded time from its seed corpus.
#
#   tools/test.sh           # everything (about 14 minutes on 2 cores)
#   tools/test.sh --quick   # skip the sanitizer and fuzzing passes
#   tools/test.sh -L unit   # extra arguments go to every ctest run
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
ctest_args=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ctest_args+=("$arg") ;;
  esac
done

tools/setup.sh
jobs=$(nproc)

step() { printf '\n== %s\n' "$*"; }

# ccache (installed by setup.sh) makes the four builds of one tree, and rebuilds of a tree that
# barely changed, cost what changed. Paths are hashed relative to the checkout, so a fresh clone
# elsewhere on the same machine reuses the cache; a new machine starts cold and loses nothing.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

step "build (release, -Werror)"
cmake -S . -B build -G Ninja -DWSGATE_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build build -j "$jobs"
step "tests (release)"
ctest --test-dir build --output-on-failure -j "$jobs" "${ctest_args[@]}"
# The Debian packages (about a minute, mostly dpkg-shlibdeps): built, installed with dpkg -i, run from /usr/bin, units
# verified with systemd-analyze, removed (tools/package_test.sh; skipped with a message without root).
step "packages (.deb)"
tools/package_test.sh build

if [ "$quick" = 0 ]; then
  step "build (address,undefined sanitizers)"
  cmake -S . -B build-asan -G Ninja -DWSGATE_WERROR=ON -DWSGATE_SANITIZE=address,undefined "${launcher[@]}" \
        -DCMAKE_BUILD_TYPE=Debug -DWSGATE_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  step "tests (address,undefined sanitizers)"
  # tools/lsan.supp: leaks inside third-party libraries only (each with its reason).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp" \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" "${ctest_args[@]}"

  # ThreadSanitizer: the cross-thread paths are Shard::Post (the mailbox the control thread uses),
  # the throttle registry's shared counters, the agent's pusher threads and the OAuth2 server's
  # connection threads; io_uring ops run in the kernel, where TSan sees nothing (fine: a
  # connection's ops complete on its own shard's thread). gRPC and Abseil are Debian's, not built
  # with TSan, so TSan cannot see their locks: ignore_noninstrumented_modules=1 drops the accesses
  # their own code makes through TSan's interceptors (malloc/free, memmove, epoll_*), which would
  # otherwise be reported as races inside gRPC; everything our code does is still checked. Each
  # process (tests and the engine/agent/wsgatectl they start) writes its report to
  # build-tsan/tsan-reports/report.PID; any report fails the pass.
  step "build (thread sanitizer)"
  cmake -S . -B build-tsan -G Ninja -DWSGATE_WERROR=ON -DWSGATE_SANITIZE=thread "${launcher[@]}" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSGATE_BUILD_BENCH=OFF >/dev/null
  cmake --build build-tsan -j "$jobs"
  step "tests (thread sanitizer)"
  tsan_reports="$PWD/build-tsan/tsan-reports"
  rm -rf "$tsan_reports" && mkdir -p "$tsan_reports"
  tsan_rc=0
  # GCC 12's TSan runtime cannot map its shadow memory when the kernel randomises mmap with more
  # than 28 bits; run the pass without address randomisation there.
  no_aslr=()
  if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then no_aslr=(setarch "$(uname -m)" -R); fi
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:log_path=$tsan_reports/report" \
    "${no_aslr[@]}" ctest --test-dir build-tsan --output-on-failure -j "$jobs" "${ctest_args[@]}" || tsan_rc=$?
  if compgen -G "$tsan_reports/report.*" >/dev/null; then
    cat "$tsan_reports"/report.*
    echo "ThreadSanitizer found the problems above (one file per process in $tsan_reports)"
    exit 1
  fi
  [ "$tsan_rc" = 0 ] || exit "$tsan_rc"
fi
if [ "$quick" = 0 ]; then
  step "fuzzing (libFuzzer, ${WSGATE_FUZZ_SECONDS:-15} s per target)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DWSGATE_FUZZ=ON -DWSGATE_BUILD_BENCH=OFF "${launcher[@]}" \
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
