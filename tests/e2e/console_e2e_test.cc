// End-to-end test of the web console (issue 16): the real agent, engine and sample backend as
// processes, and console_walkthrough.js driving headless Chromium (Debian's chromium, through
// puppeteer-core) through the seed walkthrough; its screenshots are kept in the build tree as
// artefacts (tests/e2e/console-shots/) and must be non-empty. The HTTP/JSON API itself is
// checked with plain HTTP: status mapping, authentication, the embedded files' headers.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 15000;


class ConsoleE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-console-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = std::make_unique<Subprocess>(std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0"});
    size_t at = 0;
    backend_port_ = backend_->NumberAfter("Notifications on: ws://localhost:", kTimeoutMs, &at);
    ASSERT_NE(backend_port_, 0) << backend_->output();
    engine_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_ENGINE, "--control", "unix:" + dir_ + "/engine.sock", "--ws-listen", "127.0.0.1:0", "--shards", "1",
        "--admin-listen", "127.0.0.1:0", "--drain-timeout-ms", "2000"});
    at = 0;
    engine_port_ = engine_->NumberAfter("(port ", kTimeoutMs, &at);
    ASSERT_NE(engine_port_, 0) << engine_->output();
    agent_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_AGENT, "--data-dir", dir_ + "/data", "--engine", "unix:" + dir_ + "/engine.sock", "--admin-listen",
        "127.0.0.1:0", "--token-listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0"});
    at = 0;
    console_port_ = agent_->NumberAfter("HTTP/JSON admin API on http://127.0.0.1:0/ (port ", kTimeoutMs, &at);
    ASSERT_NE(console_port_, 0) << agent_->output();
    std::ifstream f(dir_ + "/data/admin.token");
    std::getline(f, credential_);
    ASSERT_FALSE(credential_.empty());
  }
  void TearDown() override {
    agent_.reset();
    engine_.reset();
    backend_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  httplib::Client Client() {
    httplib::Client c("127.0.0.1", console_port_);
    c.set_read_timeout(10, 0);
    return c;
  }
  httplib::Headers Auth() const { return {{"Authorization", "Bearer " + credential_}}; }

  std::string dir_, credential_;
  int backend_port_ = 0, engine_port_ = 0, console_port_ = 0;
  std::unique_ptr<Subprocess> backend_, engine_, agent_;
};

TEST_F(ConsoleE2E, JsonApiSpeaksHttpWithTheGrpcApisRules) {
  auto c = Client();
  auto anonymous = c.Get("/api/v1/apis");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer realm=\"wsgate admin\"");
  EXPECT_NE(anonymous->body.find("\"UNAUTHENTICATED\""), std::string::npos);

  auto bad = c.Post("/api/v1/apis", Auth(),
                    R"({"spec":{"name":"Chats","context":"/chats","version":"1.0.0","productionEndpoint":{"url":"http://x"}}})",
                    "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("\"field\":\"production_endpoint.url\""), std::string::npos) << bad->body;

  std::string spec = R"({"spec":{"name":"Chats","context":"/chats","version":"1.0.0","productionEndpoint":{"url":"ws://localhost:)" +
                     std::to_string(backend_port_) + R"("}}})";
  auto made = c.Post("/api/v1/apis", Auth(), spec, "application/json");
  ASSERT_TRUE(made);
  EXPECT_EQ(made->status, 200) << made->body;
  auto again = c.Post("/api/v1/apis", Auth(), spec, "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << again->body;
  auto topic = c.Delete("/api/v1/apis/Chats:1.0.0/topics/%2F%2A", Auth());
  ASSERT_TRUE(topic);
  EXPECT_EQ(topic->status, 200) << topic->body;
  EXPECT_NE(topic->body.find("\"topics\":[]"), std::string::npos) << "printed even when empty: " << topic->body;
  auto missing = c.Get("/api/v1/apis/Nope:1.0.0", Auth());
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto no_plan = c.Post("/api/v1/apis/Chats:1.0.0/lifecycle", Auth(), R"({"action":"Publish"})", "application/json");
  ASSERT_TRUE(no_plan);
  EXPECT_EQ(no_plan->status, 400) << no_plan->body;  // FAILED_PRECONDITION: no business plan yet
  EXPECT_NE(no_plan->body.find("FAILED_PRECONDITION"), std::string::npos);

  // The same catalog as the CLI's: an audit entry for the JSON API's change, with its RPC.
  auto audit = c.Get("/api/v1/audit", Auth());
  ASSERT_TRUE(audit);
  EXPECT_NE(audit->body.find("CreateApi"), std::string::npos) << audit->body;

  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<script src=\"/console.js\""), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  auto js = c.Get("/console.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  auto none = c.Get("/nothing.html");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
}

