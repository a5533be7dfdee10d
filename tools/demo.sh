#!/usr/bin/env bash
# tools/demo.sh — the README's first command: installs what is missing, builds, and starts the
# walkthrough's pieces that exist today (the sample chat backend on port 8080), then stays up
# until Ctrl-C, which stops everything cleanly.
#
#   tools/demo.sh                 # backend on 8080
#   WSGATE_DEMO_PORT=18080 tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
port="${WSGATE_DEMO_PORT:-8080}"

echo "== installing dependencies (first run only)"
tools/setup.sh
echo "== building (progress below)"
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target chat-backend

wscat="$PWD/tools/node_modules/.bin/wscat"
echo "== starting chat-backend on port $port"
build/tools/chat-backend/chat-backend --port "$port" &
backend=$!
stop() { kill -TERM "$backend" 2>/dev/null; wait "$backend" 2>/dev/null; echo "== stopped"; }
trap 'stop; exit 0' INT TERM
sleep 0.3
kill -0 "$backend" 2>/dev/null || { echo "chat-backend did not start (is port $port free?)" >&2; exit 1; }

cat <<MSG

Try it in other terminals (wscat is installed in tools/node_modules):
  $wscat -c ws://localhost:$port/notifications
  $wscat -c "ws://localhost:$port/rooms?room=room1"
  $wscat -c "ws://localhost:$port/rooms?room=room1"     # a second room1 client: chat both ways

The gateway (ws 9099 / wss 8099), agent and wsgatectl join this demo as their issues land.
Press Ctrl-C to stop.
MSG
wait "$backend"
