#!/usr/bin/env bash
# Issue 20: 40,000+ idle proxied connections in one wsgate-engine process, then every one of them
# relays a message. Each process here (engine, load generator, backend) has a descriptor limit of
# 20,000 (hard), so the engine keeps its sockets in its shards' io_uring fixed-file tables (direct
# descriptors, each table bounded by the limit on its own), and the load and the backends are
# spread over several processes: CLIENTS wsgate-bench --mode idle processes over 127.0.0.1-250
# source addresses, each against its own API whose endpoint is one of BACKENDS chat-backend --echo
# processes. Prints what the engine held (its /metrics), its resident memory before and while
# holding, and how many connections had their message echoed; exits 1 below TARGET.
#
#   bench/idle_40k.sh                                 # 42,000 connections, 5 shards, ~45 s
#   CONNS=6000 SHARDS=2 TARGET=6000 bench/idle_40k.sh # a short pass
#
# Why 5 shards on a 2-core host: a proxied connection is two sockets; the engine holds
# shards x 20,000 (tables) + ~20,000 (its descriptors) sockets, so 2 shards top out at ~30,000
# connections and 4 at ~50,000; with 5 every socket of 42,000 connections fits in the tables and
# each shard stays under the overload threshold (85 % of its --max-connections), which would
# otherwise answer 503 during the ramp (docs/benchmarks.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build="${WSGATE_BUILD_DIR:-$root/build}"
conns="${CONNS:-42000}" shards="${SHARDS:-5}" clients="${CLIENTS:-3}" backends="${BACKENDS:-3}"
target="${TARGET:-40000}" ramp="${RAMP_S:-25}" hold="${HOLD_S:-10}"
work="$(mktemp -d /tmp/wsgate-idle40k-XXXXXX)"
cmake --build "$build" --target wsgate-bench chat-backend wsgate-engine >/dev/null

# Every process this script starts is one of its jobs: stop them all on the way out.
# The logs of the last run stay in $LOGS (default /tmp/wsgate-idle40k-last).
logs="${LOGS:-/tmp/wsgate-idle40k-last}"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$logs"; mv "$work" "$logs"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
metric() { curl -s "http://127.0.0.1:$admin_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# Backends, and one API per load process (API k → backend k mod BACKENDS).
per_backend=$(( (conns + backends - 1) / backends + 100 ))
for b in $(seq 0 $((backends - 1))); do
  bp[$b]=$(port)
  "$build/tools/chat-backend/chat-backend" --echo --bind 127.0.0.1 --port "${bp[$b]}" \
    --max-connections "$per_backend" >"$work/backend$b.log" 2>&1 &
done
{
  echo 'version: 1 agent_id: "idle-40k"'
  echo 'vhosts { name: "localhost" aliases: "127.0.0.1" }'
  # No keepalive pings during the run (the load generator does not answer them).
  echo 'settings { ping_interval_ms: 600000 }'
  for k in $(seq 0 $((clients - 1))); do
    echo "apis { id: \"idle$k\" name: \"Idle$k\" context: \"/idle$k\" version: \"1.0.0\" state: PUBLISHED vhosts: \"localhost\""
    echo "  production_endpoint { url: \"ws://127.0.0.1:${bp[$((k % backends))]}\" }"
    echo '  topics { name: "/x" url_mapping: "/x" unsecured: true } }'
  done
} >"$work/idle.textproto"
for b in $(seq 0 $((backends - 1))); do wait_port "${bp[$b]}"; done

ws_port=$(port) admin_port=$(port)
"$build/engine/wsgate-engine" --config "$work/idle.textproto" --shards "$shards" --ws-listen "127.0.0.1:$ws_port" \
  --wss-listen "" --control "unix:$work/engine.sock" --admin-listen "127.0.0.1:$admin_port" --log-level warning \
  ${ENGINE_ARGS:-} >"$work/engine.log" 2>&1 &
engine_pid=$!
wait_port "$ws_port"
wait_port "$admin_port"
echo "engine: pid $engine_pid, $shards shards, descriptor limit $(awk '/Max open files/ {print $4}' /proc/$engine_pid/limits)"
before=$(rss_kib "$engine_pid")

# One pass: CLIENTS load processes hold $1 connections in all, each sends one message 5 s before
# the end; the engine's gauges and RSS are read while they hold, before those messages.
pass() {
  local n="$1" k p
  bench_pids=()
  for k in $(seq 0 $((clients - 1))); do
    "$build/bench/wsgate-bench" --url "ws://127.0.0.1:$ws_port/idle$k/1.0.0/x" --mode idle --conns $((n / clients)) \
      --sources many --warmup 0 --duration $((ramp + hold)) --verify 5 --json-only >"$work/bench$k.json" 2>"$work/bench$k.err" &
    bench_pids+=($!)
    sleep "${STAGGER_S:-3}"  # a smaller connect storm: see "descriptors during the ramp" in docs/benchmarks.md
  done
  sleep $((ramp + hold - 7 - clients * ${STAGGER_S:-3}))  # all open, before the verification messages
  held=$(metric wsgate_engine_active_connections)
  direct=$(metric wsgate_engine_direct_sockets)
  full=$(metric wsgate_engine_direct_table_full_total)
  during=$(rss_kib "$engine_pid")
  fds=$(ls "/proc/$engine_pid/fd" | wc -l)
  for p in "${bench_pids[@]}"; do wait "$p" || true; done
}
# With HALF=1 a first pass holds half as many: the growth of the engine's RSS from that pass to
# the full one, per added connection, is what one more idle connection costs (the receive rings'
# pages, touched once, are fixed costs the first pass already paid).
half_rss=0 half_held=0
if [ "${HALF:-0}" = 1 ]; then
  pass $((conns / 2))
  half_rss=$during half_held=$held
  sleep 2
fi
pass "$conns"
status=0

python3 - "$work" "$clients" "$held" "$direct" "$full" "$before" "$during" "$fds" "$target" "$half_rss" "$half_held" <<'PY'
import json, sys
work, clients, held, direct, full, before, during, fds, target, half_rss, half_held = sys.argv[1:]
opened = verified = errors = 0
for k in range(int(clients)):
    lines = open(f"{work}/bench{k}.json").read().strip().splitlines()
    d = json.loads(lines[-1]) if lines else {}
    opened += d.get("open_connections", 0); verified += d.get("verified", 0); errors += d.get("errors", 0)
    if d.get("errors"): print(f"  load {k}: errors {d.get('errors_by_cause')}")
held = int(float(held or 0)); grown = int(during) - int(before)
print(f"held by the engine: {held} relaying connections, {int(float(direct or 0))} direct sockets "
      f"({int(float(full or 0))} kept as regular descriptors for a full table), {fds} open descriptors")
print(f"load generators: {opened} open, {verified} echoed their message after the hold, {errors} errors")
print(f"engine RSS: {before} KiB before, {during} KiB holding: {grown / max(held, 1) * 1024:.0f} bytes per connection "
      f"(including fixed costs the connections touch)")
if int(half_rss):
    half_held = int(float(half_held or 0))
    print(f"engine RSS: {half_rss} KiB holding {half_held}, {during} KiB holding {held}: "
          f"{(int(during) - int(half_rss)) / max(held - half_held, 1) * 1024:.0f} bytes per added idle connection")
ok = held >= int(target) and verified == opened and opened >= int(target)
print("PASS" if ok else f"FAIL (target {target})")
sys.exit(0 if ok else 1)
PY
