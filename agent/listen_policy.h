// File: agent/listen_policy.h
//
// Where the agent may listen without TLS, and its TLS material. The admin gRPC API and the OAuth2
// endpoint carry credentials, so a listener off the host (any address but loopback or a Unix
// socket) is refused unless TLS is configured (--tls-cert/--tls-key) or the operator says
// --insecure-listen (e.g. behind a TLS-terminating proxy on the same host).
//
//   WSGATE_RETURN_IF_ERROR(CheckListen("--admin-listen", "0.0.0.0:9400", tls.enabled(), insecure));
//
// Pure apart from LoadTlsFiles (reads two files).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace wsgate::agent {

// 127.0.0.0/8, ::1, localhost (with or without a port and [] around IPv6) or unix:PATH.
bool IsLocalAddress(const std::string& listen);

// INVALID_ARGUMENT naming the flag and the two ways out, for a non-local address without TLS.
absl::Status CheckListen(const std::string& flag, const std::string& listen, bool tls, bool insecure_listen);

// The PEM certificate chain and private key the agent serves its listeners with.
struct TlsFiles {
  std::string cert_pem, key_pem;
  bool enabled() const { return !cert_pem.empty(); }
};
// Reads --tls-cert and --tls-key (both or neither; each a PEM file holding a certificate / a
// private key); errors name the flag and the file.
absl::StatusOr<TlsFiles> LoadTlsFiles(const std::string& cert_path, const std::string& key_path);

}  // namespace wsgate::agent
