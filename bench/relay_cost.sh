#!/usr/bin/env bash
# bench/relay_cost.sh — instructions the shard thread spends per relayed frame (callgrind), the
# repeatable number behind docs/benchmarks.md's relay-cost tables: the chat backend, the engine
# under callgrind (one shard, the example config), relay_probe joining two clients to room1 and
# sending N messages one at a time (each crosses the engine twice).
#
#   bench/relay_cost.sh                               # build/ binaries
#   ENGINE=/other/wsgate-engine bench/relay_cost.sh   # another engine build, same probe
#   KEEP=/tmp/cg bench/relay_cost.sh                  # keep the callgrind dumps for callgrind_annotate
#   ENGINE_ARGS="--admin-listen 127.0.0.1:0" bench/relay_cost.sh   # extra engine flags (word-split)
#
# Prints Ir for the handshakes alone, per message and per relayed frame at 64 B and 1 KiB.
# Needs valgrind (Debian package valgrind). Instruction counts do not depend on machine load.
#
# Two things this script works around (docs/benchmarks.md, 2026-12-01):
#  - Valgrind (3.19) runs one guest thread at a time and treats io_uring_enter as a syscall that
#    does not block ("[sync]" in --trace-syscalls), so a shard waiting in it for its 100 ms tick
#    keeps the lock and the main thread, which still has to start the control server and print
#    "listening", runs only when the idle shard has used up its time slice: startup takes tens
#    of minutes. So while the engine starts, bad requests to the ws port, one at a time, keep the
#    shard busy (its slices end and the other threads get theirs); they stop before the counters
#    are zeroed. Once started, only the shard thread has work, so the measurement is not affected.
#  - --toggle-collect names exactly the shard loop's Run(): `*Loop::Run*` would also match
#    Loop::RunOnce(long) and the completion lambda inside it in the current engine, and every
#    nested match toggles collection off again. The pattern matches the old name
#    (Shard::Loop::Run()) and the new one (Loop::Run()).
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${ENGINE:-build/engine/wsgate-engine}"
probe="${PROBE:-build/bench/relay_probe}"
backend="${BACKEND:-build/tools/chat-backend/chat-backend}"
messages="${MESSAGES:-10000}"
start_timeout="${START_TIMEOUT:-180}"  # seconds for the engine to start under callgrind
run_timeout="${RUN_TIMEOUT:-600}"      # seconds for one probe run (10,000 messages: ~5 s)
die() { echo "relay_cost.sh: $*" >&2; exit 1; }
command -v valgrind >/dev/null || die "valgrind is missing (apt-get install valgrind)"
for f in "$engine" "$probe" "$backend"; do [[ -x "$f" ]] || die "$f is not built"; done
work="$(mktemp -d /tmp/wsgate-relay-cost-XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  # The engine under valgrind may not get to its sigwait to drain: then it is killed.
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "${KEEP:-}" ]]; then mkdir -p "$KEEP"; cp "$work"/cg.out.* "$work"/*.log "$KEEP"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
backend_port="$(free_port)"
engine_port="$(free_port)"
"$backend" --port "$backend_port" --bind 127.0.0.1 >"$work/backend.log" 2>&1 &
pids+=($!)
token="relay-cost-token"
hash="$(printf '%s' "$token" | sha256sum | cut -c1-64 | sed 's/../\\\\x&/g')"
# An unexhaustible plan, so every frame is relayed whatever N is.
sed -e "s|ws://localhost:8080|ws://localhost:$backend_port|" -e "s/sha256: \"[^\"]*\"/sha256: \"$hash\"/" -e 's/events: 50000/events: 1000000000/' \
  docs/examples/chats.textproto >"$work/chats.textproto"
valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$work/cg.out" \
  '--toggle-collect=wsgate::engine::server::*Loop::Run()' \
  "$engine" --config "$work/chats.textproto" --ws-listen "127.0.0.1:$engine_port" --wss-listen "" \
  --control "unix:$work/engine.sock" --shards 1 ${ENGINE_ARGS:-} >"$work/engine.log" 2>&1 &
engine_pid=$!
pids+=("$engine_pid")

# Start: nudge the shard with bad requests until the engine says it listens (see above).
python3 - "$engine_port" "$work/engine.log" "$start_timeout" "$engine_pid" <<'PY' || { cat "$work/engine.log" >&2; die "the engine exited or printed no \"listening\" line within ${start_timeout}s (its log is above)"; }
import os, socket, sys, time
port, log, limit, pid = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
end = time.time() + limit
while time.time() < end:
    if "(port " in open(log, errors="replace").read():
        sys.exit(0)
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)  # it exited
    try:  # one at a time, each until the engine closed it (a bad request), so slots do not pile up
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")
            while s.recv(4096):
                pass
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
sleep 2  # the last nudges are closed and settled

control() {  # callgrind_control OPTION for the engine, within 60 s
  timeout 60 callgrind_control "$1" "$engine_pid" >>"$work/control.log" 2>&1 \
    || { cat "$work/control.log" >&2; die "callgrind_control $1 failed or timed out"; }
}
dumps=0
dump() {  # dump the counters (each dump zeroes them) into the variable named $1: the dump's Ir
  sleep 1  # the probe's closes are handled
  control -d
  dumps=$((dumps + 1))
  local f="$work/cg.out.$dumps"
  for _ in $(seq 1 100); do grep -q '^totals:' "$f" 2>/dev/null && break; sleep 0.2; done
  local ir; ir="$(awk '/^summary:/ {print $2; exit}' "$f")"
  [[ -n "$ir" ]] || die "no summary in $f"
  printf -v "$1" '%s' "$ir"
}
probe() { timeout "$run_timeout" "$probe" --port "$engine_port" --token "$token" "$@" >/dev/null \
            || die "relay_probe $* failed or took over ${run_timeout}s"; }
# Warm-up (first-use costs: lazy symbol binding, first allocations, buffer pages), not counted.
probe --messages 100 --size 64
probe --messages 100 --size 1024
sleep 1
control -z
probe --messages 0
dump hs
probe --messages "$messages" --size 64
dump small
probe --messages "$messages" --size 1024
dump large
python3 - "$hs" "$small" "$large" "$messages" "$engine" <<'PY'
import sys
hs, small, large, n = (int(x) for x in sys.argv[1:5])
print(f"engine: {sys.argv[5]}")
print(f"handshakes + closes (2 clients): {hs:,} Ir")
for name, v in (("64 B", small), ("1 KiB", large)):
    per = (v - hs) / n
    print(f"{n} x {name}: {v:,} Ir, {per:,.0f} per message, {per/2:,.0f} per relayed frame")
PY