TEST_F(ConsoleE2E, OffLoopbackOnlyWithTlsAndThenOverHttps) {
  Subprocess plain({WSGATE_AGENT, "--engine", "", "--data-dir", dir_ + "/data2", "--admin-listen", "127.0.0.1:0",
                    "--token-listen", "127.0.0.1:0", "--console-listen", "0.0.0.0:0"});
  EXPECT_EQ(plain.Wait(kTimeoutMs), 2);
  EXPECT_NE(plain.output().find("--console-listen 0.0.0.0:0: refusing to serve credentials in plaintext"),
            std::string::npos)
      << plain.output();

  // A self-signed certificate for 127.0.0.1: the console serves HTTPS with the agent's --tls-cert.
  std::string cert = dir_ + "/console.crt", key = dir_ + "/console.key";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
                         "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert +
                         " 2>/dev/null")
                            .c_str()),
            0);
  Subprocess tls({WSGATE_AGENT, "--engine", "", "--data-dir", dir_ + "/data3", "--admin-listen", "127.0.0.1:0",
                  "--token-listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key",
                  key});
  size_t at = 0;
  int port = tls.NumberAfter("HTTP/JSON admin API on https://127.0.0.1:0/ (port ", kTimeoutMs, &at);
  ASSERT_NE(port, 0) << tls.output();
  httplib::SSLClient https("127.0.0.1", port);
  https.set_ca_cert_path(cert.c_str());
  https.enable_server_certificate_verification(true);
  auto page = https.Get("/");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  httplib::Client plaintext("127.0.0.1", port);
  plaintext.set_read_timeout(5, 0);
  auto refused = plaintext.Get("/");
  EXPECT_TRUE(!refused || refused->status != 200) << "plaintext HTTP must not be served on the TLS port";
}

TEST_F(ConsoleE2E, SeedWalkthroughInHeadlessChromium) {
  if (access(WSGATE_CHROMIUM, X_OK) != 0 || access(WSGATE_NODE, X_OK) != 0 ||
      access(WSGATE_NODE_MODULES "/puppeteer-core", F_OK) != 0)
    GTEST_FAIL() << "needs Debian's chromium, node and puppeteer-core: run tools/setup.sh";
  std::string shots = std::string(WSGATE_SHOTS_DIR);
  ASSERT_EQ(std::system(("rm -rf '" + shots + "' && mkdir -p '" + shots + "'").c_str()), 0);
  Subprocess node({WSGATE_NODE, WSGATE_CONSOLE_SCRIPT},
                  {"NODE_PATH=" WSGATE_NODE_MODULES, "CONSOLE_URL=http://127.0.0.1:" + std::to_string(console_port_),
                   "CREDENTIAL=" + credential_, "ENGINE_WS=ws://127.0.0.1:" + std::to_string(engine_port_),
                   "BACKEND_WS=ws://localhost:" + std::to_string(backend_port_), "CHROMIUM=" WSGATE_CHROMIUM,
                   "SHOTS=" + shots});
  int code = node.Wait(150000);
  EXPECT_EQ(code, 0) << node.output();
  for (const char* name : {"1-publisher-api", "2-wizard-token", "3-try-it-chat", "4-portal-narrow"}) {
    struct stat st {};
    EXPECT_EQ(stat((shots + "/" + name + ".png").c_str(), &st), 0) << name;
    EXPECT_GT(st.st_size, 1000) << name;
  }
}

}  // namespace
