// File: engine/tls/ticket_keys.h
//
// TLS session-ticket keys for every server context of the engine process. BoringSSL's default
// gives each SSL_CTX its own random key, so a ticket was lost whenever a config push rebuilt the
// contexts, and no two engines (or an engine and its restarted self) could resume each other's
// sessions. Here one key ring serves every context, shard and config generation:
//
//   - without --tls-ticket-keys: a random key made at start, rotated every 12 hours; the previous
//     key still decrypts for another 12 hours (tickets are valid for 2 hours in TLS 1.2 and at
//     most 7 days in TLS 1.3, but BoringSSL renews a ticket issued under an older key);
//   - with --tls-ticket-keys FILE: the operator's keys, one per line as base64 (`openssl rand
//     -base64 48`, or 80 bytes for AES-256): the first encrypts new tickets, every line decrypts
//     (a ticket under a later line is renewed under the first). The file is read at start and
//     again on SIGHUP, so rotation is: prepend a new key everywhere, SIGHUP, later drop the last.
//     Every engine behind one load balancer given the same file resumes any other's sessions.
//
// The 48-byte layout is nginx's (`ssl_session_ticket_key`): 16 bytes key name, 16 HMAC-SHA256
// key, 16 AES-128-CBC key; 80 bytes: 16 name, 32 HMAC key, 32 AES-256-CBC key.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace wsgate::engine::tls {

struct TicketKey {
  uint8_t name[16];
  std::string hmac_key;  // 16 or 32 bytes
  std::string aes_key;   // 16 (AES-128-CBC) or 32 (AES-256-CBC) bytes
  int64_t created_s = 0;
};

// The keys of a --tls-ticket-keys file's text: one base64 key of 48 or 80 bytes per line; blank
// lines and '#' comments are skipped. Errors name `source` and the line.
absl::StatusOr<std::vector<TicketKey>> ParseTicketKeys(std::string_view text, const std::string& source);

// Reads and parses `path` (refused when it is readable by others than its owner, like a private key).
absl::StatusOr<std::vector<TicketKey>> LoadTicketKeyFile(const std::string& path);

// Replaces the process's keys with an operator's (the first encrypts); automatic rotation stops.
void InstallTicketKeys(std::vector<TicketKey> keys);

// Back to generated, rotating keys (the default at start).
void UseGeneratedTicketKeys();

// What the log says: "3 keys from FILE" or "generated, rotated every 12 h".
std::string DescribeTicketKeys();

// Makes `ctx` encrypt and decrypt tickets with the process's keys (ServerTlsContext does it).
void UseTicketKeys(SSL_CTX* ctx);

}  // namespace wsgate::engine::tls
