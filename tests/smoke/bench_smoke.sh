#!/usr/bin/env bash
# Smoke test of the benchmark tools (no timing is judged): wsgate-bench against the echo backend
# in closed-loop, open-loop and handshake modes, and one pass of every micro-benchmark.
set -euo pipefail
build="$1"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/tools/chat-backend/chat-backend" --echo --bind 127.0.0.1 --port "$port" >/dev/null 2>&1 &
backend=$!
trap 'kill $backend 2>/dev/null || true' EXIT
sleep 0.3
check() {
  local json
  json=$("$build/bench/wsgate-bench" --url "ws://127.0.0.1:$port/echo" --duration 1 --warmup 0 --json-only "$@")
  echo "$json"
  python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert d['count'] > 0 and d['errors'] == 0, d" "$json"
}
check --conns 4
check --conns 4 --rate 2000
check --conns 2 --mode handshake
"$build/bench/wsgate_micro_bench" --benchmark_min_time=0.01 >/dev/null
echo "bench smoke: 4 passed, 0 failed"
