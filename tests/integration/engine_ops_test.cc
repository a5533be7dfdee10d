// Integration tests of the engine's operations surface (issue 13): the admin listener's
// /metrics, /healthz, /readyz and /config_dump against the real in-process engine, the JSON
// access log matched field by field to the sessions driven, and `promtool check metrics` on the
// real /metrics output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include "engine/admin/admin_routes.h"
#include "engine/admin/admin_server.h"
#include "engine/server/access_log.h"
#include "nlohmann/json.hpp"
#include "tests/support/engine_fixture.h"
#include "tests/support/http_get.h"
#include "tests/support/subprocess.h"

namespace wsgate::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of the sample whose line starts with `series` ("name{labels}"), or -1.
double SampleValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

class EngineOpsTest : public EngineFixture {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-ops-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_path_ = dir_ + "/access.log";
    access_log_owned_ = std::make_unique<engine::server::AccessLog>(
        engine::server::AccessLogOptions{log_path_, "eng1", /*log_open=*/false});
    ASSERT_TRUE(access_log_owned_->Start().ok());
    access_log_ = access_log_owned_.get();
    EngineFixture::SetUp();
    admin_ = std::make_unique<engine::admin::AdminServer>(engine::admin::AdminOptions{"127.0.0.1:0"},
                                                          engine::admin::EngineAdminHandler(*engine_));
    absl::Status s = admin_->Start();
    ASSERT_TRUE(s.ok()) << s;
  }
  void TearDown() override {
    if (admin_) admin_->Stop();
    EngineFixture::TearDown();
    if (access_log_owned_) access_log_owned_->Stop();
  }
  uint16_t admin_port() const { return admin_->port(); }

  // The access log's lines as JSON, once at least `n` are there (bounded wait).
  std::vector<nlohmann::json> AccessLines(size_t n) {
    std::vector<nlohmann::json> out;
    for (int i = 0; i < 500; ++i) {
      out.clear();
      std::istringstream in(ReadFile(log_path_));
      for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  }

  std::string dir_, log_path_;
  std::unique_ptr<engine::server::AccessLog> access_log_owned_;
  std::unique_ptr<engine::admin::AdminServer> admin_;
};

TEST_F(EngineOpsTest, MetricsCountTheFramesRelayed) {
  constexpr int kMessages = 25;
  WsClient a;
  ASSERT_TRUE(a.Connect(engine_port(), "/chats/1.0.0/rooms/room1", {Bearer(Token())})) << a.response();
  ExpectWelcome(a, "room1", "You joined room1!");
  WsClient b;
  ASSERT_TRUE(b.Connect(engine_port(), "/chats/1.0.0/rooms/room1", {Bearer(Token())})) << b.response();
  ExpectWelcome(b, "room1", "You joined room1!");
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(a.SendText("m" + std::to_string(i)));
    auto m = b.ReadMessage();
    ASSERT_TRUE(m) << i;
  }
  HttpReply r = HttpGet(admin_port(), "/metrics");
  ASSERT_EQ(r.status, 200) << r.head;
  EXPECT_NE(r.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << r.head;
  const std::string labels = "api=\"Chats\",api_version=\"1.0.0\",environment=\"\"";
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_frames_total{" + labels + ",direction=\"to_backend\"}"), kMessages)
      << r.body;
  EXPECT_GE(SampleValue(r.body, "wsgate_engine_frames_total{" + labels + ",direction=\"to_client\"}"), kMessages + 2);
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_connections{" + labels + ",topic=\"/rooms/{roomID}\"}"), 2);
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_upgrades_total{code=\"101\"}"), 2);
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_handshake_duration_seconds_count"), 2);
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_backend_connect_duration_seconds_count"), 2);
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_config_version"), 1);
  EXPECT_GT(SampleValue(r.body, "wsgate_engine_loop_completions_total{shard=\"0\"}") +
                SampleValue(r.body, "wsgate_engine_loop_completions_total{shard=\"1\"}"),
            2 * kMessages);
  double busy_s = SampleValue(r.body, "wsgate_engine_loop_busy_seconds_total{shard=\"0\"}") +
                  SampleValue(r.body, "wsgate_engine_loop_busy_seconds_total{shard=\"1\"}");
  EXPECT_GT(busy_s, 0);
  EXPECT_LT(busy_s, 60);  // ticks converted to seconds, not left as ticks
  // Nothing per connection or per client reaches a label.
  EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(r.body.find("room1"), std::string::npos);

  a.SendClose(1000, "bye");
  ASSERT_TRUE(a.WaitForEof());
  for (int i = 0; i < 200; ++i) {
    r = HttpGet(admin_port(), "/metrics");
    if (SampleValue(r.body, "wsgate_engine_closes_total{code=\"1000\",side=\"client\"}") == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_closes_total{code=\"1000\",side=\"client\"}"), 1) << r.body;
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_connections{" + labels + ",topic=\"/rooms/{roomID}\"}"), 1);
}

