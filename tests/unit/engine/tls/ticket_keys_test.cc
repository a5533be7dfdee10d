// Unit tests of the session-ticket key ring (engine/tls/ticket_keys.h): the file format, and the
// callback's decisions (which key encrypts, which decrypt, when a ticket is renewed or refused)
// through a fake clock, without an SSL connection.
#include "engine/tls/ticket_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "engine/tls/ticket_keys_internal.h"

namespace wsgate::engine::tls {
namespace {

int64_t fake_now = 1'000'000;
int64_t FakeNow() { return fake_now; }

std::string Key(char fill, size_t size = 48) { return absl::Base64Escape(std::string(size, fill)); }

// The key name the callback writes for a new ticket.
std::string EncryptName() {
  uint8_t name[16], iv[EVP_MAX_IV_LENGTH];
  bssl::ScopedEVP_CIPHER_CTX cipher;
  bssl::ScopedHMAC_CTX hmac;
  EXPECT_EQ(internal::TicketKeyCallback(name, iv, cipher.get(), hmac.get(), 1), 1);
  return std::string(reinterpret_cast<char*>(name), 16);
}
// The callback's answer for a ticket under key `name`.
int Decrypt(const std::string& name) {
  uint8_t n[16], iv[EVP_MAX_IV_LENGTH] = {};
  std::memcpy(n, name.data(), 16);
  bssl::ScopedEVP_CIPHER_CTX cipher;
  bssl::ScopedHMAC_CTX hmac;
  return internal::TicketKeyCallback(n, iv, cipher.get(), hmac.get(), 0);
}

class TicketKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_now = 1'000'000;
    internal::SetTicketKeyClockForTest(FakeNow);
    UseGeneratedTicketKeys();
  }
  void TearDown() override {
    UseGeneratedTicketKeys();
    internal::SetTicketKeyClockForTest(nullptr);
  }
};

TEST(ParseTicketKeys, ReadsNginxLayoutsAndSkipsCommentsAndBlankLines) {
  std::string raw128 = std::string(16, 'N') + std::string(16, 'H') + std::string(16, 'A');
  std::string raw256 = std::string(16, 'n') + std::string(32, 'h') + std::string(32, 'a');
  auto keys = ParseTicketKeys("# current\n" + absl::Base64Escape(raw128) + "\n\n  " + absl::Base64Escape(raw256) + "  \n", "k");
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*keys)[0].name), 16), std::string(16, 'N'));
  EXPECT_EQ((*keys)[0].hmac_key, std::string(16, 'H'));
  EXPECT_EQ((*keys)[0].aes_key, std::string(16, 'A'));
  EXPECT_EQ((*keys)[1].hmac_key, std::string(32, 'h'));
  EXPECT_EQ((*keys)[1].aes_key, std::string(32, 'a'));
}

TEST(ParseTicketKeys, RefusesWhatIsNotAKeyNamingTheLine) {
  auto bad = [](const std::string& text) { return std::string(ParseTicketKeys(text, "f.keys").status().message()); };
  EXPECT_EQ(bad("not base64!\n"), "f.keys:1: not base64 (make a key with `openssl rand -base64 48`)");
  EXPECT_EQ(bad("# c\n" + Key('x', 32) + "\n"),
            "f.keys:2: a key is 48 bytes (AES-128) or 80 bytes (AES-256), not 32 (make one with `openssl rand -base64 48`)");
  EXPECT_EQ(bad(Key('x') + "\n" + Key('x') + "\n"), "f.keys:2: the same key name (first 16 bytes) as an earlier line");
  EXPECT_EQ(bad("# only a comment\n\n"), "f.keys: no keys (one base64 key per line; `openssl rand -base64 48`)");
}

TEST(LoadTicketKeyFile, RefusesAFileOthersCanRead) {
  char tmpl[] = "/tmp/wsgate-ticket-keys-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(tmpl) << Key('k') << "\n";
  ASSERT_EQ(chmod(tmpl, 0644), 0);
  auto refused = LoadTicketKeyFile(tmpl);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            std::string(tmpl) + ": readable by group or others (mode 644); session-ticket keys are secrets: chmod 600 it");
  ASSERT_EQ(chmod(tmpl, 0600), 0);
  auto keys = LoadTicketKeyFile(tmpl);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 1u);
  unlink(tmpl);
  EXPECT_EQ(LoadTicketKeyFile(tmpl).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TicketKeysTest, GeneratedKeysRotateEveryTwelveHoursAndDecryptTwelveMore) {
  EXPECT_EQ(DescribeTicketKeys(), "generated at start, rotated every 12 h (set --tls-ticket-keys to share them between engines)");
  std::string first = EncryptName();
  EXPECT_EQ(EncryptName(), first);
  EXPECT_EQ(Decrypt(first), 1);
  EXPECT_EQ(Decrypt(std::string(16, '?')), 0) << "an unknown key: full handshake";
  fake_now += 12 * 3600;
  std::string second = EncryptName();
  EXPECT_NE(second, first);
  EXPECT_EQ(Decrypt(second), 1);
  EXPECT_EQ(Decrypt(first), 2) << "the previous key still decrypts, and the ticket is renewed";
  fake_now += 12 * 3600;
  std::string third = EncryptName();
  EXPECT_EQ(Decrypt(second), 2);
  EXPECT_EQ(Decrypt(first), 0) << "24 h after it stopped encrypting, a key is gone";
  EXPECT_EQ(Decrypt(third), 1);
}

TEST_F(TicketKeysTest, OperatorKeysDoNotRotateTheFirstEncryptsAndEveryLineDecrypts) {
  auto keys = ParseTicketKeys(Key('b') + "\n" + Key('a', 80) + "\n", "k");
  ASSERT_TRUE(keys.ok());
  InstallTicketKeys(*keys);
  EXPECT_EQ(DescribeTicketKeys(), "2 keys from --tls-ticket-keys");
  EXPECT_EQ(EncryptName(), std::string(16, 'b'));
  fake_now += 30 * 24 * 3600;
  EXPECT_EQ(EncryptName(), std::string(16, 'b')) << "no rotation of the operator's keys";
  EXPECT_EQ(Decrypt(std::string(16, 'a')), 2);
  EXPECT_EQ(Decrypt(std::string(16, 'b')), 1);
  UseGeneratedTicketKeys();
  EXPECT_EQ(Decrypt(std::string(16, 'b')), 0);
}

}  // namespace
}  // namespace wsgate::engine::tls
