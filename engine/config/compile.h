// File: engine/config/compile.h
//
// Validates a wsgate.v1.Snapshot and compiles it into the engine's indexed config::Snapshot.
// Runs on the control thread (it resolves endpoint host names, which may block). A bad snapshot is
// INVALID_ARGUMENT naming the field path, e.g.
//   apis[0].topics[1].url_mapping: {uri.var.room} is not a parameter of /rooms/{roomID}
// and the caller keeps serving the previous one.
//
//   absl::StatusOr<std::shared_ptr<const Snapshot>> s = Compile(proto);
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "engine/config/snapshot.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

// How endpoint host names become addresses. The default uses getaddrinfo; tests inject fakes.
using Resolver = std::function<absl::StatusOr<std::vector<sockaddr_storage>>(const std::string& host, uint16_t port)>;
Resolver SystemResolver();

// The engine's own certificate (its --tls-cert/--tls-key), served when no vhost certificate
// matches the client's SNI. Empty: only vhost certificates, if any.
struct TlsDefaults {
  std::string cert_file;
  std::string key_file;
};

// A pushed (or --config) snapshot: the result has `configured` set.
absl::StatusOr<std::shared_ptr<const Snapshot>> Compile(const v1::Snapshot& proto,
                                                        const Resolver& resolver = SystemResolver(),
                                                        const TlsDefaults& tls_defaults = {});

// What an engine serves before its first config: no APIs, only its own certificate (so wss
// handshakes complete and get the 503). `configured` is false.
absl::StatusOr<std::shared_ptr<const Snapshot>> CompileDefaults(const TlsDefaults& tls_defaults);


}  // namespace wsgate::engine::config
