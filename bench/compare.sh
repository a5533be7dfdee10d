#!/usr/bin/env bash
# bench/compare.sh — one run, one table: the same WebSocket workloads direct to an echo backend,
# through wsgate, through nginx and through HAProxy (Debian packages), each proxy with the same
# number of workers (wsgate: shards) pinned to their own cores, the load generator and the
# backend pinned to the others. Prints each figure and its ratio against direct and against
# nginx, then the resident memory each proxy adds per idle connection.
#
#   bench/compare.sh                                  # about 8 minutes on 2 cores
#   WSGATE_BENCH_SECONDS=10 bench/compare.sh          # seconds measured per row (default 5)
#   WSGATE_BENCH_SHARDS=2 bench/compare.sh            # workers per proxy (default 1)
#   WSGATE_BENCH_ROWS=throughput bench/compare.sh     # only some rows (below)
#   WSGATE_BENCH_IDLE_CONNS=8000 bench/compare.sh     # idle row size (default 5000)
#   WSGATE_BENCH_TLS_KEY=rsa bench/compare.sh         # wss certificate: ec (P-256, default) or rsa (2048)
#   WSGATE_ENGINE=/other/build/engine/wsgate-engine bench/compare.sh   # another engine binary
#   ENGINE_ARGS="--admin-listen 127.0.0.1:0" bench/compare.sh          # extra engine flags (word-split)
#                                                     # (the load generator and backend stay build/'s)
#
# Row groups for WSGATE_BENCH_ROWS (comma-separated; default all): throughput (64 B and 1 KiB
# closed loop), latency (open loop at a fixed rate, and the highest rate whose added p99 stays
# under 1 ms), fanout (one sender, every other connection of a chat room receives), upgrades
# (wsgate verifies an RS256 JWT), tls (wss), idle (memory per idle connection).
#
# Loopback only; every process it starts is stopped by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
seconds="${WSGATE_BENCH_SECONDS:-5}"
conns="${WSGATE_BENCH_CONNS:-64}"
shards="${WSGATE_BENCH_SHARDS:-1}"
rows_wanted=",${WSGATE_BENCH_ROWS:-throughput,latency,fanout,upgrades,tls,idle},"
idle_conns="${WSGATE_BENCH_IDLE_CONNS:-5000}"
build="${WSGATE_BUILD_DIR:-$root/build}"
engine="${WSGATE_ENGINE:-$build/engine/wsgate-engine}"
work="$(mktemp -d /tmp/wsgate-compare-XXXXXX)"
want() { [[ "$rows_wanted" == *",$1,"* ]]; }

tools/setup.sh --bench >/dev/null
cmake -S . -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target wsgate-bench chat-backend wsgate-engine >/dev/null

# Pinning: proxies on CPUs 1..shards, the load generator and the backend on the rest (CPU 0 and
# any beyond the proxies'). With too few CPUs for that, nothing is pinned apart.
cores=$(nproc)
if [ "$cores" -ge $((shards + 1)) ]; then
  proxy_cpus="1-$shards"
  load_cpus="0"
  [ "$cores" -gt $((shards + 1)) ] && load_cpus="0,$((shards + 1))-$((cores - 1))"
  echo "pinning: proxies ($shards worker(s) each) on CPUs $proxy_cpus; load generator and echo backend on CPUs $load_cpus ($cores CPUs)"
else
  proxy_cpus="0-$((cores - 1))"; load_cpus="$proxy_cpus"
  echo "$cores CPUs for $shards proxy worker(s) + the load generator: nothing pinned apart (the load generator competes with the proxy)"
fi
load_threads=$(( $(taskset -c "$load_cpus" nproc) > 1 ? $(taskset -c "$load_cpus" nproc) - 1 : 1 ))

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

# The backend: chat-backend --echo for every row but fan-out, which restarts it as the chat sample.
start_backend() {  # [--echo]
  taskset -c "$load_cpus" "$build/tools/chat-backend/chat-backend" "$@" --bind 127.0.0.1 --port "$backend_port" \
    --max-connections 20000 >"$work/backend.log" 2>&1 &
  backend_pid=$!
  pids+=($backend_pid)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$backend_port") 2>/dev/null && return; sleep 0.1; done
}
start_backend --echo

