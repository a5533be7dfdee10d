// End-to-end test of wsgate-engine as a process: the chat backend and the engine started as a
// user would (the engine from a --config file), wscat from npm as the client, the control API
// called over its Unix socket with a generated gRPC client, and SIGTERM.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <cstdio>
#include <sstream>
#include <fstream>
#include <memory>
#include <string>

#include "tests/support/subprocess.h"
#include "wsgate/v1/engine.grpc.pb.h"

namespace {

using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 10000;
// SHA-256("e2e-token"): the config knows opaque tokens only by their hash.
constexpr char kTokenHash[] =
    "\\xcc\\x31\\x8a\\xf2\\x12\\x9b\\x32\\x9b\\x08\\x4e\\xbd\\xf1\\x7f\\x26\\x08\\xbf"
    "\\x3d\\x8a\\x7d\\xa6\\x08\\x2f\\x34\\x5c\\xeb\\xf2\\x05\\x83\\x38\\x76\\xfd\\x88";

std::string Config(const std::string& backend_port, bool with_token) {
  std::string c = R"pb(
    version: 1
    agent_id: "e2e"
    vhosts { name: "localhost" aliases: "127.0.0.1" }
    apis {
      id: "chats" name: "Chats" context: "/chats" version: "1.0.0" is_default_version: true
      state: PUBLISHED vhosts: "localhost"
      production_endpoint { url: "ws://localhost:BACKEND" }
      topics { name: "/notifications" url_mapping: "/notifications" }
      topics { name: "/rooms/{roomID}" url_mapping: "/rooms?room={uri.var.roomID}" }
    }
    applications { id: "app" name: "ChatApp" }
    subscriptions { id: "sub" application_id: "app" api_id: "chats" plan: "AsyncGold" }
    consumer_keys { client_id: "client" application_id: "app" key_type: PRODUCTION }
  )pb";
  c.replace(c.find("BACKEND"), 7, backend_port);
  if (with_token) c += std::string("opaque_tokens { client_id: \"client\" sha256: \"") + kTokenHash + "\" }\n";
  return c;
}

class EngineWscat : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(WSGATE_WSCAT, X_OK), 0) << WSGATE_WSCAT << " is missing: run tools/setup.sh";
    char tmpl[] = "/tmp/wsgate-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = std::make_unique<Subprocess>(
        std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0", "--bind", "0.0.0.0"});
    size_t at = 0;
    ASSERT_TRUE(backend_->WaitForOutput("Notifications on: ws://localhost:", kTimeoutMs, &at)) << backend_->output();
    backend_port_ = std::to_string(std::stoi(backend_->output().substr(at)));
    std::string config = Config(backend_port_, true);
    if (default_vhost_) config.replace(config.find("aliases: \"127.0.0.1\""), 20, "aliases: \"127.0.0.1\" is_default: true");
    std::ofstream(dir_ + "/chats.textproto") << config;
    socket_ = dir_ + "/engine.sock";
    engine_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_ENGINE, "--config", dir_ + "/chats.textproto", "--ws-listen", listen_, "--shards", "2",
        "--control", "unix:" + socket_, "--drain-timeout-ms", "3000", "--admin-listen", "127.0.0.1:0"});
    at = 0;
    ASSERT_TRUE(engine_->WaitForOutput("(port ", kTimeoutMs, &at)) << engine_->output();
    engine_port_ = std::to_string(std::stoi(engine_->output().substr(at)));
    ASSERT_TRUE(engine_->WaitForOutput("control on unix:", kTimeoutMs)) << engine_->output();
  }
  void TearDown() override {
    engine_.reset();
    backend_.reset();
    std::string cmd = "rm -rf " + dir_;
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  std::unique_ptr<Subprocess> Wscat(const std::string& path, bool header = true, const std::string& host = "127.0.0.1") {
    std::vector<std::string> argv{WSGATE_WSCAT, "--no-color", "-c", "ws://" + host + ":" + engine_port_ + path};
    if (header) {
      argv.push_back("-H");
      argv.push_back("Authorization: Bearer e2e-token");
    }
    return std::make_unique<Subprocess>(argv);
  }

  std::unique_ptr<wsgate::v1::EngineControl::Stub> Control() {
    return wsgate::v1::EngineControl::NewStub(
        grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials()));
  }

  std::string dir_, socket_, backend_port_, engine_port_;
  std::unique_ptr<Subprocess> backend_, engine_;
  std::string listen_ = "127.0.0.1:0";  // --ws-listen
  bool default_vhost_ = false;          // the localhost vhost serves every Host
};