TEST_F(EngineOpsTest, BackendFailuresAreCountedByReasonAndUpgradesByStatus) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://127.0.0.1:1");  // nothing listens
  Apply(s);
  for (int i = 0; i < 3; ++i) {
    WsClient c;
    EXPECT_FALSE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
    EXPECT_EQ(c.status(), 502);
  }
  WsClient no_token;
  EXPECT_FALSE(no_token.Connect(engine_port(), "/chats/1.0.0/notifications"));
  HttpReply r = HttpGet(admin_port(), "/metrics");
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_backend_failures_total{reason=\"connect_error\"}"), 3) << r.body;
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_upgrades_total{code=\"502\"}"), 3);
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_upgrades_total{code=\"401\"}"), 1);
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_backend_connect_failures_total"), 3);
  EXPECT_EQ(SampleValue(r.body, "wsgate_engine_config_version"), 2);
}

TEST_F(EngineOpsTest, PromtoolAcceptsTheMetricsPage) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is missing (Debian package prometheus; tools/setup.sh)";
  WsClient a;
  ASSERT_TRUE(a.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << a.response();
  WsClient refused;
  EXPECT_FALSE(refused.Connect(engine_port(), "/chats/1.0.0/notifications"));
  HttpReply r = HttpGet(admin_port(), "/metrics");
  ASSERT_EQ(r.status, 200);
  std::string file = dir_ + "/metrics.txt";
  std::ofstream(file) << r.body;
  Subprocess promtool({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + file + " 2>&1; echo exit=$?"});
  ASSERT_TRUE(promtool.WaitForOutput("exit=", 20000)) << promtool.output();
  EXPECT_NE(promtool.output().find("exit=0"), std::string::npos) << promtool.output();
  EXPECT_EQ(promtool.output().find("problem"), std::string::npos) << promtool.output();
}

TEST_F(EngineOpsTest, HealthAndErrorsAreTextAnswers) {
  HttpReply h = HttpGet(admin_port(), "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  HttpReply ready = HttpGet(admin_port(), "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  HttpReply missing = HttpGet(admin_port(), "/nope?x=1");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("/metrics, /healthz, /readyz, /config_dump"), std::string::npos) << missing.body;
  HttpReply post = HttpRaw(admin_port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.head.find("Allow: GET, HEAD"), std::string::npos);
  HttpReply garbage = HttpRaw(admin_port(), "GARBAGE\r\n\r\n");
  EXPECT_EQ(garbage.status, 400) << garbage.head;
  HttpReply big = HttpRaw(admin_port(), "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(big.status, 431) << big.head;
  // A client that sends nothing is cut off at the deadline; the listener then serves the next.
  WsClient idle;
  ASSERT_TRUE(idle.ConnectTcp(admin_port()));
  EXPECT_EQ(HttpGet(admin_port(), "/healthz", 8000).status, 200);
}

TEST_F(EngineOpsTest, ConfigDumpHasNoPrivateKey) {
  v1::Snapshot s = BaseSnapshot(2);
  std::string key_pem = ReadFile(KeyFile());
  ASSERT_NE(key_pem.find("PRIVATE KEY"), std::string::npos);
  s.mutable_vhosts(0)->mutable_tls()->set_cert_pem(ReadFile(CertFile()));
  s.mutable_vhosts(0)->mutable_tls()->set_key_pem(key_pem);
  auto* t = s.add_opaque_tokens();
  t->set_client_id("prod-key");
  t->set_sha256(std::string(32, '\x7f'));
  Apply(s);
  HttpReply r = HttpGet(admin_port(), "/config_dump");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("Content-Type: application/json"), std::string::npos);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["version"], "2");
  EXPECT_EQ(j["vhosts"][0]["tls"]["key_pem"], "REDACTED");
  EXPECT_EQ(r.body.find("PRIVATE KEY"), std::string::npos);
  EXPECT_FALSE(j["opaque_tokens"][0].contains("sha256"));
  EXPECT_EQ(j["apis"][0]["name"], "Chats");
}

