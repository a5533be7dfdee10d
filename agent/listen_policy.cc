// File: agent/listen_policy.cc
#include "agent/listen_policy.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace wsgate::agent {
namespace {

// The host part of HOST:PORT, [V6]:PORT or a bare host.
std::string HostOf(const std::string& listen) {
  if (!listen.empty() && listen[0] == '[') {
    size_t end = listen.find(']');
    return end == std::string::npos ? listen : listen.substr(1, end - 1);
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || listen.find(':') != colon) return listen;  // a bare IPv6 address
  return listen.substr(0, colon);
}

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path, const char* marker) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": cannot read it"));
  std::stringstream text;
  text << in.rdbuf();
  if (!absl::StrContains(text.str(), marker))
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": no PEM '", marker, "' block in it"));
  return text.str();
}

}  // namespace

bool IsLocalAddress(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:")) return true;
  std::string host = HostOf(listen);
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

absl::Status CheckListen(const std::string& flag, const std::string& listen, bool tls, bool insecure_listen) {
  if (tls || insecure_listen || IsLocalAddress(listen)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      flag, " ", listen,
      ": refusing to serve credentials in plaintext off this host; give --tls-cert FILE --tls-key FILE, or "
      "--insecure-listen if a TLS proxy on this host fronts it"));
}

absl::StatusOr<TlsFiles> LoadTlsFiles(const std::string& cert_path, const std::string& key_path) {
  TlsFiles out;
  if (cert_path.empty() && key_path.empty()) return out;
  if (cert_path.empty() || key_path.empty())
    return absl::InvalidArgumentError(absl::StrCat(cert_path.empty() ? "--tls-key" : "--tls-cert",
                                                   " needs ", cert_path.empty() ? "--tls-cert" : "--tls-key", " too"));
  absl::StatusOr<std::string> cert = ReadPem("--tls-cert", cert_path, "-----BEGIN CERTIFICATE-----");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem("--tls-key", key_path, "PRIVATE KEY-----");
  if (!key.ok()) return key.status();
  out.cert_pem = *std::move(cert);
  out.key_pem = *std::move(key);
  return out;
}

}  // namespace wsgate::agent
