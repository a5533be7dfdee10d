#!/usr/bin/env bash
# tools/demo.sh's argument handling and port check, without installing, building or the network:
# --help prints the usage and exits 0; a bad argument exits 2 naming it; a taken port exits 1
# naming the port before "installing dependencies" (nothing is installed or built).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
demo="$root/tools/demo.sh"
work="$(mktemp -d /tmp/wsgate-demo-args-XXXXXX)"
holder=""
cleanup() { [ -n "$holder" ] && kill "$holder" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# run EXPECTED_CODE ARGS... → output in $out
run() {
  local want="$1"; shift
  local code=0
  out="$(WSGATE_DEMO_DIR="$work/data" WSGATE_BUILD_DIR="$work/no-build" bash "$demo" "$@" 2>&1)" || code=$?
  [ "$code" = "$want" ] || fail "tools/demo.sh $* exited $code, not $want: $out"
  if [[ "$out" == *"installing dependencies"* ]]; then fail "tools/demo.sh $* went on to install: $out"; fi
}
has() { [[ "$out" == *"$1"* ]] || fail "expected '$1' in: $out"; }

run 0 --help
has "Usage: tools/demo.sh"
has "--bind ADDR"
has "default 127.0.0.1"
run 0 -h
has "Usage: tools/demo.sh"
run 2 --frobnicate
has "unknown argument '--frobnicate' (see --help)"
run 2 --bind
has "--bind needs a value"
run 2 --bind example.com
has "--bind: 'example.com' is not an IPv4 or IPv6 address"
run 2 --ports "1 2 3"
has "give 5 or 6 port numbers"
run 2 --ports "8080 9099 x 9400 9401"
has "--ports: 'x' is not a port number"
run 2 --ports "1 2 3 4 5 6 7"
has "give 5 or 6 port numbers"

# A taken port (held here by a listener on an ephemeral port): refused before installing.
port_file="$work/port"
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(60)' "$port_file" &
holder=$!
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
taken="$(cat "$port_file")"
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
run 1 --ports "$(free) $taken $(free) $(free) $(free)"
has "port $taken is already in use"
has "--ports"
[ ! -e "$work/no-build" ] || fail "tools/demo.sh configured a build before refusing the port"
echo "demo args: 11 passed, 0 failed"
