// Integration tests for per-vhost certificates (issue 12): SNI picks each vhost's certificate
// (exact names, aliases and wildcards), PEM text pushed in the snapshot wins over files, a push
// with a new certificate rotates it without dropping live wss sessions, and bad material is
// refused naming the vhost.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/tls/tls.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/ws_client_tls.h"

namespace wsgate::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class VhostTlsTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    dir_ = CertDir();
    ASSERT_TRUE(engine::tls::WriteSelfSignedCertificate(dir_ + "/a.crt", dir_ + "/a.key", {"a.test"}).ok());
    ASSERT_TRUE(engine::tls::WriteSelfSignedCertificate(dir_ + "/b.crt", dir_ + "/b.key", {"b.test", "*.w.test"}).ok());
    ASSERT_TRUE(engine::tls::WriteSelfSignedCertificate(dir_ + "/a2.crt", dir_ + "/a2.key", {"a.test"}).ok());
  }
  // The walkthrough's snapshot plus vhost a.test (certificate as PEM text) and b.test with the
  // alias *.w.test (certificate files). Routing still goes by Host (127.0.0.1: the localhost vhost).
  v1::Snapshot TwoVhosts(uint64_t version, const std::string& a_cert = "a") {
    v1::Snapshot s = BaseSnapshot(version);
    auto* a = s.add_vhosts();
    a->set_name("a.test");
    a->mutable_tls()->set_cert_pem(ReadFile(dir_ + "/" + a_cert + ".crt"));
    a->mutable_tls()->set_key_pem(ReadFile(dir_ + "/" + a_cert + ".key"));
    a->mutable_tls()->set_cert_file("/nonexistent/ignored-when-pem-is-set.crt");
    auto* b = s.add_vhosts();
    b->set_name("b.test");
    b->add_aliases("*.w.test");
    b->mutable_tls()->set_cert_file(dir_ + "/b.crt");
    b->mutable_tls()->set_key_file(dir_ + "/b.key");
    return s;
  }
  // A wss session with this SNI that trusts only `ca`: it succeeds only if the engine serves the
  // certificate `ca` is.
  std::unique_ptr<WsClient> Wss(const std::string& sni, const std::string& ca, std::string* error) {
    auto c = std::make_unique<WsClient>();
    EXPECT_TRUE(c->ConnectTcp(wss_port()));
    TlsClientOptions o;
    o.server_name = sni;
    o.ca_file = ca;
    if (!StartTls(*c, o, error)) return nullptr;
    EXPECT_TRUE(c->Upgrade(wss_port(), "/chats/1.0.0/rooms/room1", {Bearer(Token())})) << c->response();
    ExpectWelcome(*c, sni, "You joined room1!");
    return c;
  }
  std::string dir_;
};

TEST_F(VhostTlsTest, SniSelectsEachVhostsCertificate) {
  Apply(TwoVhosts(2));
  std::string error;
  EXPECT_NE(Wss("a.test", dir_ + "/a.crt", &error), nullptr) << error;
  EXPECT_NE(Wss("b.test", dir_ + "/b.crt", &error), nullptr) << error;
  EXPECT_NE(Wss("x.w.test", dir_ + "/b.crt", &error), nullptr) << error;    // the wildcard alias
  EXPECT_NE(Wss("A.TEST", dir_ + "/a.crt", &error), nullptr) << error;      // SNI is case-insensitive
  EXPECT_NE(Wss("localhost", CertFile(), &error), nullptr) << error;        // no vhost certificate: the engine's
  EXPECT_EQ(Wss("a.test", dir_ + "/b.crt", &error), nullptr) << "a.test was served b's certificate";
  EXPECT_EQ(Wss("w.test", dir_ + "/b.crt", &error), nullptr) << "*.w.test must not match w.test";
}

TEST_F(VhostTlsTest, ANewCertificateRotatesWithoutDroppingLiveSessions) {
  Apply(TwoVhosts(2));
  std::string error;
  auto old_a = Wss("a.test", dir_ + "/a.crt", &error);
  ASSERT_NE(old_a, nullptr) << error;
  auto old_b = Wss("a.test", dir_ + "/a.crt", &error);
  ASSERT_NE(old_b, nullptr) << error;
  Apply(TwoVhosts(3, "a2"));
  // The sessions opened under the old certificate keep relaying.
  ASSERT_TRUE(old_a->SendText("after the rotation"));
  auto m = old_b->ReadMessage();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "after the rotation");
  // New sessions get the new certificate, and only it.
  auto fresh = Wss("a.test", dir_ + "/a2.crt", &error);
  EXPECT_NE(fresh, nullptr) << error;
  EXPECT_EQ(Wss("a.test", dir_ + "/a.crt", &error), nullptr) << "still serving the old certificate";
  EXPECT_EQ(engine_->CollectStats().active_connections, 3u);  // nothing was dropped
}

TEST_F(VhostTlsTest, BadMaterialIsRefusedNamingTheVhost) {
  v1::Snapshot s = TwoVhosts(2);
  s.mutable_vhosts(1)->mutable_tls()->set_key_pem(ReadFile(dir_ + "/b.key"));
  auto r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "vhosts[1].tls (a.test): key key_pem does not match certificate cert_pem");

  s = TwoVhosts(2);
  s.mutable_vhosts(1)->mutable_tls()->set_cert_pem("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("vhosts[1].tls (a.test): certificate cert_pem: not a PEM certificate", 0), 0u)
      << r.status();

  s = TwoVhosts(2);
  s.mutable_vhosts(1)->mutable_tls()->clear_key_pem();
  r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "vhosts[1].tls: needs both cert_pem and key_pem");

  s = TwoVhosts(2);
  s.mutable_vhosts(2)->mutable_tls()->set_key_file(dir_ + "/a.key");
  r = engine_->Apply(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("vhosts[2].tls (b.test): key " + dir_ + "/a.key does not match", 0), 0u) << r.status();
  EXPECT_EQ(engine_->applied_version(), 1u);  // the last good snapshot still serves
}

}  // namespace
}  // namespace wsgate::testing