TEST_F(EngineOpsTest, AccessLogLinesMatchTheSessions) {
  {
    WsClient a;
    ASSERT_TRUE(a.Connect(engine_port(), "/chats/1.0.0/rooms/room1", {Bearer(Token())})) << a.response();
    ExpectWelcome(a, "room1", "You joined room1!");
    ASSERT_TRUE(a.SendText("hello"));
    ASSERT_TRUE(a.SendText("world!"));
    ASSERT_TRUE(a.SendClose(1000, "done"));
    ASSERT_TRUE(a.WaitForEof());
  }
  auto lines = AccessLines(1);
  ASSERT_EQ(lines.size(), 1u);
  WsClient unauthorized;
  EXPECT_FALSE(unauthorized.Connect(engine_port(), "/chats/1.0.0/notifications?access_token=secret-token-text"));
  EXPECT_EQ(unauthorized.status(), 401);
  lines = AccessLines(2);
  WsClient unknown;
  EXPECT_FALSE(unknown.Connect(engine_port(), "/nothing/here", {Bearer(Token())}));
  EXPECT_EQ(unknown.status(), 404);
  lines = AccessLines(3);
  ASSERT_EQ(lines.size(), 3u);

  const auto& relayed = lines[0];
  EXPECT_EQ(relayed["event"], "close");
  EXPECT_TRUE(std::regex_match(relayed["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << relayed["time"];
  EXPECT_TRUE(std::regex_match(relayed["conn_id"].get<std::string>(), std::regex("eng1-[0-9a-f]+"))) << relayed["conn_id"];
  EXPECT_EQ(relayed["engine"], "eng1");
  EXPECT_TRUE(relayed["shard"] == 0 || relayed["shard"] == 1);
  EXPECT_EQ(relayed["client_address"], "127.0.0.1");
  EXPECT_EQ(relayed["vhost"], "127.0.0.1");
  EXPECT_EQ(relayed["api"], "Chats");
  EXPECT_EQ(relayed["api_version"], "1.0.0");
  EXPECT_EQ(relayed["topic"], "/rooms/{roomID}");
  EXPECT_EQ(relayed["application_id"], "app1");
  EXPECT_EQ(relayed["subscription_id"], "sub1");
  EXPECT_EQ(relayed["key_type"], "PRODUCTION");
  EXPECT_EQ(relayed["status"], 101);
  EXPECT_EQ(relayed["client_close_code"], 1000);
  EXPECT_EQ(relayed["backend_close_code"], 1000);
  EXPECT_EQ(relayed["close_code_to_client"], 1000);
  EXPECT_EQ(relayed["closed_by"], "client");
  EXPECT_EQ(relayed["frames_to_backend"], 2);
  EXPECT_EQ(relayed["bytes_to_backend"], 11);
  EXPECT_GE(relayed["frames_to_client"], 1);  // the welcome (and the room's echo, if any)
  EXPECT_GE(relayed["bytes_to_client"], 17);
  EXPECT_EQ(relayed["throttled_frames"], 0);
  EXPECT_GE(relayed["duration_ms"], 0);

  const auto& u = lines[1];
  EXPECT_EQ(u["status"], 401);
  EXPECT_EQ(u["api"], "Chats");
  EXPECT_EQ(u["topic"], "/notifications");
  EXPECT_FALSE(u.contains("frames_to_backend"));
  EXPECT_FALSE(u.contains("application_id"));
  EXPECT_NE(u["conn_id"], relayed["conn_id"]);
  const auto& n = lines[2];
  EXPECT_EQ(n["status"], 404);
  EXPECT_FALSE(n.contains("api"));
  EXPECT_EQ(n["vhost"], "127.0.0.1");
  // Never a token: not in the query form, not as a bearer token.
  std::string text = ReadFile(log_path_);
  EXPECT_EQ(text.find("secret-token-text"), std::string::npos);
  EXPECT_EQ(text.find(Token()), std::string::npos);
}

class EngineReadinessTest : public EngineFixture {
 protected:
  void SetUp() override {
    apply_base_snapshot_ = false;
    EngineFixture::SetUp();
  }
};

TEST_F(EngineReadinessTest, ReadyzIs503UntilTheFirstSnapshotAndWhileDraining) {
  engine::admin::AdminServer admin({"127.0.0.1:0"}, engine::admin::EngineAdminHandler(*engine_));
  ASSERT_TRUE(admin.Start().ok());
  HttpReply r = HttpGet(admin.port(), "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("no config yet"), std::string::npos) << r.body;
  EXPECT_EQ(HttpGet(admin.port(), "/healthz").status, 200);
  EXPECT_EQ(SampleValue(HttpGet(admin.port(), "/metrics").body, "wsgate_engine_ready"), 0);
  Apply(BaseSnapshot());
  r = HttpGet(admin.port(), "/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(SampleValue(HttpGet(admin.port(), "/metrics").body, "wsgate_engine_ready"), 1);
  engine_->Drain(1000);
  r = HttpGet(admin.port(), "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("draining"), std::string::npos) << r.body;
  admin.Stop();
}

TEST(AdminListener, RefusesNonLoopbackUnlessAllowedAndNamesTheFlagOnBindFailure) {
  absl::Status s = engine::admin::CheckAdminAddress("0.0.0.0:9102", false);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--admin-listen-any"), std::string::npos) << s;
  EXPECT_TRUE(engine::admin::CheckAdminAddress("0.0.0.0:9102", true).ok());
  EXPECT_TRUE(engine::admin::CheckAdminAddress("127.0.0.2:9102", false).ok());
  EXPECT_TRUE(engine::admin::CheckAdminAddress("[::1]:9102", false).ok());
  EXPECT_FALSE(engine::admin::CheckAdminAddress("[::]:9102", false).ok());
  EXPECT_FALSE(engine::admin::CheckAdminAddress("localhost", false).ok());

  auto handler = [](const engine::admin::AdminRequest&) { return engine::admin::AdminResponse{}; };
  engine::admin::AdminServer first({"127.0.0.1:0"}, handler);
  ASSERT_TRUE(first.Start().ok());
  engine::admin::AdminServer second({"127.0.0.1:" + std::to_string(first.port())}, handler);
  s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--admin-listen 127.0.0.1:"), std::string::npos) << s;
  EXPECT_NE(s.message().find("bind"), std::string::npos) << s;
}

}  // namespace
}  // namespace wsgate::testing
