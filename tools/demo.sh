#!/usr/bin/env bash
# tools/demo.sh — the README's first command: installs what is missing, builds, and brings up the
# walkthrough as far as it exists today: the sample chat backend on 8080 and the wsgate engine on
# 9099 serving the Chats API (/chats/1.0.0, topics /notifications and /rooms/{roomID}), with a
# development access token. It stays up until Ctrl-C, which stops everything cleanly.
# Run twice, it reuses its data (.wsgate/demo) and its token.
#
#   tools/demo.sh
#   WSGATE_DEMO_BACKEND_PORT=18080 WSGATE_DEMO_WS_PORT=19099 tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
backend_port="${WSGATE_DEMO_BACKEND_PORT:-8080}"
ws_port="${WSGATE_DEMO_WS_PORT:-9099}"
data=".wsgate/demo"

echo "== installing dependencies (first run only)"
tools/setup.sh
echo "== building (progress below)"
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target chat-backend wsgate-engine

mkdir -p "$data"
chmod 700 "$data"
if [ ! -s "$data/token" ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' >"$data/token")
fi
token="$(cat "$data/token")"
# The engine knows opaque tokens only by their SHA-256, written as a text-proto bytes literal.
# (Doubled backslashes: the second sed below would otherwise read \xNN as an escape itself.)
hash="$(printf '%s' "$token" | sha256sum | cut -c1-64 | sed 's/../\\\\x&/g')"
sed -e "s/BACKEND_PORT/$backend_port/" -e "s/TOKEN_SHA256/$hash/" docs/examples/chats.textproto >"$data/chats.textproto"

pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "== stopped"
}
trap 'stop; exit 0' INT TERM

echo "== starting chat-backend on port $backend_port and wsgate-engine on port $ws_port"
build/tools/chat-backend/chat-backend --port "$backend_port" >"$data/chat-backend.log" 2>&1 &
pids+=($!)
build/engine/wsgate-engine --config "$data/chats.textproto" --ws-listen "0.0.0.0:$ws_port" \
  --control "unix:$PWD/$data/engine.sock" >"$data/engine.log" 2>&1 &
pids+=($!)
sleep 0.5
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || {
    echo "a process did not start; see $data/chat-backend.log and $data/engine.log" >&2
    tail -n 5 "$data"/*.log >&2
    stop
    exit 1
  }
done

wscat="$PWD/tools/node_modules/.bin/wscat"
cat <<MSG

The Chats API is up. In other terminals (wscat is installed in tools/node_modules):

  $wscat -c ws://localhost:$ws_port/chats/1.0.0/notifications -H "Authorization: Bearer $token"
  $wscat -c ws://localhost:$ws_port/chats/1.0.0/rooms/room1 -H "Authorization: Bearer $token"
  $wscat -c "ws://localhost:$ws_port/chats/1.0.0/rooms/room1?access_token=$token"

The first prints "Subscribed to notifications!"; each room1 client prints "You joined room1!"
and the first terminal "Someone joined room1!"; the two room1 clients then chat both ways.
Logs: $data/engine.log, $data/chat-backend.log. wss (8099), the agent and wsgatectl join this
demo as their issues land. Press Ctrl-C to stop.
MSG
wait
