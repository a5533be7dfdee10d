# tests/smoke/ports.sh: sourced by the smoke scripts. reserve_port VAR sets VAR to a loopback
# port for a child started with a fixed port number, the way tests/support/free_port.cc does:
# below the kernel's ephemeral range (so no parallel test's bind(0) takes it between our pick and
# the child's bind) and flock'ed in /tmp/wsgate-test-ports for the rest of this shell (so no
# other test process picks it).
reserve_port() {
  local _low _high _port _lock_fd _tries=0
  read -r _low _high </proc/sys/net/ipv4/ip_local_port_range || _low=32768
  _high=$((_low - 1)); _low=10000
  mkdir -p /tmp/wsgate-test-ports && chmod 1777 /tmp/wsgate-test-ports 2>/dev/null || true
  while [ $((_tries += 1)) -le 2000 ]; do
    _port=$((_low + (RANDOM * 32768 + RANDOM) % (_high - _low + 1)))
    exec {_lock_fd}>"/tmp/wsgate-test-ports/$_port" || continue
    if flock -n "$_lock_fd" && python3 -c 'import socket,sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$_port" 2>/dev/null; then
      printf -v "$1" '%s' "$_port"
      return 0
    fi
    exec {_lock_fd}>&-
  done
  echo "reserve_port: no free port below $((_high + 1)) after 2000 tries" >&2
  return 1
}
