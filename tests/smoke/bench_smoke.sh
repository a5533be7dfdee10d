#!/usr/bin/env bash
# Smoke test of the benchmark tools (no timing is judged): wsgate-bench against the echo backend
# in closed-loop, open-loop and handshake modes, fan-out against the chat sample (each message
# reaches every other client of the room), and one pass of every micro-benchmark.
set -euo pipefail
build="$1"
source "$(dirname "$0")/ports.sh"
reserve_port port
reserve_port chat_port
"$build/tools/chat-backend/chat-backend" --echo --bind 127.0.0.1 --port "$port" >/dev/null 2>&1 &
backend=$!
"$build/tools/chat-backend/chat-backend" --strict-http --bind 127.0.0.1 --port "$chat_port" >/dev/null 2>&1 &
chat=$!
trap 'kill $backend $chat 2>/dev/null || true' EXIT
sleep 0.3
check() {
  # json stays set for the checks after a call
  json=$("$build/bench/wsgate-bench" --url "ws://127.0.0.1:$port/echo" --duration 1 --warmup 0 --json-only "$@")
  echo "$json"
  python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert d['count'] > 0 and d['errors'] == 0, d" "$json"
}
check --conns 4
check --conns 4 --rate 2000
# Open loop reports the generator's own send lag (p50 <= p99 <= max).
python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert 0 <= d['send_lag_p50_us'] <= d['send_lag_p99_us'] \
  <= d['send_lag_max_us'] and d['generator_behind'] in (True, False) and d['errors_by_cause'] == {}, d" "$json"
check --conns 2 --mode handshake
# Fan-out: 1 sender, 3 receivers; every delivery is one of ours (the welcome texts are skipped).
json=$("$build/bench/wsgate-bench" --url "ws://127.0.0.1:$chat_port/notifications" --fanout --conns 4 --rate 200 \
  --text --duration 1 --warmup 0.5 --json-only)
echo "$json"
python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert d['workload'] == 'fanout' and d['errors'] == 0 \
  and d['sent_per_s'] > 100 and 2.5 * d['sent_per_s'] <= d['rate_per_s'] <= 3.5 * d['sent_per_s'], d" "$json"
# Every attempt failing exits 1, with the errors by cause: nothing listens on a closed port, and
# the chat sample refuses an unknown room's upgrade.
reserve_port closed
for url_cause in "ws://127.0.0.1:$closed/echo|connect refused" "ws://127.0.0.1:$chat_port/nowhere|HTTP 404"; do
  code=0
  json=$("$build/bench/wsgate-bench" --url "${url_cause%|*}" --conns 2 --duration 0.5 --warmup 0 --json-only 2>"$build/bench-fail.err") || code=$?
  echo "$json"
  [ "$code" = 1 ] || { echo "wsgate-bench exited $code, not 1, when every attempt failed" >&2; exit 1; }
  grep -q "every attempt failed (${url_cause#*|} x " "$build/bench-fail.err" || { cat "$build/bench-fail.err" >&2; exit 1; }
  python3 -c "import json,sys; d=json.loads(sys.argv[1]); c=d['errors_by_cause']; assert list(c) == [sys.argv[2]] \
    and c[sys.argv[2]] == d['errors'] > 0 and d['count'] == 0, d" "$json" "${url_cause#*|}"
done
# --log-format json: its diagnostics are JSON log lines too (no progress display between them).
code=0
"$build/bench/wsgate-bench" --url "ws://127.0.0.1:$closed/echo" --conns 1 --duration 0.5 --warmup 0 --log-format json \
  >/dev/null 2>"$build/bench-fail.err" || code=$?
[ "$code" = 1 ] || { echo "wsgate-bench --log-format json exited $code, not 1" >&2; exit 1; }
python3 -c "import json,sys; lines=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; last=lines[-1]; \
  assert last['level'] == 'ERROR' and last['component'] == 'wsgate-bench' and \
  last['msg'].startswith('every attempt failed (connect refused x '), lines" "$build/bench-fail.err"
rm -f "$build/bench-fail.err"
if "$build/bench/wsgate-bench" --url "ws://127.0.0.1:$chat_port/notifications" --fanout --conns 4 2>/dev/null; then
  echo "--fanout without --rate was accepted" >&2; exit 1
fi
"$build/bench/wsgate_micro_bench" --benchmark_min_time=0.01 >/dev/null
# The control benchmarks refuse to time a wrong answer (a failed route or auth is SkipWithError),
# which Google Benchmark reports in the JSON, not in the exit status.
control_json=$(mktemp)
"$build/bench/wsgate_control_bench" --benchmark_min_time=0.01 --benchmark_filter='-BM_CompileSnapshot' \
  --benchmark_format=json --benchmark_out="$control_json" >/dev/null 2>&1
if grep -q '"error_occurred": true' "$control_json"; then
  echo "wsgate_control_bench reported an error:" >&2; grep -B2 -A2 error_message "$control_json" >&2; exit 1
fi
rm -f "$control_json"
echo "bench smoke: 9 passed, 0 failed"