# wsgate: the walkthrough's config pointed at the echo backend, with an opaque token for the relay
# rows and an RS256 signing key for the upgrade row's JWT; a dev certificate for wss.
token="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
hash="$(printf '%s' "$token" | sha256sum | cut -c1-64 | sed 's/../\\\\x&/g')"
sed -e "s|ws://localhost:8080|ws://localhost:$backend_port|" -e "s/sha256: \"[^\"]*\"/sha256: \"$hash\"/" docs/examples/chats.textproto >"$work/wsgate.textproto"
# The walkthrough's AsyncGold plan allows 50,000 events a day; the benchmark's subscription gets a
# plan it cannot use up, so wsgate checks and counts every frame, as in production, and drops none.
sed -i 's/ plan: "AsyncGold"/ plan: "Bench"/' "$work/wsgate.textproto"
echo 'throttle_policies { name: "Bench" level: SUBSCRIPTION events: 1000000000000 unit: DAY stop_on_quota_reach: true }' \
  >>"$work/wsgate.textproto"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/jwt.key" 2>/dev/null
openssl pkey -in "$work/jwt.key" -pubout -out "$work/jwt.pub"
jwt=$(python3 - "$work/jwt.key" <<'PY'
import base64, json, subprocess, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
head = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "bench"}).encode())
body = b64(json.dumps({"iss": "wsgate-bench", "client_id": "chatapp-production", "key_type": "PRODUCTION",
                       "jti": "bench-jwt", "exp": int(time.time()) + 86400}).encode())
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", sys.argv[1]], input=f"{head}.{body}".encode(),
                     capture_output=True, check=True).stdout
print(f"{head}.{body}.{b64(sig)}")
PY
)
printf 'signing_keys { kid: "bench" algorithm: RS256 public_key_pem: "%s" }\n' "$(awk '{printf "%s\\n", $0}' "$work/jwt.pub")" \
  >>"$work/wsgate.textproto"
# The wss certificate every proxy serves: ECDSA P-256 (default, as the issue's measurement) or
# RSA-2048 (WSGATE_BENCH_TLS_KEY=rsa); self-signed for localhost, made here with OpenSSL.
tls_key_type="${WSGATE_BENCH_TLS_KEY:-ec}"
case "$tls_key_type" in
  ec) key_args=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  rsa) key_args=(-newkey rsa:2048) ;;
  *) echo "compare.sh: WSGATE_BENCH_TLS_KEY must be ec or rsa, not '$tls_key_type'" >&2; exit 2 ;;
esac
openssl req -x509 "${key_args[@]}" -nodes -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -days 2 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
echo "engine: $engine; wss certificate: $tls_key_type"
taskset -c "$proxy_cpus" "$engine" --config "$work/wsgate.textproto" --shards "$shards" \
  --ws-listen "127.0.0.1:$ws_port" --wss-listen "127.0.0.1:$wss_port" --control "unix:$work/engine.sock" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --log-level warning ${ENGINE_ARGS:-} \
  >"$work/engine.log" 2>&1 &
engine_pid=$!
pids+=($engine_pid)
sleep 1
cat "$work/cert.pem" "$work/key.pem" >"$work/combined.pem"
# The config is derived from docs/examples/chats.textproto by sed: if that file changed shape, the
# rows would measure refused upgrades. Check the route and the token once before measuring.
if ! "$build/bench/wsgate-bench" --url "ws://127.0.0.1:$ws_port/chats/1.0.0/notifications" --mode handshake --conns 1 \
     --duration 0.3 --warmup 0 --json-only -H "Authorization: Bearer $token" >"$work/probe.json" 2>&1; then
  echo "compare.sh: wsgate refuses the benchmark's upgrade ($(tail -c 300 "$work/probe.json")); did docs/examples/chats.textproto change? Engine log:" >&2
  tail -5 "$work/engine.log" >&2
  exit 1
