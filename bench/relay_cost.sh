#!/usr/bin/env bash
# bench/relay_cost.sh — instructions the shard thread spends per relayed frame (callgrind), the
# repeatable number behind docs/benchmarks.md's relay-cost table: the chat backend, the engine
# under callgrind (one shard, the example config), relay_probe joining two clients to room1 and
# sending N messages one at a time (each crosses the engine twice).
#
#   bench/relay_cost.sh                          # build/ binaries
#   ENGINE=/other/wsgate-engine bench/relay_cost.sh   # another engine build, same probe
#
# Prints Ir for the handshakes alone, per message and per relayed frame at 64 B and 1 KiB.
# Needs valgrind (Debian package valgrind). Instruction counts do not depend on machine load.
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${ENGINE:-build/engine/wsgate-engine}"
probe="${PROBE:-build/bench/relay_probe}"
backend="${BACKEND:-build/tools/chat-backend/chat-backend}"
messages="${MESSAGES:-10000}"
command -v valgrind >/dev/null || { echo "relay_cost.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 2; }
work="$(mktemp -d /tmp/wsgate-relay-cost-XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
backend_port="$(free_port)"
engine_port="$(free_port)"
"$backend" --port "$backend_port" --bind 127.0.0.1 >"$work/backend.log" 2>&1 &
pids+=($!)
token="relay-cost-token"
hash="$(printf '%s' "$token" | sha256sum | cut -c1-64 | sed 's/../\\\\x&/g')"
# An unexhaustible plan, so every frame is relayed whatever N is.
sed -e "s/BACKEND_PORT/$backend_port/" -e "s/TOKEN_SHA256/$hash/" -e 's/events: 50000/events: 1000000000/' \
  docs/examples/chats.textproto >"$work/chats.textproto"
valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$work/cg.out" '--toggle-collect=*Loop::Run*' \
  "$engine" --config "$work/chats.textproto" --ws-listen "127.0.0.1:$engine_port" --wss-listen "" \
  --control "unix:$work/engine.sock" --shards 1 >"$work/engine.log" 2>&1 &
engine_pid=$!
pids+=("$engine_pid")
for _ in $(seq 1 200); do grep -q "(port " "$work/engine.log" 2>/dev/null && break; sleep 0.1; done
grep -q "(port " "$work/engine.log" || { cat "$work/engine.log"; exit 1; }
total() { callgrind_control -d "$engine_pid" >/dev/null; sleep 0.5
          local f; f="$(ls -t "$work"/cg.out.* | head -1)"; awk '/^summary:|^totals:/ {print $2; exit}' "$f"; }
callgrind_control -z "$engine_pid" >/dev/null
"$probe" --port "$engine_port" --token "$token" --messages 0 >/dev/null
hs="$(total)"
"$probe" --port "$engine_port" --token "$token" --messages "$messages" --size 64 >/dev/null
small="$(total)"
"$probe" --port "$engine_port" --token "$token" --messages "$messages" --size 1024 >/dev/null
large="$(total)"
python3 - "$hs" "$small" "$large" "$messages" <<'PY'
import sys
hs, small, large, n = (int(x) for x in sys.argv[1:])
print(f"handshakes + closes (2 clients): {hs:,} Ir")
for name, v in (("64 B", small), ("1 KiB", large)):
    per = (v - hs) / n
    print(f"{n} x {name}: {v:,} Ir, {per:,.0f} per message, {per/2:,.0f} per relayed frame")
PY