bool HasIpv6Loopback() {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

// Issue 12: the default listener family [::] (dual-stack), wscat over ws://[::1]:PORT and
// ws://127.0.0.1:PORT to the same port; the default vhost serves the Host "[::1]:PORT".
class EngineWscatIpv6 : public EngineWscat {
 protected:
  void SetUp() override {
    if (!HasIpv6Loopback()) GTEST_SKIP() << "this host has no IPv6 loopback";
    listen_ = "[::]:0";
    default_vhost_ = true;
    EngineWscat::SetUp();
  }
};

TEST_F(EngineWscatIpv6, WscatOverIpv6AndIpv4ToTheSameDualStackListener) {
  auto v6 = Wscat("/chats/1.0.0/rooms/room1", true, "[::1]");
  ASSERT_TRUE(v6->WaitForOutput("You joined room1!", kTimeoutMs)) << v6->output() << engine_->output();
  auto v4 = Wscat("/chats/1.0.0/rooms/room1");
  ASSERT_TRUE(v4->WaitForOutput("You joined room1!", kTimeoutMs)) << v4->output();
  ASSERT_TRUE(v6->WriteStdin("from ipv6\n"));
  EXPECT_TRUE(v4->WaitForOutput("from ipv6", kTimeoutMs)) << v4->output();
  ASSERT_TRUE(v4->WriteStdin("from ipv4\n"));
  EXPECT_TRUE(v6->WaitForOutput("from ipv4", kTimeoutMs)) << v6->output();
}

TEST_F(EngineWscat, WalkthroughThroughTheEngineWithWscat) {
  auto notifications = Wscat("/chats/1.0.0/notifications");
  ASSERT_TRUE(notifications->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << notifications->output();
  auto first = Wscat("/chats/1.0.0/rooms/room1");
  ASSERT_TRUE(first->WaitForOutput("You joined room1!", kTimeoutMs)) << first->output();
  size_t seen = 0;
  ASSERT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs, &seen));
  // The second client uses the query-string form of the token.
  auto second = Wscat("/chats/1.0.0/rooms/room1?access_token=e2e-token", false);
  ASSERT_TRUE(second->WaitForOutput("You joined room1!", kTimeoutMs)) << second->output();
  ASSERT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs, &seen));
  ASSERT_TRUE(first->WriteStdin("over the gateway\n"));
  EXPECT_TRUE(second->WaitForOutput("over the gateway", kTimeoutMs)) << second->output();
  ASSERT_TRUE(second->WriteStdin("and back\n"));
  EXPECT_TRUE(first->WaitForOutput("and back", kTimeoutMs)) << first->output();
  EXPECT_EQ(notifications->CountInOutput("over the gateway"), 0u);

  // No token: wscat reports the 401.
  auto anonymous = Wscat("/chats/1.0.0/notifications", false);
  EXPECT_NE(anonymous->Wait(kTimeoutMs), 0);
  EXPECT_NE(anonymous->output().find("401"), std::string::npos) << anonymous->output();
  // An unknown room: the backend closes TCP, the engine answers 502.
  auto room9 = Wscat("/chats/1.0.0/rooms/room9");
  EXPECT_NE(room9->Wait(kTimeoutMs), 0);
  EXPECT_NE(room9->output().find("502"), std::string::npos) << room9->output();

  // SIGTERM: every client is closed properly (wscat exits 0 on a close frame) and the engine
  // exits 0.
  engine_->Signal(SIGTERM);
  EXPECT_EQ(engine_->Wait(kTimeoutMs), 0) << engine_->output();
  EXPECT_EQ(notifications->Wait(kTimeoutMs), 0) << notifications->output();
  EXPECT_EQ(first->Wait(kTimeoutMs), 0);
  EXPECT_EQ(access(socket_.c_str(), F_OK), -1) << "the control socket is removed on exit";
}