fi

# nginx: the same number of workers, WebSocket proxying, TLS with the same certificate.
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
worker_processes $shards;
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
    listen 127.0.0.1:$nginx_port reuseport;
    listen 127.0.0.1:$nginx_tls_port ssl reuseport;
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
taskset -c "$proxy_cpus" nginx -c "$work/nginx.conf" -e "$work/nginx/error.log" >"$work/nginx.log" 2>&1 &
nginx_pid=$!
pids+=($nginx_pid)

# HAProxy: the same number of threads, TCP-level WebSocket tunnelling in HTTP mode, same certificate.
cat >"$work/haproxy.cfg" <<CONF
global
  nbthread $shards
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
taskset -c "$proxy_cpus" haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
pids+=($haproxy_pid)
sleep 1

sum_over_procs() {  # PID FN: FN's number summed over the process and its children (nginx's workers)
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

path="/chats/1.0.0/notifications"  # wsgate's route; the echo backend answers any path
backend_path="$path"               # the chat sample (fan-out row) only knows /notifications
auth=(-H "Authorization: Bearer $token")
jwt_auth=(-H "Authorization: Bearer $jwt")
# Each target: name, the PID whose CPU is counted (0: none), ws URL, wss URL, auth arguments.
url_of() {  # TARGET SCHEME → URL
  case "$1:$2" in
    direct:ws) echo "ws://127.0.0.1:$backend_port$backend_path" ;;
    wsgate:ws) echo "ws://127.0.0.1:$ws_port$path" ;;
    wsgate:wss) echo "wss://127.0.0.1:$wss_port$path" ;;
    nginx:ws) echo "ws://127.0.0.1:$nginx_port$backend_path" ;;
    nginx:wss) echo "wss://127.0.0.1:$nginx_tls_port$backend_path" ;;
    haproxy:ws) echo "ws://127.0.0.1:$haproxy_port$backend_path" ;;
    haproxy:wss) echo "wss://127.0.0.1:$haproxy_tls_port$backend_path" ;;
  esac
}
pid_of() { case "$1" in direct) echo 0 ;; wsgate) echo "$engine_pid" ;; nginx) echo "$nginx_pid" ;; haproxy) echo "$haproxy_pid" ;; esac; }

# bench TARGET SCHEME WARMUP SECONDS ARGS... → "rate p50 p99 errors cpu%" (CPU of the proxy).
bench() {
  local target="$1" scheme="$2" warm="$3" secs="$4"
  shift 4
  local pid before after cpu=0 out
  pid=$(pid_of "$target")
  [ "$pid" != 0 ] && before=$(cpu_ticks "$pid")
  out=$(taskset -c "$load_cpus" "$build/bench/wsgate-bench" --url "$(url_of "$target" "$scheme")" \
          --duration "$secs" --warmup "$warm" --json-only "$@" 2>/dev/null | tail -1) || true  # exit 1: all failed
  if [ "$pid" != 0 ]; then
    after=$(cpu_ticks "$pid")
    cpu=$(python3 -c "print(round(($after - $before) * 100 / $(getconf CLK_TCK) / ($secs + $warm)))")
  fi
  echo "$out" | python3 -c "import json,sys
try:
    d = json.load(sys.stdin); print(f'{d[\"rate_per_s\"]:.0f} {d[\"p50_us\"]} {d[\"p99_us\"]} {d[\"errors\"]} $cpu')
except Exception:
    print('- - - - $cpu')"
}

