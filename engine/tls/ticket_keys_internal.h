// File: engine/tls/ticket_keys_internal.h — the ticket-key callback without an SSL, and a clock
// hook, for tests/unit/engine/tls/ticket_keys_test.cc. Not for other code.
#pragma once

#include <openssl/base.h>

#include <cstdint>

namespace wsgate::engine::tls::internal {

// BoringSSL's SSL_CTX_set_tlsext_ticket_key_cb contract: encrypt → 1 (or -1); decrypt → 1 (the
// current key), 2 (an older key: renew the ticket), 0 (unknown key: full handshake) or -1.
int TicketKeyCallback(uint8_t* key_name, uint8_t* iv, EVP_CIPHER_CTX* cipher, HMAC_CTX* hmac, int encrypt);
// Replaces time(nullptr) for the rotation of generated keys (nullptr: back to the real clock).
void SetTicketKeyClockForTest(int64_t (*now)());

}  // namespace wsgate::engine::tls::internal
