#!/usr/bin/env bash
# tools/demo.sh — the README's first command: the WSO2 "Create and Publish a WebSocket API"
# walkthrough on wsgate. Installs what is missing, builds, starts the sample chat backend (8080),
# wsgate-engine (ws 9099, wss 8099) and wsgate-agent (admin 9400, OAuth2 9401), performs the
# publisher's and the developer's steps with wsgatectl, prints the wscat commands to try, and
# stays up until Ctrl-C, which stops everything. Run again, it reuses its data (.wsgate/demo).
#
#   tools/demo.sh
#   WSGATE_DEMO_DIR=/tmp/d WSGATE_DEMO_PORTS="18080 19099 18099 19400 19401" tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
data="${WSGATE_DEMO_DIR:-$root/.wsgate/demo}"
read -r backend_port ws_port wss_port admin_port token_port engine_admin_port <<<"${WSGATE_DEMO_PORTS:-8080 9099 8099 9400 9401 9102}"
# The engine's admin HTTP (/metrics, /readyz): a sixth port, or an ephemeral one when
# WSGATE_DEMO_PORTS names only five.
engine_admin_port="${engine_admin_port:-0}"
build="${WSGATE_BUILD_DIR:-$root/build}"

step() { printf '\n== %s\n' "$*"; }
ok() { printf '   %s\n' "$*"; }

step "installing dependencies (first run only)"
tools/setup.sh
step "building (progress below)"
cmake -S . -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target chat-backend wsgate-engine wsgate-agent wsgatectl

for port in $backend_port $ws_port $wss_port $admin_port $token_port $engine_admin_port; do
  [ "$port" = 0 ] && continue
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use (another demo running?); set WSGATE_DEMO_PORTS to use others" >&2
    exit 1
  fi
done

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
"$build/tools/chat-backend/chat-backend" --port "$backend_port" >"$data/chat-backend.log" 2>&1 &
pids+=($!)
started "$data/chat-backend.log" "Notifications on"
ok "chat-backend    ws://localhost:$backend_port (the tutorial's sample backend)"
"$build/engine/wsgate-engine" --control "unix:$data/engine.sock" --ws-listen "0.0.0.0:$ws_port" \
  --wss-listen "0.0.0.0:$wss_port" --tls-cert "$data/tls/dev.crt" --tls-key "$data/tls/dev.key" --tls-dev-cert \
  --admin-listen "127.0.0.1:$engine_admin_port" >"$data/engine.log" 2>&1 &
pids+=($!)
started "$data/engine.log" "listening for ws"
ok "wsgate-engine   ws://localhost:$ws_port  wss://localhost:$wss_port (self-signed certificate: $data/tls/dev.crt)"
"$build/agent/wsgate-agent" --data-dir "$WSGATE_HOME" --engine "unix:$data/engine.sock" \
  --admin-listen "127.0.0.1:$admin_port" --token-listen "127.0.0.1:$token_port" >"$data/agent.log" 2>&1 &
pids+=($!)
started "$data/agent.log" "admin API on"
ok "wsgate-agent    admin 127.0.0.1:$admin_port, OAuth2 http://127.0.0.1:$token_port"

step "publisher: create, publish and deploy the Chats API"
if ctl api get Chats:1.0.0 >/dev/null 2>&1; then
  ok "Chats:1.0.0 exists (reusing $data)"
else
  ok "$(ctl api create Chats --context /chats --version 1.0.0 --endpoint "ws://localhost:$backend_port")"
  ok "$(ctl topic delete Chats:1.0.0 '/*')"
  ok "$(ctl topic add Chats:1.0.0 /notifications --mapping /notifications)"
  ok "$(ctl topic add Chats:1.0.0 '/rooms/{roomID}' --mapping '/rooms?room={uri.var.roomID}')"
  ok "$(ctl api plans Chats:1.0.0 AsyncGold)"
  ok "$(ctl api lifecycle Chats:1.0.0 Publish)"
fi
if ctl api get Chats:1.0.0 | grep -q "deployed revisions: none"; then
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
ok "access token (1 hour): ${token:0:24}...  (full: $data/token)"
(umask 077 && echo "$token" >"$data/token")

wscat="$root/tools/node_modules/.bin/wscat"
cat <<MSG

== ready: try the walkthrough in other terminals

  $wscat -c ws://localhost:$ws_port/chats/1.0.0/notifications -H "Authorization: Bearer $token"
  $wscat -c ws://localhost:$ws_port/chats/1.0.0/rooms/room1 -H "Authorization: Bearer $token"
  $wscat -n -c wss://localhost:$wss_port/chats/1.0.0/rooms/room1 -H "Authorization: Bearer $token"
  $wscat -c "ws://localhost:$ws_port/chats/1.0.0/notifications?access_token=$token"

The first prints "Subscribed to notifications!"; each room1 client prints "You joined room1!" and the
notifications terminal "Someone joined room1!"; the room1 clients then chat both ways.
More: WSGATE_HOME=$WSGATE_HOME $build/tools/wsgatectl/wsgatectl --agent 127.0.0.1:$admin_port status
Tutorial: docs/walkthrough.md. Press Ctrl-C to stop.
MSG
echo "demo ready" >"$data/ready"
wait
