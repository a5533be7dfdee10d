// File: tests/support/free_port.h
//
// A loopback TCP port for a process a test starts with a fixed port number (tools/demo.sh,
// redis-server, Prometheus). Binding port 0 and closing it again races: the kernel hands the
// same ephemeral port to the next test that binds port 0 (tests run in parallel), and the child
// then fails with "address already in use". ReserveLoopbackPort picks from below the kernel's
// ephemeral range (net.ipv4.ip_local_port_range), so no bind(0) elsewhere can take it, and
// holds an flock on /tmp/wsgate-test-ports/PORT for the rest of the test process, so no other
// test process reserves it either. The port is free to bind on 127.0.0.1 when it is returned.
#pragma once

#include <cstdint>

namespace wsgate::testing {

// A port as above; aborts the test process when none is found (which means something is badly
// wrong with the machine: thousands of ports below the ephemeral range taken).
uint16_t ReserveLoopbackPort();

}  // namespace wsgate::testing
