// File: engine/tls/ticket_keys.cc — the process's session-ticket key ring (ticket_keys.h).
#include "engine/tls/ticket_keys.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/common/absl_compat.h"
#include "engine/tls/crypto.h"
#include "engine/tls/ticket_keys_internal.h"

namespace wsgate::engine::tls {
namespace {

constexpr int64_t kRotateS = 12 * 3600;  // a generated key encrypts for 12 h, then decrypts 12 h more

struct Ring {
  std::vector<TicketKey> keys;  // [0] encrypts
  bool generated = true;
  std::string source;
};

std::mutex mu;
std::shared_ptr<const Ring> ring;  // guarded by mu
int64_t (*clock_fn)() = nullptr;

int64_t Now() { return clock_fn ? clock_fn() : static_cast<int64_t>(std::time(nullptr)); }

TicketKey RandomKey(int64_t now) {
  TicketKey k;
  RandomBytes(k.name, sizeof(k.name));
  k.hmac_key.resize(16);
  k.aes_key.resize(16);
  RandomBytes(reinterpret_cast<uint8_t*>(k.hmac_key.data()), 16);
  RandomBytes(reinterpret_cast<uint8_t*>(k.aes_key.data()), 16);
  k.created_s = now;
  return k;
}

// The current ring; a generated one whose first key is 12 h old gets a new first key (the old
// one kept to decrypt, keys older than 24 h dropped).
std::shared_ptr<const Ring> Current() {
  std::lock_guard<std::mutex> lock(mu);
  const int64_t now = Now();
  if (!ring || (ring->generated && now - ring->keys.front().created_s >= kRotateS)) {
    auto next = std::make_shared<Ring>();
    next->keys.push_back(RandomKey(now));
    if (ring)
      for (const TicketKey& k : ring->keys)
        if (now - k.created_s < 2 * kRotateS) next->keys.push_back(k);
    ring = std::move(next);
  }
  return ring;
}

const EVP_CIPHER* CipherFor(const TicketKey& k) {
  return k.aes_key.size() == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
}

int TicketCallback(SSL*, uint8_t* key_name, uint8_t* iv, EVP_CIPHER_CTX* cipher, HMAC_CTX* hmac, int encrypt) {
  return internal::TicketKeyCallback(key_name, iv, cipher, hmac, encrypt);
}

}  // namespace

namespace internal {

int TicketKeyCallback(uint8_t* key_name, uint8_t* iv, EVP_CIPHER_CTX* cipher, HMAC_CTX* hmac, int encrypt) {
  std::shared_ptr<const Ring> r = Current();
  if (encrypt) {
    const TicketKey& k = r->keys.front();
    const EVP_CIPHER* c = CipherFor(k);
    std::memcpy(key_name, k.name, sizeof(k.name));
    RandomBytes(iv, EVP_CIPHER_iv_length(c));
    if (!EVP_EncryptInit_ex(cipher, c, nullptr, reinterpret_cast<const uint8_t*>(k.aes_key.data()), iv) ||
        !HMAC_Init_ex(hmac, k.hmac_key.data(), k.hmac_key.size(), EVP_sha256(), nullptr))
      return -1;
    return 1;
  }
  for (size_t i = 0; i < r->keys.size(); ++i) {
    const TicketKey& k = r->keys[i];
    if (std::memcmp(key_name, k.name, sizeof(k.name)) != 0) continue;
    if (!EVP_DecryptInit_ex(cipher, CipherFor(k), nullptr, reinterpret_cast<const uint8_t*>(k.aes_key.data()), iv) ||
        !HMAC_Init_ex(hmac, k.hmac_key.data(), k.hmac_key.size(), EVP_sha256(), nullptr))
      return -1;
    return i == 0 ? 1 : 2;  // 2: renew a ticket of an older key under the current one
  }
  return 0;  // an unknown key: a full handshake
}

void SetTicketKeyClockForTest(int64_t (*now)()) {
  std::lock_guard<std::mutex> lock(mu);
  clock_fn = now;
}

}  // namespace internal

absl::StatusOr<std::vector<TicketKey>> ParseTicketKeys(std::string_view text, const std::string& source) {
  std::vector<TicketKey> keys;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(common::Sv(text), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::string raw;
    if (!absl::Base64Unescape(line, &raw))
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_no, ": not base64 (make a key with `openssl rand -base64 48`)"));
    if (raw.size() != 48 && raw.size() != 80)
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_no, ": a key is 48 bytes (AES-128) or 80 bytes (AES-256), not ",
                                                     raw.size(), " (make one with `openssl rand -base64 48`)"));
    TicketKey k;
    const size_t half = (raw.size() - 16) / 2;
    std::memcpy(k.name, raw.data(), 16);
    k.hmac_key = raw.substr(16, half);
    k.aes_key = raw.substr(16 + half, half);
    for (const TicketKey& other : keys)
      if (std::memcmp(other.name, k.name, 16) == 0)
        return absl::InvalidArgumentError(absl::StrCat(source, ":", line_no, ": the same key name (first 16 bytes) as an earlier line"));
    keys.push_back(std::move(k));
  }
  if (keys.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no keys (one base64 key per line; `openssl rand -base64 48`)"));
  return keys;
}

absl::StatusOr<std::vector<TicketKey>> LoadTicketKeyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
  if (st.st_mode & 077)
    return absl::PermissionDeniedError(absl::StrFormat("%s: readable by group or others (mode %03o); session-ticket keys are secrets: chmod 600 it",
                                                    path, st.st_mode & 0777));
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseTicketKeys(text.str(), path);
}

void InstallTicketKeys(std::vector<TicketKey> keys) {
  auto next = std::make_shared<Ring>();
  next->keys = std::move(keys);
  next->generated = false;
  next->source = absl::StrCat(next->keys.size(), next->keys.size() == 1 ? " key" : " keys", " from --tls-ticket-keys");
  std::lock_guard<std::mutex> lock(mu);
  ring = std::move(next);
}

void UseGeneratedTicketKeys() {
  std::lock_guard<std::mutex> lock(mu);
  ring.reset();  // Current() makes a fresh key
}

std::string DescribeTicketKeys() {
  std::shared_ptr<const Ring> r = Current();
  return r->generated ? "generated at start, rotated every 12 h (set --tls-ticket-keys to share them between engines)" : r->source;
}

void UseTicketKeys(SSL_CTX* ctx) { SSL_CTX_set_tlsext_ticket_key_cb(ctx, TicketCallback); }

}  // namespace wsgate::engine::tls
