#!/usr/bin/env bash
# bench/compare.sh — one run, one table: the same WebSocket workloads direct to an echo backend,
# through wsgate, through nginx and through HAProxy (Debian packages), each proxy with one worker
# (wsgate: one shard) pinned to its own core, the load generator and the backend pinned to
# another. Prints each figure and its ratio against direct and against nginx, then the resident
# memory each proxy adds per idle connection.
#
#   bench/compare.sh                 # about 4 minutes
#   WSGATE_BENCH_SECONDS=10 bench/compare.sh
#   WSGATE_BENCH_IDLE_CONNS=8000 bench/compare.sh   # idle row size (default 5000; 2 fds each per proxy)
#
# Loopback only; every process it starts is stopped by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
seconds="${WSGATE_BENCH_SECONDS:-5}"
conns="${WSGATE_BENCH_CONNS:-64}"
build="${WSGATE_BUILD_DIR:-$root/build}"
work="$(mktemp -d /tmp/wsgate-compare-XXXXXX)"

tools/setup.sh --bench >/dev/null
cmake -S . -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target wsgate-bench chat-backend wsgate-engine >/dev/null

cores=$(nproc)
if [ "$cores" -ge 2 ]; then
  proxy_cpu=1; load_cpu=0
  echo "pinning: proxies on CPU $proxy_cpu; load generator and echo backend on CPU $load_cpu ($cores CPUs)"
else
  proxy_cpu=0; load_cpu=0
  echo "one CPU: nothing pinned apart (numbers are indicative only)"
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
backend_port=$(port); ws_port=$(port); wss_port=$(port); nginx_port=$(port); nginx_tls_port=$(port)
haproxy_port=$(port); haproxy_tls_port=$(port)

# The echo backend.
taskset -c "$load_cpu" "$build/tools/chat-backend/chat-backend" --echo --bind 127.0.0.1 --port "$backend_port" \
  >"$work/backend.log" 2>&1 &
pids+=($!)

# wsgate: the walkthrough's config pointed at the echo backend, an opaque token, a dev certificate.
token="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
hash="$(printf '%s' "$token" | sha256sum | cut -c1-64 | sed 's/../\\\\x&/g')"
sed -e "s/BACKEND_PORT/$backend_port/" -e "s/TOKEN_SHA256/$hash/" docs/examples/chats.textproto >"$work/wsgate.textproto"
taskset -c "$proxy_cpu" "$build/engine/wsgate-engine" --config "$work/wsgate.textproto" --shards 1 \
  --ws-listen "127.0.0.1:$ws_port" --wss-listen "127.0.0.1:$wss_port" --control "unix:$work/engine.sock" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --tls-dev-cert --log-level warning >"$work/engine.log" 2>&1 &
engine_pid=$!
pids+=($engine_pid)
sleep 1
cat "$work/cert.pem" "$work/key.pem" >"$work/combined.pem"

# nginx: one worker, WebSocket proxying, TLS with the same certificate.
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  upstream echo { server 127.0.0.1:$backend_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    listen 127.0.0.1:$nginx_tls_port ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://echo;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 3600s;
    }
  }
}
CONF
taskset -c "$proxy_cpu" nginx -c "$work/nginx.conf" -e "$work/nginx/error.log" >"$work/nginx.log" 2>&1 &
nginx_pid=$!
pids+=($nginx_pid)

# HAProxy: one thread, TCP-level WebSocket tunnelling in HTTP mode, TLS with the same certificate.
cat >"$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 9000
defaults
  mode http
  timeout connect 5s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
frontend ws
  bind 127.0.0.1:$haproxy_port
  bind 127.0.0.1:$haproxy_tls_port ssl crt $work/combined.pem
  default_backend echo
backend echo
  server s1 127.0.0.1:$backend_port
CONF
taskset -c "$proxy_cpu" haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=($haproxy_pid)
sleep 1

