// File: tests/support/ws_client_tls.h
//
// TLS for the test WebSocket client (wss), built on engine/tls's TlsSession. Kept out of
// wsgate_test_support because it links BoringSSL, which must never share a test binary with
// OpenSSL 3 (e2e tests that call the agent link regular gRPC).
//
//   WsClient c;  c.ConnectTcp(wss_port);
//   ASSERT_TRUE(StartTls(c, "localhost", ca_file, &error));
//   c.Upgrade(wss_port, "/chats/1.0.0/notifications", {...});
#pragma once

#include <memory>
#include <string>

#include "tests/support/ws_client.h"

namespace wsgate::engine::tls {
class ClientTlsContext;
}

namespace wsgate::testing {

struct TlsClientOptions {
  std::string server_name = "localhost";  // SNI and the name verified
  std::string ca_file;                    // "" = do not verify (like wscat -n)
  // Ciphertext is sent this many bytes per send() (1: every record split at every byte).
  size_t send_chunk = 1 << 20;
  // Plaintext is handed to TLS this many bytes at a time (small: one frame across many records).
  size_t record_chunk = 16384;
  // A context to reuse (e.g. with EnableResumption(), to offer the previous connection's session
  // ticket); null: a fresh one from ca_file.
  std::shared_ptr<engine::tls::ClientTlsContext> context = nullptr;
  // Set to whether the handshake resumed a session, when not null.
  bool* resumed = nullptr;
};

// Performs the TLS handshake on c's connected socket and routes c's I/O through it.
bool StartTls(WsClient& c, const TlsClientOptions& options, std::string* error);

}  // namespace wsgate::testing
