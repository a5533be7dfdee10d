// File: engine/tls/tls.h
//
// TLS for the engine, with BoringSSL, driven entirely through memory (no socket I/O here): the
// shard hands ciphertext it received to a TlsSession and sends the ciphertext the session
// produces, so TLS fits the io_uring loop and record boundaries never matter.
//
//   auto server = ServerTlsContext::Create({{"", "dev.crt", "dev.key"}});   // at config load
//   TlsSession s(server->NewSsl(), /*server=*/true);
//   s.Feed(bytes, n);                           // ciphertext from the socket
//   while (s.Read(plain, cap, &n) == TlsSession::kData) Use(plain, n);
//   s.Write(reply, len);  s.TakeOutput(&wire); // ciphertext to send
//
// Contexts are immutable after Create and shared by every shard (thread-safe); a TlsSession
// belongs to one connection on one shard.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_session_st SSL_SESSION;

namespace wsgate::engine::tls {

// A certificate chain and key for server names (empty `server_name`: the default certificate;
// "*.example.com": any name below example.com, when no exact name matches). The PEM text, when
// set, wins over the files. `label` (e.g. "vhosts[1].tls (a.test)") starts every error about it.
struct CertSpec {
  std::string server_name;
  std::string cert_file;
  std::string key_file;
  std::string cert_pem = {};  // "= {}": {name, cert_file, key_file} stays valid
  std::string key_pem = {};
  std::string label = {};
};

// Terminates wss: TLS 1.2 and 1.3, forward-secret AEAD suites only, ALPN http/1.1, SNI picks the
// certificate by server name, session tickets (keys from engine/tls/ticket_keys.h, shared by
// every context of the process) and the session cache for resumption.
class ServerTlsContext {
 public:
  // Loads and checks every certificate: readable PEM, key matches, valid now (an expired or
  // not-yet-valid certificate is refused, naming the file and the date). SNI picks an exact
  // server name first, then the longest matching wildcard, else entry 0.
  static absl::StatusOr<std::shared_ptr<ServerTlsContext>> Create(const std::vector<CertSpec>& certs);
  ~ServerTlsContext();
  SSL* NewSsl() const;
  // For the log: "localhost (CN=localhost, until 2027-11-28)".
  std::string Describe() const;

 private:
  ServerTlsContext() = default;
  struct Entry;
  std::vector<std::unique_ptr<Entry>> entries_;  // [0] is the default
  static int SelectCertificate(SSL* ssl, int* alert, void* arg);
};

// Originates wss:// to backends: verifies the chain against `ca_file` (or the system bundle) and
// the host name; `insecure_skip_verify` turns both off (development only).
class ClientTlsContext {
 public:
  static absl::StatusOr<std::shared_ptr<ClientTlsContext>> Create(const std::string& ca_file, bool insecure_skip_verify);
  ~ClientTlsContext();
  // A client session with SNI and the expected host name set (offering the remembered session
  // after EnableResumption).
  SSL* NewSsl(const std::string& host) const;
  // From now on, remembers the newest session ticket a server sends on this context's
  // connections and offers it in every later NewSsl (TLS resumption, for wsgate-bench
  // --tls-resume and tests). One session for every host: use one context per server name.
  void EnableResumption();

 private:
  ClientTlsContext() = default;
  static int RememberSession(SSL* ssl, SSL_SESSION* session);
  SSL_CTX* ctx_ = nullptr;
  bool insecure_ = false;
  mutable std::mutex mu_;
  SSL_SESSION* session_ = nullptr;  // guarded by mu_; owned
};

class TlsSession {
 public:
  // Takes ownership of `ssl`.
  TlsSession(SSL* ssl, bool server);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum Result : uint8_t {
    kData,      // *n bytes of plaintext were read
    kWantMore,  // nothing more until more ciphertext arrives
    kClosed,    // the peer sent close_notify
    kError,     // fatal; see error()
  };
  // Ciphertext received from the peer.
  void Feed(const uint8_t* data, size_t n);
  // Drives the handshake and decrypts application data.
  Result Read(uint8_t* out, size_t cap, size_t* n);
  // Encrypts application data. Returns false while the handshake cannot yet complete (the data
  // is not taken; call again after more ciphertext arrived) or on a fatal error (error() set).
  bool Write(const uint8_t* data, size_t n);
  // Moves everything the session wants to send (handshake, alerts, records) into *out. Returns
  // whether there was anything.
  bool TakeOutput(std::string* out);
  // The same into a caller's buffer: copies up to `cap` bytes, returns how many (0: none).
  size_t ReadOutput(uint8_t* out, size_t cap);
  // Starts a client handshake (produces the ClientHello).
  void Connect();
  bool handshake_done() const;
  // Whether the handshake resumed an earlier session (a ticket) instead of a full one.
  bool resumed() const;
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // The negotiated protocol and cipher, for tests and logs ("TLSv1.3 TLS_AES_128_GCM_SHA256").
  std::string Describe() const;

 private:
  void SetError(int ret);
  SSL* ssl_;
  std::string error_;
};

// Writes a self-signed certificate (RSA 2048, SHA-256, SAN with `hosts`, valid from
// `not_before_s` to `not_after_s` seconds relative to now) and its key as PEM files (the key
// 0600). For the development certificate and for tests.
absl::Status WriteSelfSignedCertificate(const std::string& cert_file, const std::string& key_file,
                                        const std::vector<std::string>& hosts, long not_before_s = -60,
                                        long not_after_s = 365L * 24 * 3600);

}  // namespace wsgate::engine::tls