printf '\n%-44s %10s %10s %10s %10s   %13s %13s   %s\n' "workload" "direct" "wsgate" "nginx" "haproxy" "wsgate/direct" "wsgate/nginx" "(proxy CPU %: wsgate nginx haproxy)"
emit() {  # NAME D W N H [CPU_W CPU_N CPU_H] — "-" for a missing figure
  python3 - "$@" <<'PY'
import sys
a = sys.argv[1:] + ["", "", ""]
name, d, w, n, h, cw, cn, ch = a[:8]
def f(x):
    try: return float(x)
    except ValueError: return None
D, W, N, H = map(f, (d, w, n, h))
r = lambda x, y: f"{x / y:.2f}x" if x is not None and y else "-"
fmt = lambda x: "-" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.1f}")
cpu = f"({cw} {cn} {ch})" if cw else ""
print(f"{name:<44} {fmt(D):>10} {fmt(W):>10} {fmt(N):>10} {fmt(H):>10}   {r(W, D):>13} {r(W, N):>13}   {cpu}")
PY
}
per_cpu() {  # RATE CPU% → RATE per CPU-second of the proxy
  python3 -c "import sys; r, c = sys.argv[1:]; print('-' if r == '-' or c in ('', '-', '0') else f'{float(r) * 100 / float(c):.0f}')" "$1" "$2"
}
sub() { python3 -c "import sys; a,b=sys.argv[1:]; print('-' if '-' in (a,b) else f'{float(a)-float(b):.1f}')" "$1" "$2"; }

# Closed loop: throughput.
closed_row() {  # NAME ARGS...
  local name="$1"; shift
  local t; declare -A r
  for t in direct wsgate nginx haproxy; do
    local a=("$@"); [ "$t" = wsgate ] && a+=("${auth[@]}")
    read -r -a v <<<"$(bench "$t" ws 1 "$seconds" --threads "$load_threads" "${a[@]}")"
    r[$t]="${v[0]}"; r[cpu_$t]="${v[4]}"
  done
  emit "$name" "${r[direct]}" "${r[wsgate]}" "${r[nginx]}" "${r[haproxy]}" "${r[cpu_wsgate]}" "${r[cpu_nginx]}" "${r[cpu_haproxy]}"
  if [ "${r[wsgate]}" = - ] || [ "${r[wsgate]}" = 0 ]; then
    echo "  wsgate relayed nothing; its log says:" >&2; tail -5 "$work/engine.log" >&2
  fi
  # Per core: messages per second of the proxy's own CPU time (the load generator may be the
  # limit before a proxy is; this says what each proxy's CPU buys).
  emit "  per proxy CPU-second" - "$(per_cpu "${r[wsgate]}" "${r[cpu_wsgate]}")" "$(per_cpu "${r[nginx]}" "${r[cpu_nginx]}")" \
    "$(per_cpu "${r[haproxy]}" "${r[cpu_haproxy]}")"
}
if want throughput; then
  closed_row "64 B closed loop (msgs/s)" --conns "$conns" --inflight 4 --size 64
  closed_row "1 KiB closed loop (msgs/s)" --conns "$conns" --inflight 4 --size 1024
fi

