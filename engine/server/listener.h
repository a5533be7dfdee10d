// File: engine/server/listener.h
//
// The engine's ws/wss listening sockets. Every shard of one engine binds its own listener on the
// same address with SO_REUSEPORT (the kernel spreads new connections over the shards). That
// option would also let a second engine on the same address silently take a share of the
// connections, so Server checks the address first: CheckAddressFree refuses an address that
// something already listens on, unless the operator asked for sharing (--reuse-port, for a
// hitless restart).
//
//   WSGATE_RETURN_IF_ERROR(CheckAddressFree(addr, len, "--ws-listen 0.0.0.0:9099"));
//   absl::StatusOr<int> fd = BindListener(addr, len, &port);   // per shard
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace wsgate::engine::server {

// A blocking TCP listener on `addr` with SO_REUSEADDR and SO_REUSEPORT (and, for IPv6,
// IPV6_V6ONLY off: [::] is dual-stack, IPv4 clients arrive as ::ffff:a.b.c.d), listening
// with a backlog of 4096. *port receives the bound port (useful with port 0). UNAVAILABLE with
// errno's text on failure.
absl::StatusOr<int> BindListener(const sockaddr_storage& addr, socklen_t len, uint16_t* port);

// Whether this host can listen on IPv6 at all (a dual-stack socket on [::]:0 binds). A host
// without IPv6 (disabled in the kernel, or a container without it) gets 0.0.0.0 instead of the
// default [::] (Server logs that).
bool HostHasIpv6();
// Whether `addr` is the IPv6 wildcard [::] (dual-stack: it takes IPv4 clients too).
bool IsIpv6Any(const sockaddr_storage& addr);

// OK when nothing listens on `addr` (port 0 always is). Probes with a socket bound without
// SO_REUSEPORT (SO_REUSEADDR, so connections of an earlier run in TIME_WAIT do not count) and
// closes it; a taken address is probed again for up to 1 s (a just-exited engine's listener
// lingers while the kernel tears its io_uring down). FAILED_PRECONDITION when the address stays
// taken, naming `what` (the flag and address, e.g. "--ws-listen 0.0.0.0:9099") and --reuse-port.
absl::Status CheckAddressFree(const sockaddr_storage& addr, socklen_t len, std::string_view what);

}  // namespace wsgate::engine::server
