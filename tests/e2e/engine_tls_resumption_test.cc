// End-to-end test of TLS session resumption across engine processes (issue 20: "TLS 1.3 session
// tickets with keys shared by all shards and rotated"): two wsgate-engine processes given the same
// --tls-ticket-keys file resume each other's sessions, an engine with its own generated keys does
// not, a SIGHUP after prepending a new key keeps the old tickets working (renewed under the new
// key), and a key file others can read is refused at start.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "engine/tls/crypto.h"
#include "engine/tls/tls.h"
#include "tests/support/subprocess.h"
#include "tests/support/ws_client.h"
#include "tests/support/ws_client_tls.h"

namespace wsgate::testing {
namespace {

constexpr int kTimeoutMs = 15000;

std::string RandomKeyLine() {
  std::string raw(48, '\0');
  engine::tls::RandomBytes(reinterpret_cast<uint8_t*>(raw.data()), raw.size());
  return absl::Base64Escape(raw) + "\n";
}

class EngineTlsResumption : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-resumption-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/config.textproto") << "version: 1\n";
    WriteKeys(RandomKeyLine());
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }
  void WriteKeys(const std::string& lines) {
    std::ofstream(dir_ + "/tickets.keys") << "# wsgate session-ticket keys\n" << lines;
    ASSERT_EQ(chmod((dir_ + "/tickets.keys").c_str(), 0600), 0);
  }
  // An engine named `name` (its own certificate and control socket); `keys`: --tls-ticket-keys.
  std::unique_ptr<Subprocess> Engine(const std::string& name, bool keys, int* wss_port) {
    std::vector<std::string> argv = {WSGATE_ENGINE, "--config", dir_ + "/config.textproto", "--ws-listen", "127.0.0.1:0",
                                     "--wss-listen", "127.0.0.1:0", "--tls-cert", dir_ + "/" + name + ".crt",
                                     "--tls-key", dir_ + "/" + name + ".key", "--tls-dev-cert", "--shards", "2",
                                     "--control", "unix:" + dir_ + "/" + name + ".sock", "--admin-listen", ""};
    if (keys) argv.insert(argv.end(), {"--tls-ticket-keys", dir_ + "/tickets.keys"});
    auto e = std::make_unique<Subprocess>(argv);
    size_t at = 0;
    *wss_port = e->NumberAfter("and wss on 127.0.0.1:0 (port ", kTimeoutMs, &at);
    EXPECT_NE(*wss_port, 0) << e->output();
    return e;
  }
  // A TLS handshake with the engine on `port`, then a request (its 404 answer carries the
  // session ticket to the client). Returns whether the handshake resumed a session.
  bool Handshake(int port, const std::shared_ptr<engine::tls::ClientTlsContext>& ctx) {
    WsClient c;
    EXPECT_TRUE(c.ConnectTcp(port, kTimeoutMs));
    bool resumed = false;
    TlsClientOptions o;
    o.ca_file = "";  // the engines' development certificates differ: no verification here
    o.context = ctx;
    o.resumed = &resumed;
    std::string error;
    EXPECT_TRUE(StartTls(c, o, &error)) << error;
    EXPECT_FALSE(c.Upgrade(port, "/nothing/here", {}));
    EXPECT_NE(c.response().find("404"), std::string::npos) << c.response();
    return resumed;
  }
  std::shared_ptr<engine::tls::ClientTlsContext> ResumingClient() {
    auto ctx = engine::tls::ClientTlsContext::Create("", true);
    EXPECT_TRUE(ctx.ok());
    (*ctx)->EnableResumption();
    return *ctx;
  }

  std::string dir_;
};

TEST_F(EngineTlsResumption, EnginesSharingAKeyFileResumeEachOthersSessions) {
  int a_port = 0, b_port = 0, c_port = 0;
  auto a = Engine("a", true, &a_port);
  auto b = Engine("b", true, &b_port);
  auto c = Engine("c", false, &c_port);
  ASSERT_TRUE(a->WaitForOutput("TLS session tickets: 1 key from --tls-ticket-keys", kTimeoutMs)) << a->output();
  ASSERT_TRUE(c->WaitForOutput("TLS session tickets: generated at start", kTimeoutMs)) << c->output();

  auto client = ResumingClient();
  EXPECT_FALSE(Handshake(a_port, client)) << "the first handshake is a full one";
  EXPECT_TRUE(Handshake(b_port, client)) << "engine b resumes engine a's session";
  EXPECT_FALSE(Handshake(c_port, client)) << "engine c has its own keys";

  // Rotation: a new first key on engine b, SIGHUP; a ticket from a (the old key, now second)
  // still resumes on b.
  auto from_a = ResumingClient();
  EXPECT_FALSE(Handshake(a_port, from_a));
  std::ifstream in(dir_ + "/tickets.keys");
  std::string old_keys((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  WriteKeys(RandomKeyLine() + old_keys);
  size_t from = b->output().size();
  b->Signal(SIGHUP);
  ASSERT_TRUE(b->WaitForOutput("SIGHUP: TLS session tickets: 2 keys from --tls-ticket-keys", kTimeoutMs, &from)) << b->output();
  EXPECT_TRUE(Handshake(b_port, from_a)) << "the old key still decrypts after the rotation";
  // A broken file on SIGHUP keeps the current keys.
  std::ofstream(dir_ + "/tickets.keys") << "garbage\n";
  from = b->output().size();
  b->Signal(SIGHUP);
  ASSERT_TRUE(b->WaitForOutput("tickets.keys:1: a key is 48 bytes (AES-128) or 80 bytes (AES-256), not 5", kTimeoutMs, &from))
      << b->output();
  ASSERT_TRUE(b->WaitForOutput("; keeping the current keys", kTimeoutMs, &from)) << b->output();
  EXPECT_TRUE(Handshake(b_port, from_a));
}

TEST_F(EngineTlsResumption, AKeyFileOthersCanReadIsRefusedAtStart) {
  ASSERT_EQ(chmod((dir_ + "/tickets.keys").c_str(), 0644), 0);
  Subprocess e({WSGATE_ENGINE, "--config", dir_ + "/config.textproto", "--ws-listen", "127.0.0.1:0", "--wss-listen",
                "127.0.0.1:0", "--tls-cert", dir_ + "/d.crt", "--tls-key", dir_ + "/d.key", "--tls-dev-cert",
                "--control", "unix:" + dir_ + "/d.sock", "--admin-listen", "", "--tls-ticket-keys", dir_ + "/tickets.keys"});
  EXPECT_NE(e.Wait(kTimeoutMs), 0);
  EXPECT_NE(e.output().find("--tls-ticket-keys: " + dir_ + "/tickets.keys: readable by group or others (mode 644); "
                            "session-ticket keys are secrets: chmod 600 it"),
            std::string::npos)
      << e.output();
}

}  // namespace
}  // namespace wsgate::testing