# Open loop at a fixed rate: p99 and the p99 each proxy adds to the direct path. Latency rows take
# the median of three runs: the VM's occasional stalls would otherwise decide a p99.
latency_rate="${WSGATE_BENCH_RATE:-20000}"
if want latency; then
  median_p99() {  # TARGET RATE SECONDS → "achieved p99" of the median-p99 run of three ("- -" if any failed)
    local t="$1" rate="$2" secs="$3" runs=() v a
    for _ in 1 2 3; do
      a=(--conns "$conns" --rate "$rate" --size 64); [ "$t" = wsgate ] && a+=("${auth[@]}")
      read -r -a v <<<"$(bench "$t" ws 1 "$secs" "${a[@]}")"
      [ "${v[0]}" = - ] && { echo "- -"; return; }
      runs+=("${v[2]} ${v[0]}")
    done
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p | awk '{print $2, $1}'
  }
  declare -A p99
  for t in direct wsgate nginx haproxy; do
    read -r _ p99[$t] <<<"$(median_p99 "$t" "$latency_rate" "$seconds")"
  done
  emit "open loop ${latency_rate} msgs/s, 64 B: p99 (us)" "${p99[direct]}" "${p99[wsgate]}" "${p99[nginx]}" "${p99[haproxy]}"
  emit "  p99 added to direct (us)" - "$(sub "${p99[wsgate]}" "${p99[direct]}")" "$(sub "${p99[nginx]}" "${p99[direct]}")" \
    "$(sub "${p99[haproxy]}" "${p99[direct]}")"

  # The highest rate at which the added p99 stays at or under 1 ms and the rate is achieved: rates
  # in steps of 25k msgs/s, every target measured three times per step (the median decides; one
  # VM stall of 30 ms is 1 % of a 3-second step and would decide a single run), each proxy until
  # its first failing step. A step where the direct path itself misses the rate ends the ladder:
  # the figures left are floors.
  declare -A best fail
  direct_ran_out=""
  for rate in 25000 50000 75000 100000 125000 150000 175000 200000 225000 250000 300000; do
    read -r d_rate d_p99 <<<"$(median_p99 direct "$rate" 2)"
    if [ "$d_rate" = - ] || ! python3 -c "import sys; sys.exit(0 if $d_rate >= 0.97 * $rate else 1)"; then
      direct_ran_out=1; break
    fi
    live=0
    for t in wsgate nginx haproxy; do
      [ -n "${fail[$t]:-}" ] && continue
      read -r t_rate t_p99 <<<"$(median_p99 "$t" "$rate" 2)"
      if [ "$t_rate" != - ] && python3 -c "import sys; sys.exit(0 if $t_rate >= 0.97 * $rate and $t_p99 - $d_p99 <= 1000 else 1)"; then
        best[$t]=$rate; live=1
      else
        fail[$t]=$rate
      fi
    done
    [ "$live" = 0 ] && break
  done
  emit "highest rate with added p99 <= 1 ms (msgs/s)" - "${best[wsgate]:-0}" "${best[nginx]:-0}" "${best[haproxy]:-0}"
  if [ -n "$direct_ran_out" ]; then
    for t in wsgate nginx haproxy; do
      [ -z "${fail[$t]:-}" ] && echo "  ($t never failed: its figure is a floor, where the direct path ran out)"
    done
  fi
fi

# Upgrades/s: connect, upgrade, close, repeat. wsgate verifies an RS256 JWT (its per-shard token
# cache makes repeats of one token cost a lookup, as reconnecting clients do); the others check
# nothing.
if want upgrades; then
  declare -A u
  for t in direct wsgate nginx haproxy; do
    a=(--mode handshake --conns 32 --threads "$load_threads"); [ "$t" = wsgate ] && a+=("${jwt_auth[@]}")
    read -r -a v <<<"$(bench "$t" ws 1 "$seconds" "${a[@]}")"
    u[$t]="${v[0]}"; u[cpu_$t]="${v[4]}"
  done
  emit "ws upgrades/s (wsgate verifies a JWT)" "${u[direct]}" "${u[wsgate]}" "${u[nginx]}" "${u[haproxy]}" \
    "${u[cpu_wsgate]}" "${u[cpu_nginx]}" "${u[cpu_haproxy]}"
fi

if want tls; then
  for row in "wss 64 B closed loop (msgs/s)|--conns $conns --inflight 4 --size 64 --insecure --threads $load_threads" \
             "wss upgrades/s|--mode handshake --conns 32 --insecure --threads $load_threads" \
             "wss upgrades/s, resumed TLS sessions|--mode handshake --conns 32 --insecure --tls-resume --threads $load_threads"; do
    name="${row%%|*}"; read -r -a args <<<"${row#*|}"
    declare -A s
    for t in wsgate nginx haproxy; do
      a=("${args[@]}"); [ "$t" = wsgate ] && a+=("${auth[@]}")
      read -r -a v <<<"$(bench "$t" wss 1 "$seconds" "${a[@]}")"
      s[$t]="${v[0]}"; s[cpu_$t]="${v[4]}"
    done
    emit "$name" - "${s[wsgate]}" "${s[nginx]}" "${s[haproxy]}" "${s[cpu_wsgate]}" "${s[cpu_nginx]}" "${s[cpu_haproxy]}"
  done
fi

