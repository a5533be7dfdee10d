// File: agent/certificate.h
//
// Checks a vhost's TLS certificate before the agent stores and pushes it (`wsgatectl cert set`),
// with OpenSSL 3: the chain parses as PEM and is in order (leaf first, each certificate issued by
// the next), the private key matches the leaf, the leaf is valid now (a warning when fewer than
// 30 days are left), and the vhost's name matches a SAN (or the CN when there are no DNS SANs):
// an exact vhost name by the usual hostname rules, a "*.example.com" vhost only by the same
// wildcard. Pure: no I/O.
//
//   absl::StatusOr<v1::CertificateInfo> info = InspectCertificate(chain, key, "gw.example.test", now_s);
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "wsgate/v1/admin.pb.h"

namespace wsgate::agent {

// INVALID_ARGUMENT naming what is wrong ("cert: ...", "key: ..."); on success subject, issuer,
// SANs, not-after and warnings filled (environment and vhost left to the caller).
absl::StatusOr<v1::CertificateInfo> InspectCertificate(const std::string& cert_pem, const std::string& key_pem,
                                                       const std::string& vhost, int64_t now_unix_s);

}  // namespace wsgate::agent
