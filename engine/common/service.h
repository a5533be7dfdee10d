// File: engine/common/service.h
//
// What wsgate-engine and wsgate-agent share about running as a service:
//  - the engine's default control socket, which is also the agent's default --engine, so that
//    the two started with no flags find each other;
//  - readiness notification to systemd (Type=notify units): the sd_notify(3) protocol, one
//    datagram on the Unix socket named by $NOTIFY_SOCKET. It is implemented here (a dozen lines
//    of a stable, documented protocol) rather than by linking libsystemd, so the binaries keep
//    running on hosts without it and the engine's link stays as small as DESIGN.md wants.
//
//   NotifyServiceManager("READY=1\nSTATUS=listening on [::]:9099");  // no-op outside systemd
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace wsgate::common {

// unix:$WSGATE_RUN_DIR/engine.sock, else unix:$XDG_RUNTIME_DIR/wsgate-engine.sock, else
// unix:/tmp/wsgate-UID-engine.sock. The systemd units pass --control unix:/run/wsgate/engine.sock
// explicitly instead of relying on this.
std::string DefaultEngineControlTarget();

// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...", newline-separated) to $NOTIFY_SOCKET: a
// path, or an abstract socket when it starts with '@'. Without $NOTIFY_SOCKET (not started by a
// Type=notify unit): OK, nothing sent. An unreachable socket: UNAVAILABLE naming it.
absl::Status NotifyServiceManager(std::string_view state);

}  // namespace wsgate::common