# Memory per idle proxied connection: hold N/2 and then N connections open through each proxy.
# "per connection" is the growth of the proxy's resident set (nginx: master + workers) from N/2
# to N divided by N/2 (what one more connection costs); "incl. fixed" divides the growth from
# before the first connection by N (so it also carries fixed costs that the first connections
# touch, such as wsgate's receive-buffer pages). Each proxy holds two fds per connection.
idle_rss() {  # TARGET COUNT → RSS (KiB) with COUNT idle connections held, or "-" if not all opened
  local t="$1" n="$2" pid during bench_pid
  pid=$(pid_of "$t")
  local a=(--mode idle --conns "$n" --sources many); [ "$t" = wsgate ] && a+=("${auth[@]}")
  taskset -c "$load_cpus" "$build/bench/wsgate-bench" --url "$(url_of "$t" ws)" --duration $((seconds + 2)) \
    --warmup 0 --json-only "${a[@]}" >"$work/idle.json" 2>/dev/null &
  bench_pid=$!
  sleep "$seconds"
  during=$(rss_kib "$pid")
  wait "$bench_pid" || true
  python3 -c "import json,sys
d = json.loads(open('$work/idle.json').read().strip().splitlines()[-1])
print($during if d.get('open_connections') == $n else '-')" 2>/dev/null || echo -
}
if want idle; then
  declare -A per incl
  for t in wsgate nginx haproxy; do
    pid=$(pid_of "$t")
    before=$(rss_kib "$pid")
    half=$(idle_rss "$t" $((idle_conns / 2)))
    sleep 1
    full=$(idle_rss "$t" "$idle_conns")
    per[$t]=$(python3 -c "print('-' if '-' in ('$half', '$full') else f'{($full - $half) / ($idle_conns / 2):.1f}')")
    incl[$t]=$(python3 -c "print('-' if '$full' == '-' else f'{($full - $before) / $idle_conns:.1f}')")
  done
  emit "RSS per idle connection, $((idle_conns / 2))->$idle_conns (KiB)" - "${per[wsgate]}" "${per[nginx]}" "${per[haproxy]}"
  emit "  incl. fixed costs, 0->$idle_conns (KiB)" - "${incl[wsgate]}" "${incl[nginx]}" "${incl[haproxy]}"
fi

# Fan-out (last: it swaps the echo backend for the chat sample): one sender per load thread at
# 1,000 msgs/s in total, every other connection of the room receives each message.
if want fanout; then
  kill "$backend_pid"; wait "$backend_pid" 2>/dev/null || true
  start_backend
  backend_path=/notifications
  fan_rate="${WSGATE_BENCH_FANOUT_RATE:-1000}"
  declare -A f
  for t in direct wsgate nginx haproxy; do
    a=(--fanout --conns "$conns" --rate "$fan_rate" --size 64); [ "$t" = wsgate ] && a+=("${auth[@]}")
    read -r -a v <<<"$(bench "$t" ws 1 "$seconds" "${a[@]}")"
    f[$t]="${v[2]}"; f[rate_$t]="${v[0]}"; f[cpu_$t]="${v[4]}"
  done
  emit "fan-out 1->$((conns - 1)), ${fan_rate} msgs/s: p99 (us)" "${f[direct]}" "${f[wsgate]}" "${f[nginx]}" "${f[haproxy]}" \
    "${f[cpu_wsgate]}" "${f[cpu_nginx]}" "${f[cpu_haproxy]}"
  emit "  deliveries/s" "${f[rate_direct]}" "${f[rate_wsgate]}" "${f[rate_nginx]}" "${f[rate_haproxy]}"
fi

echo
echo "wsgate checks an opaque token (relay rows) or an RS256 JWT (ws upgrades) on every upgrade; nginx and HAProxy check nothing."
echo "wss rows: every proxy serves the same $tls_key_type certificate (WSGATE_BENCH_TLS_KEY=ec|rsa)."
echo "$shards worker(s) per proxy; load generator: $load_threads thread(s) on CPUs $load_cpus. Lower is better for latency and memory rows."
