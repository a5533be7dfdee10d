#!/usr/bin/env bash
# tools/demo.sh — the README's first command: the WSO2 "Create and Publish a WebSocket API"
# walkthrough on wsgate. Installs what is missing, builds, starts the sample chat backend (8080),
# wsgate-engine (ws 9099, wss 8099) and wsgate-agent (admin 9400, OAuth2 9401), performs the
# publisher's and the developer's steps with wsgatectl, prints the wscat commands to try, and
# stays up until Ctrl-C, which stops everything. Run again, it reuses its data (.wsgate/demo);
# a backend port that changed since is written into the reused API (a new revision, deployed).
# Everything listens on 127.0.0.1 only (the sample backend has no authentication); --bind
# 0.0.0.0 exposes the gateway's ws/wss ports to the network (the backend and admin ports stay local).
#
#   tools/demo.sh
#   tools/demo.sh --help
#   WSGATE_DEMO_DIR=/tmp/d WSGATE_DEMO_PORTS="18080 19099 18099 19400 19401" tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

usage() {
  cat <<'USAGE'
Usage: tools/demo.sh [--bind ADDR] [--dir DIR] [--ports "BACKEND WS WSS ADMIN TOKEN [ENGINE_ADMIN]"]

Runs the WSO2 "Create and Publish a WebSocket API" walkthrough on wsgate: installs what is
missing (tools/setup.sh), builds, starts the sample chat backend, wsgate-engine and
wsgate-agent, publishes the Chats API, creates an application with keys and a token, prints the
wscat commands to try, and stays up until Ctrl-C. The ports are checked before anything is
installed or built.

Options:
  --bind ADDR   where the gateway's ws and wss ports listen (default 127.0.0.1; 0.0.0.0 for all
                interfaces). The sample backend (no authentication), the agent's admin API and
                OAuth2 port and the engine's admin port always listen on 127.0.0.1.
  --dir DIR     the demo's data, logs and token (default .wsgate/demo; also WSGATE_DEMO_DIR)
  --ports "..." backend, ws, wss, agent admin, OAuth2 and (optional) engine admin ports
                (default "8080 9099 8099 9400 9401 9102"; also WSGATE_DEMO_PORTS)
  -h, --help    this help

Environment: WSGATE_BUILD_DIR (default build/), WSGATE_DEMO_CONSOLE_PORT (the agent's web console,
default 9443; 0 picks a free one; always 127.0.0.1).
USAGE
}

bind="127.0.0.1"
data="${WSGATE_DEMO_DIR:-$root/.wsgate/demo}"
ports="${WSGATE_DEMO_PORTS:-8080 9099 8099 9400 9401 9102}"
need_value() { [ "$#" -ge 2 ] || { echo "tools/demo.sh: $1 needs a value (see --help)" >&2; exit 2; }; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --bind) need_value "$@"; bind="$2"; shift 2 ;;
    --bind=*) bind="${1#*=}"; shift ;;
    --dir) need_value "$@"; data="$2"; shift 2 ;;
    --dir=*) data="${1#*=}"; shift ;;
    --ports) need_value "$@"; ports="$2"; shift 2 ;;
    --ports=*) ports="${1#*=}"; shift ;;
    *) echo "tools/demo.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
read -r backend_port ws_port wss_port admin_port token_port engine_admin_port extra <<<"$ports"
for port in $backend_port $ws_port $wss_port $admin_port $token_port ${engine_admin_port:-}; do
  if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -gt 65535 ]; then
    echo "tools/demo.sh: --ports: '$port' is not a port number (0-65535)" >&2; exit 2
  fi
done
if [ -z "${token_port:-}" ] || [ -n "${extra:-}" ]; then
  echo "tools/demo.sh: --ports: give 5 or 6 port numbers: BACKEND WS WSS ADMIN TOKEN [ENGINE_ADMIN] (got '$ports')" >&2
  exit 2