TEST_F(EngineWscat, ControlSocketIsPrivateAndPushesApplyOrAreRejected) {
  struct stat st;
  ASSERT_EQ(stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto stub = Control();
  grpc::ClientContext status_ctx;
  wsgate::v1::EngineStatus status;
  ASSERT_TRUE(stub->GetStatus(&status_ctx, {}, &status).ok());
  EXPECT_EQ(status.applied_version(), 1u);
  EXPECT_EQ(status.shards(), 2u);

  auto listener = Wscat("/chats/1.0.0/notifications");
  ASSERT_TRUE(listener->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << listener->output();

  // A bad snapshot is refused with the field path; the engine keeps serving the old one.
  {
    grpc::ClientContext ctx;
    wsgate::v1::ApplySnapshotRequest req;
    auto* s = req.mutable_snapshot();
    s->set_version(2);
    s->set_agent_id("e2e");
    auto* api = s->add_apis();
    api->set_id("x");
    api->set_context("no-slash");
    wsgate::v1::ApplyResponse resp;
    grpc::Status st2 = stub->ApplySnapshot(&ctx, req, &resp);
    EXPECT_EQ(st2.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st2.error_message().find("apis[0].context"), std::string::npos) << st2.error_message();
  }
  auto still = Wscat("/chats/1.0.0/rooms/room2");
  ASSERT_TRUE(still->WaitForOutput("You joined room2!", kTimeoutMs)) << still->output();

  // Removing the token closes the live listen-only socket.
  {
    grpc::ClientContext ctx;
    wsgate::v1::ApplySnapshotRequest req;
    // The same API, application and key, without the token, as version 2.
    wsgate::v1::Snapshot* s = req.mutable_snapshot();
    s->set_version(2);
    s->set_agent_id("e2e");
    auto* vhost = s->add_vhosts();
    vhost->set_name("localhost");
    vhost->add_aliases("127.0.0.1");
    auto* api = s->add_apis();
    api->set_id("chats");
    api->set_name("Chats");
    api->set_context("/chats");
    api->set_version("1.0.0");
    api->add_vhosts("localhost");
    api->mutable_production_endpoint()->set_url("ws://localhost:" + backend_port_);
    api->add_topics()->set_name("/notifications");
    auto* app = s->add_applications();
    app->set_id("app");
    auto* sub = s->add_subscriptions();
    sub->set_id("sub");
    sub->set_application_id("app");
    sub->set_api_id("chats");
    auto* key = s->add_consumer_keys();
    key->set_client_id("client");
    key->set_application_id("app");
    wsgate::v1::ApplyResponse resp;
    grpc::Status st3 = stub->ApplySnapshot(&ctx, req, &resp);
    ASSERT_TRUE(st3.ok()) << st3.error_message();
    EXPECT_EQ(resp.applied_version(), 2u);
    EXPECT_GE(resp.connections_closed(), 1u);
  }
  EXPECT_EQ(listener->Wait(kTimeoutMs), 0) << "closed with a close frame (4001), not dropped";

  grpc::ClientContext stats_ctx;
  wsgate::v1::GetStatsRequest stats_req;
  stats_req.set_per_api(true);
  wsgate::v1::EngineStats stats;
  ASSERT_TRUE(stub->GetStats(&stats_ctx, stats_req, &stats).ok());
  EXPECT_GE(stats.total_connections(), 2u);
  EXPECT_GE(stats.closes().at("4001"), 1u);
}

TEST(EngineBinary, WssWithWscatBindsOnlyBoringSsl) {
  // A real wss session (wscat -n) plus a control push, with the dynamic linker logging every
  // symbol binding: every TLS and crypto symbol must resolve to BoringSSL (android/libssl.so.0,
  // android/libcrypto.so.0) and nothing may bind to OpenSSL 3 (DESIGN.md).
  char tmpl[] = "/tmp/wsgate-ld-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  Subprocess backend({WSGATE_CHAT_BACKEND, "--port", "0"});
  size_t at = 0;
  ASSERT_TRUE(backend.WaitForOutput("Notifications on: ws://localhost:", kTimeoutMs, &at));
  std::string backend_port = std::to_string(std::stoi(backend.output().substr(at)));
  std::ofstream(dir + "/chats.textproto") << Config(backend_port, true);
  Subprocess engine({WSGATE_ENGINE, "--config", dir + "/chats.textproto", "--ws-listen", "127.0.0.1:0", "--wss-listen",
                     "127.0.0.1:0", "--tls-cert", dir + "/dev.crt", "--tls-key", dir + "/dev.key", "--tls-dev-cert",
                     "--control", "unix:" + dir + "/engine.sock", "--shards", "1", "--admin-listen", "127.0.0.1:0", "--drain-timeout-ms", "2000"},
                    {"LD_DEBUG=bindings", "LD_DEBUG_OUTPUT=" + dir + "/ld"});
  at = 0;
  ASSERT_TRUE(engine.WaitForOutput("and wss on 127.0.0.1:0 (port ", kTimeoutMs, &at)) << engine.output();
  std::string wss_port = std::to_string(std::stoi(engine.output().substr(at)));
  Subprocess wscat({WSGATE_WSCAT, "--no-color", "-n", "-c", "wss://localhost:" + wss_port + "/chats/1.0.0/rooms/room1",
                    "-H", "Authorization: Bearer e2e-token"});
  ASSERT_TRUE(wscat.WaitForOutput("You joined room1!", kTimeoutMs)) << wscat.output() << engine.output();
  ASSERT_TRUE(wscat.WriteStdin("hello over wss\n"));
  {
    auto stub = wsgate::v1::EngineControl::NewStub(
        grpc::CreateChannel("unix:" + dir + "/engine.sock", grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    wsgate::v1::GetStatusRequest req;
    wsgate::v1::EngineStatus status;
    ASSERT_TRUE(stub->GetStatus(&ctx, req, &status).ok());
  }
  engine.Signal(SIGTERM);
  EXPECT_EQ(engine.Wait(kTimeoutMs), 0) << engine.output();
  EXPECT_EQ(wscat.Wait(kTimeoutMs), 0) << wscat.output();

  std::string log;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    if (std::string(e->d_name).rfind("ld.", 0) != 0) continue;
    std::ifstream in(dir + "/" + e->d_name);
    std::stringstream buf;
    buf << in.rdbuf();
    log += buf.str();
  }
  closedir(d);
  ASSERT_FALSE(log.empty()) << "LD_DEBUG wrote nothing";
  EXPECT_EQ(log.find("libssl.so.3"), std::string::npos);
  EXPECT_EQ(log.find("libcrypto.so.3"), std::string::npos);
  auto bound_to = [&](const std::string& symbol, const std::string& library) {
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line))
      if (line.find("`" + symbol + "'") != std::string::npos && line.find(" to ") != std::string::npos)
        return line.find(library, line.find(" to ")) != std::string::npos;
    return false;
  };
  EXPECT_TRUE(bound_to("SSL_read", "android/libssl.so.0")) << "SSL_read was not bound to BoringSSL";
  EXPECT_TRUE(bound_to("SSL_write", "android/libssl.so.0"));
  EXPECT_TRUE(bound_to("EVP_DigestVerify", "android/libcrypto.so.0") ||
              bound_to("SHA256", "android/libcrypto.so.0"));
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

TEST(EngineBinary, HoldsBoringSslAndNoOpenSsl) {
  // DESIGN.md: the engine's process must never hold OpenSSL 3 next to BoringSSL. It links
  // grpc++_unsecure, so ldd must show BoringSSL's libcrypto.so.0 and no libssl.so.3/libcrypto.so.3.
  std::string cmd = std::string("ldd ") + WSGATE_ENGINE;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  pclose(p);
  EXPECT_NE(out.find("android/libcrypto.so.0"), std::string::npos) << out;
  EXPECT_EQ(out.find("libssl.so.3"), std::string::npos) << out;
  EXPECT_EQ(out.find("libcrypto.so.3"), std::string::npos) << out;
  EXPECT_NE(out.find("libgrpc++_unsecure"), std::string::npos) << out;
}

TEST(EngineBinary, BadFlagsAndConfigsExitWithAClearError) {
  Subprocess bad_flag({WSGATE_ENGINE, "--shards", "many"});
  EXPECT_EQ(bad_flag.Wait(kTimeoutMs), 2);
  EXPECT_NE(bad_flag.output().find("--shards: 'many' is not a whole number"), std::string::npos) << bad_flag.output();
  Subprocess bad_control({WSGATE_ENGINE, "--control", "relative.sock"});
  EXPECT_EQ(bad_control.Wait(kTimeoutMs), 2);
  EXPECT_NE(bad_control.output().find("--control"), std::string::npos);
  Subprocess missing({WSGATE_ENGINE, "--config", "/nonexistent/x.textproto"});
  EXPECT_EQ(missing.Wait(kTimeoutMs), 2);
  EXPECT_NE(missing.output().find("cannot read /nonexistent/x.textproto"), std::string::npos) << missing.output();
  // The unauthenticated TCP control listener is gone (issue #11, item 6): any local user could push.
  Subprocess tcp_control({WSGATE_ENGINE, "--control", "unix:/tmp/wsgate-e2e-unused.sock", "--control-tcp",
                          "127.0.0.1:0", "--ws-listen", "127.0.0.1:0"});
  EXPECT_EQ(tcp_control.Wait(kTimeoutMs), 2);
  EXPECT_NE(tcp_control.output().find("--control-tcp was removed"), std::string::npos) << tcp_control.output();
  // JSON configs: a bad field is named; a good one is served.
  std::ofstream("/tmp/wsgate-e2e-bad.json") << R"({"version": 1, "apis": [{"nope": 1}]})";
  Subprocess bad_json({WSGATE_ENGINE, "--config", "/tmp/wsgate-e2e-bad.json", "--ws-listen", "127.0.0.1:0"});
  EXPECT_EQ(bad_json.Wait(kTimeoutMs), 2);
  EXPECT_NE(bad_json.output().find("not a valid JSON snapshot"), std::string::npos) << bad_json.output();
  std::ofstream("/tmp/wsgate-e2e-good.json") << R"({"version": 3, "agentId": "json", "vhosts": [{"name": "localhost"}]})";
  Subprocess good_json({WSGATE_ENGINE, "--config", "/tmp/wsgate-e2e-good.json", "--ws-listen", "127.0.0.1:0",
                        "--control", "unix:/tmp/wsgate-e2e-json.sock", "--admin-listen", "127.0.0.1:0"});
  EXPECT_TRUE(good_json.WaitForOutput("config version 3", kTimeoutMs)) << good_json.output();
  good_json.Signal(SIGTERM);
  EXPECT_EQ(good_json.Wait(kTimeoutMs), 0) << good_json.output();
  unlink("/tmp/wsgate-e2e-bad.json");
  unlink("/tmp/wsgate-e2e-good.json");
  Subprocess help({WSGATE_ENGINE, "--help"});
  EXPECT_EQ(help.Wait(kTimeoutMs), 0);
  EXPECT_NE(help.output().find("--ws-listen"), std::string::npos);
}

}  // namespace
