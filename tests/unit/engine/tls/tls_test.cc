// Unit tests for engine/tls: certificates are checked at load, sessions complete handshakes and
// carry data whatever the record boundaries, SNI picks the certificate, verification fails with
// a clear reason.
#include "engine/tls/tls.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

namespace wsgate::engine::tls {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(WriteSelfSignedCertificate(dir_ + "/a.crt", dir_ + "/a.key", {"localhost", "127.0.0.1"}).ok());
    ASSERT_TRUE(WriteSelfSignedCertificate(dir_ + "/b.crt", dir_ + "/b.key", {"chat.example"}).ok());
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }

  // Moves ciphertext both ways, `chunk` bytes per Feed, until neither side has anything to say.
  static void Pump(TlsSession& a, TlsSession& b, size_t chunk) {
    for (int round = 0; round < 100; ++round) {
      std::string ab, ba;
      a.TakeOutput(&ab);
      b.TakeOutput(&ba);
      if (ab.empty() && ba.empty()) return;
      for (size_t i = 0; i < ab.size(); i += chunk) {
        b.Feed(reinterpret_cast<const uint8_t*>(ab.data()) + i, std::min(chunk, ab.size() - i));
        uint8_t buf[4096];
        size_t n;
        while (b.Read(buf, sizeof(buf), &n) == TlsSession::kData) b_plain_ += std::string(reinterpret_cast<char*>(buf), n);
      }
      for (size_t i = 0; i < ba.size(); i += chunk) {
        a.Feed(reinterpret_cast<const uint8_t*>(ba.data()) + i, std::min(chunk, ba.size() - i));
        uint8_t buf[4096];
        size_t n;
        while (a.Read(buf, sizeof(buf), &n) == TlsSession::kData) a_plain_ += std::string(reinterpret_cast<char*>(buf), n);
      }
    }
  }

  std::string dir_;
  static inline std::string a_plain_, b_plain_;
};

TEST_F(TlsTest, HandshakeAndDataAtEveryChunkSize) {
  auto server = ServerTlsContext::Create({{"", dir_ + "/a.crt", dir_ + "/a.key"}});
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = ClientTlsContext::Create(dir_ + "/a.crt", false);
  ASSERT_TRUE(client.ok()) << client.status();
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{5}, size_t{13}, size_t{100}, size_t{1000}, size_t{100000}}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    a_plain_.clear();
    b_plain_.clear();
    TlsSession s((*server)->NewSsl(), true);
    TlsSession c((*client)->NewSsl("localhost"), false);
    c.Connect();
    Pump(c, s, chunk);
    ASSERT_TRUE(c.handshake_done()) << c.error();
    ASSERT_TRUE(s.handshake_done()) << s.error();
    std::string big(70000, 'x');  // spans several records
    ASSERT_TRUE(c.Write(reinterpret_cast<const uint8_t*>(big.data()), big.size()));
    ASSERT_TRUE(s.Write(reinterpret_cast<const uint8_t*>("pong"), 4));
    Pump(c, s, chunk);
    EXPECT_EQ(b_plain_.size(), big.size());
    EXPECT_EQ(a_plain_, "pong");
    EXPECT_NE(s.Describe().find("TLSv1.3"), std::string::npos) << s.Describe();
  }
}

TEST_F(TlsTest, SniSelectsTheVhostCertificate) {
  auto server = ServerTlsContext::Create({{"", dir_ + "/a.crt", dir_ + "/a.key"}, {"Chat.Example", dir_ + "/b.crt", dir_ + "/b.key"}});
  ASSERT_TRUE(server.ok()) << server.status();
  auto trusts_b = ClientTlsContext::Create(dir_ + "/b.crt", false);
  TlsSession s((*server)->NewSsl(), true);
  TlsSession c((*trusts_b)->NewSsl("chat.example"), false);
  c.Connect();
  Pump(c, s, 4096);
  EXPECT_TRUE(c.handshake_done()) << c.error();
  // Without SNI for it, the default certificate is served, which b's client does not trust.
  TlsSession s2((*server)->NewSsl(), true);
  TlsSession c2((*trusts_b)->NewSsl("localhost"), false);
  c2.Connect();
  Pump(c2, s2, 4096);
  EXPECT_FALSE(c2.handshake_done());
  EXPECT_NE(c2.error().find("certificate verify failed"), std::string::npos) << c2.error();
}

TEST_F(TlsTest, VerificationChecksTheHostNameAndCanBeSkipped) {
  auto server = ServerTlsContext::Create({{"", dir_ + "/a.crt", dir_ + "/a.key"}});
  auto client = ClientTlsContext::Create(dir_ + "/a.crt", false);
  TlsSession s((*server)->NewSsl(), true);
  TlsSession c((*client)->NewSsl("other.example"), false);
  c.Connect();
  Pump(c, s, 4096);
  EXPECT_FALSE(c.handshake_done());
  EXPECT_NE(c.error().find("Hostname mismatch"), std::string::npos) << c.error();
  auto insecure = ClientTlsContext::Create("", true);
  TlsSession s2((*server)->NewSsl(), true);
  TlsSession c2((*insecure)->NewSsl("other.example"), false);
  c2.Connect();
  Pump(c2, s2, 4096);
  EXPECT_TRUE(c2.handshake_done()) << c2.error();
}

TEST_F(TlsTest, BadCertificatesAreRefusedAtLoad) {
  ASSERT_TRUE(WriteSelfSignedCertificate(dir_ + "/old.crt", dir_ + "/old.key", {"localhost"}, -7200, -3600).ok());
  auto expired = ServerTlsContext::Create({{"", dir_ + "/old.crt", dir_ + "/old.key"}});
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.status().message().find("expired on"), absl::string_view::npos) << expired.status();
  auto mismatched = ServerTlsContext::Create({{"", dir_ + "/a.crt", dir_ + "/b.key"}});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("does not match"), absl::string_view::npos) << mismatched.status();
  auto missing = ServerTlsContext::Create({{"", dir_ + "/none.crt", dir_ + "/a.key"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("none.crt"), absl::string_view::npos);
  EXPECT_FALSE(ClientTlsContext::Create(dir_ + "/none.pem", false).ok());
}

TEST_F(TlsTest, GarbageIsAFatalError) {
  auto server = ServerTlsContext::Create({{"", dir_ + "/a.crt", dir_ + "/a.key"}});
  TlsSession s((*server)->NewSsl(), true);
  const char kPlain[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  s.Feed(reinterpret_cast<const uint8_t*>(kPlain), sizeof(kPlain) - 1);
  uint8_t buf[64];
  size_t n;
  EXPECT_EQ(s.Read(buf, sizeof(buf), &n), TlsSession::kError);
  EXPECT_FALSE(s.error().empty());
}

}  // namespace
}  // namespace wsgate::engine::tls