fi
if ! [[ "$bind" =~ ^[0-9.]+$|^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$ ]]; then
  echo "tools/demo.sh: --bind: '$bind' is not an IPv4 or IPv6 address (127.0.0.1, 0.0.0.0, ::1)" >&2; exit 2
fi
listen_host="$bind"; [[ "$bind" == *:* ]] && listen_host="[$bind]"
# The engine's admin HTTP (/metrics, /readyz): a sixth port, or an ephemeral one when
# WSGATE_DEMO_PORTS names only five.
engine_admin_port="${engine_admin_port:-0}"
console_port="${WSGATE_DEMO_CONSOLE_PORT:-9443}"
if ! [[ "$console_port" =~ ^[0-9]+$ ]] || [ "$console_port" -gt 65535 ]; then
  echo "tools/demo.sh: WSGATE_DEMO_CONSOLE_PORT: '$console_port' is not a port number (0-65535)" >&2; exit 2
fi
build="${WSGATE_BUILD_DIR:-$root/build}"

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   %s\n' "$*"; }

# Before installing or building anything: a taken port would only fail after minutes.
for port in $backend_port $ws_port $wss_port $admin_port $token_port $engine_admin_port $console_port; do
  [ "$port" = 0 ] && continue
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "tools/demo.sh: port $port is already in use (another demo running?); pick others with --ports (see --help)" >&2
    exit 1
  fi
done

step "installing dependencies (first run only)"
tools/setup.sh
step "building (progress below)"
cmake -S . -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target chat-backend wsgate-engine wsgate-agent wsgatectl

mkdir -p "$data/tls"
chmod 700 "$data"
export WSGATE_HOME="$data/agent"
ctl() { "$build/tools/wsgatectl/wsgatectl" --agent "127.0.0.1:$admin_port" "$@"; }

pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "== stopped"
}
trap 'stop; exit 0' INT TERM
started() {  # wait for a log line, or fail showing the log
  for _ in $(seq 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "did not start; see $1:" >&2
  tail -n 5 "$1" >&2
  stop
  exit 1
}

step "starting chat-backend, wsgate-engine and wsgate-agent (logs in $data)"
"$build/tools/chat-backend/chat-backend" --bind 127.0.0.1 --port "$backend_port" >"$data/chat-backend.log" 2>&1 &
pids+=($!)
started "$data/chat-backend.log" "Notifications on"
ok "chat-backend    ws://localhost:$backend_port (the tutorial's sample backend; 127.0.0.1 only)"
"$build/engine/wsgate-engine" --control "unix:$data/engine.sock" --ws-listen "$listen_host:$ws_port" \
  --wss-listen "$listen_host:$wss_port" --tls-cert "$data/tls/dev.crt" --tls-key "$data/tls/dev.key" --tls-dev-cert \
  --admin-listen "127.0.0.1:$engine_admin_port" >"$data/engine.log" 2>&1 &
pids+=($!)
started "$data/engine.log" "listening for ws"
ok "wsgate-engine   ws://localhost:$ws_port  wss://localhost:$wss_port on $bind (self-signed certificate: $data/tls/dev.crt)"
"$build/agent/wsgate-agent" --data-dir "$WSGATE_HOME" --engine "unix:$data/engine.sock" \
  --admin-listen "127.0.0.1:$admin_port" --token-listen "127.0.0.1:$token_port" \
  --console-listen "127.0.0.1:$console_port" >"$data/agent.log" 2>&1 &
pids+=($!)
started "$data/agent.log" "HTTP/JSON admin API on"
console_url="http://127.0.0.1:$(sed -n 's/.*HTTP\/JSON admin API on .* (port \([0-9]*\)).*/\1/p' "$data/agent.log" | head -1)/"
ok "wsgate-agent    admin 127.0.0.1:$admin_port, OAuth2 http://127.0.0.1:$token_port, console $console_url"

step "publisher: create, publish and deploy the Chats API"
endpoint="ws://localhost:$backend_port"
redeploy=false
if ctl api get Chats:1.0.0 >/dev/null 2>&1; then
  ok "Chats:1.0.0 exists (reusing $data)"
  # A later run with another backend port: the reused API must point at it (else a silent 502).
  current="$(ctl api get Chats:1.0.0 -o json | python3 -c 'import json,sys
def find(d):
    if isinstance(d, dict):
        if isinstance(d.get("production_endpoint"), dict): return d["production_endpoint"].get("url", "")
        for v in d.values():
            r = find(v)
            if r is not None: return r
    return None
print(find(json.load(sys.stdin)) or "")')"
  if [ "$current" != "$endpoint" ]; then
    ok "$(ctl api update Chats:1.0.0 --endpoint "$endpoint")"
    ok "the backend moved: endpoint ${current:-(none)} -> $endpoint"
    redeploy=true
  fi
else
  ok "$(ctl api create Chats --context /chats --version 1.0.0 --endpoint "$endpoint")"
  ok "$(ctl topic delete Chats:1.0.0 '/*')"
  ok "$(ctl topic add Chats:1.0.0 /notifications --mapping /notifications)"
  ok "$(ctl topic add Chats:1.0.0 '/rooms/{roomID}' --mapping '/rooms?room={uri.var.roomID}')"
  ok "$(ctl api plans Chats:1.0.0 AsyncGold)"
  ok "$(ctl api lifecycle Chats:1.0.0 Publish)"
fi
if $redeploy || ctl api get Chats:1.0.0 | grep -q "deployed revisions: none"; then
  revision="$(ctl revision create Chats:1.0.0)"
  ok "Created revision $revision"
  ok "$(ctl revision deploy Chats:1.0.0 "$revision" --env "Production and Sandbox" --vhost localhost)"
else
  ok "$(ctl api get Chats:1.0.0 | grep 'deployed revisions')"
fi

step "developer: application, subscription, keys and an access token"
if ctl app get ChatApp >/dev/null 2>&1; then ok "ChatApp exists"; else ok "$(ctl app create ChatApp)"; fi
if ctl subscription list --app ChatApp | grep -q "Chats:1.0.0"; then
  ok "ChatApp is subscribed to Chats:1.0.0"
else
  ok "$(ctl subscription create ChatApp Chats:1.0.0 --plan AsyncGold)"
fi
if ctl keys list ChatApp | grep -q PRODUCTION; then
  ok "production keys exist (first shown in $data/keys.txt)"
else
  (umask 077 && ctl keys generate ChatApp --type PRODUCTION >"$data/keys.txt")
  sed 's/^/   /' "$data/keys.txt"
fi
token="$(ctl token ChatApp --type PRODUCTION)"
(umask 077 && echo "$token" >"$data/token")
ok "access token (1 hour) in $data/token"

# Short commands: the token once in $TOKEN, wscat by its path relative to the repository.
wscat="tools/node_modules/.bin/wscat"
cat <<MSG

== ready: try the walkthrough in other terminals (in $root)

  export TOKEN=\$(cat $data/token)
  $wscat -c ws://localhost:$ws_port/chats/1.0.0/notifications -H "Authorization: Bearer \$TOKEN"
  $wscat -c ws://localhost:$ws_port/chats/1.0.0/rooms/room1 -H "Authorization: Bearer \$TOKEN"
  $wscat -n -c wss://localhost:$wss_port/chats/1.0.0/rooms/room1 -H "Authorization: Bearer \$TOKEN"
  $wscat -c "ws://localhost:$ws_port/chats/1.0.0/notifications?access_token=\$TOKEN"

The first prints "Subscribed to notifications!"; each room1 client prints "You joined room1!" and the
notifications terminal "Someone joined room1!"; the room1 clients then chat both ways.
The same steps in a browser: the web console at $console_url (sign in with the contents of
$WSGATE_HOME/admin.token); docs/console.md.
More: WSGATE_HOME=$WSGATE_HOME $build/tools/wsgatectl/wsgatectl --agent 127.0.0.1:$admin_port status
Tutorial: docs/walkthrough.md. Press Ctrl-C to stop.
MSG
echo "demo ready" >"$data/ready"
wait