sum_over_procs() {  # PID FN: FN's number summed over the process and its children (nginx's worker)
  local total=0 p v
  for p in "$1" $(pgrep -P "$1" || true); do
    v=$("$2" "$p" 2>/dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # user+system ticks
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }  # KiB
cpu_ticks() { sum_over_procs "$1" cpu_of; }
rss_kib() { sum_over_procs "$1" rss_of; }

# run NAME PID URL ARGS... → prints the JSON line; records the proxy's CPU use.
run() {
  local pid="$2" url="$3"
  shift 3
  local before after
  before=$(cpu_ticks "$pid")
  local out
  out=$(taskset -c "$load_cpu" "$build/bench/wsgate-bench" --url "$url" --duration "$seconds" --warmup 1 --json-only "$@" 2>/dev/null | tail -1)
  after=$(cpu_ticks "$pid")
  local cpu=0
  if [ "$pid" != 0 ]; then cpu=$(( (after - before) * 100 / $(getconf CLK_TCK) / (seconds + 1) )); fi
  echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(f'{d[\"rate_per_s\"]:.0f} {d[\"p50_us\"]} {d[\"p99_us\"]} {d[\"errors\"]} $cpu')"
}

path="/chats/1.0.0/notifications"
auth=(-H "Authorization: Bearer $token")
declare -A result
rows=("64 B closed loop (msgs/s)|--conns $conns --inflight 4 --size 64"
      "1 KiB closed loop (msgs/s)|--conns $conns --inflight 4 --size 1024"
      "open loop 20k msgs/s, 64 B (p99 us)|--conns $conns --rate 20000 --size 64"
      "upgrades/s (ws)|--mode handshake --conns 32")
tls_rows=("wss 64 B closed loop (msgs/s)|--conns $conns --inflight 4 --size 64 --insecure"
          "wss upgrades/s|--mode handshake --conns 32 --insecure")

printf '\n%-38s %12s %12s %12s %12s   %s\n' "workload" "direct" "wsgate" "nginx" "haproxy" "wsgate/direct  wsgate/nginx  (proxy CPU%: wsgate nginx haproxy)"
emit() {  # name metric-index d w n h cw cn ch
  local name="$1" d="$2" w="$3" n="$4" h="$5" cw="$6" cn="$7" ch="$8"
  python3 - "$name" "$d" "$w" "$n" "$h" "$cw" "$cn" "$ch" <<'PY'
import sys
name, d, w, n, h, cw, cn, ch = sys.argv[1:]
def f(x): return float(x) if x not in ("", "-") else None
D, W, N, H = map(f, (d, w, n, h))
def r(a, b): return f"{a/b:.2f}x" if a is not None and b else "-"
fmt = lambda x: "-" if x is None else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")
print(f"{name:<38} {fmt(D):>12} {fmt(W):>12} {fmt(N):>12} {fmt(H):>12}   {r(W, D):>13} {r(W, N):>13}   ({cw} {cn} {ch})")
PY
}
for row in "${rows[@]}"; do
  name="${row%%|*}"; args="${row#*|}"
  idx=0; [[ "$name" == *"p99"* ]] && idx=2
  read -r -a d <<<"$(run direct 0 "ws://127.0.0.1:$backend_port$path" $args)"
  read -r -a w <<<"$(run wsgate "$engine_pid" "ws://127.0.0.1:$ws_port$path" "${auth[@]}" $args)"
  read -r -a n <<<"$(run nginx "$nginx_pid" "ws://127.0.0.1:$nginx_port$path" $args)"
  read -r -a h <<<"$(run haproxy "$haproxy_pid" "ws://127.0.0.1:$haproxy_port$path" $args)"
  emit "$name" "${d[$idx]}" "${w[$idx]}" "${n[$idx]}" "${h[$idx]}" "${w[4]}" "${n[4]}" "${h[4]}"
done
for row in "${tls_rows[@]}"; do
  name="${row%%|*}"; args="${row#*|}"
  read -r -a w <<<"$(run wsgate "$engine_pid" "wss://127.0.0.1:$wss_port$path" "${auth[@]}" $args)"
  read -r -a n <<<"$(run nginx "$nginx_pid" "wss://127.0.0.1:$nginx_tls_port$path" $args)"
  read -r -a h <<<"$(run haproxy "$haproxy_pid" "wss://127.0.0.1:$haproxy_tls_port$path" $args)"
  emit "$name" "-" "${w[0]}" "${n[0]}" "${h[0]}" "${w[4]}" "${n[4]}" "${h[4]}"
done

# Memory per idle proxied connection: hold $idle_conns connections open through each proxy and
# divide the growth of the proxy's resident set (nginx: master + worker) by the count. Each
# proxy holds two fds per connection, so the default stays well under a 20000-fd limit.
idle_kib() {  # PID URL ARGS... → KiB per open connection, or "-" if not all of them opened
  local pid="$1" url="$2"
  shift 2
  local before during out
  before=$(rss_kib "$pid")
  taskset -c "$load_cpu" "$build/bench/wsgate-bench" --url "$url" --mode idle --conns "$idle_conns" \
    --duration $((seconds + 2)) --warmup 0 --json-only "$@" >"$work/idle.json" 2>/dev/null &
  local bench=$!
  sleep "$seconds"
  during=$(rss_kib "$pid")
  wait "$bench" || true
  python3 - "$work/idle.json" "$before" "$during" "$idle_conns" <<'PY'
import json, sys
path, before, during, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
try:
    d = json.loads(open(path).read().strip().splitlines()[-1])
except Exception:
    print("-"); sys.exit()
print(f"{(during - before) / want:.1f}" if d.get("open_connections") == want else "-")
PY
}
idle_conns="${WSGATE_BENCH_IDLE_CONNS:-5000}"
iw=$(idle_kib "$engine_pid" "ws://127.0.0.1:$ws_port$path" "${auth[@]}")
in=$(idle_kib "$nginx_pid" "ws://127.0.0.1:$nginx_port$path")
ih=$(idle_kib "$haproxy_pid" "ws://127.0.0.1:$haproxy_port$path")
python3 - "$idle_conns" "$iw" "$in" "$ih" <<'PY'
import sys
n, w, ng, h = sys.argv[1:]
f = lambda x: None if x == "-" else float(x)
W, N, H = f(w), f(ng), f(h)
ratio = f"{W / N:.2f}x" if W is not None and N else "-"
print(f"{'RSS per idle connection, ' + n + ' (KiB)':<38} {'-':>12} {w:>12} {ng:>12} {h:>12}   {'-':>13} {ratio:>13}")
PY
echo
echo "wsgate checks an opaque token on every upgrade; nginx and HAProxy check nothing. One shard/worker/thread each."
echo "RSS per idle connection: growth of the proxy's resident set while the connections are held; lower is better."
