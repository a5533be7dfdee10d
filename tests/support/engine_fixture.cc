// File: tests/support/engine_fixture.cc
#include "tests/support/engine_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/auth/jwt.h"
#include "engine/common/log.h"
#include "engine/tls/tls.h"

namespace wsgate::testing {

void EngineFixture::SetUp() {
  if (std::getenv("WSGATE_TEST_DEBUG") != nullptr) common::SetLogLevel(common::LogLevel::kDebug);
  tools::chat::ServerOptions bo;
  bo.bind_address = "127.0.0.1";
  bo.port = 0;
  backend_ = std::make_unique<tools::chat::ChatServer>(bo);
  ASSERT_TRUE(backend_->Listen().ok());
  backend_thread_ = std::thread([this] { (void)backend_->Run(); });

  auto key = engine::tls::PrivateKey::Generate(engine::tls::SignatureAlgorithm::kRs256);
  ASSERT_TRUE(key.ok());
  signing_key_ = *std::move(key);

  engine::server::ServerOptions so;
  so.ws_listen = ws_listen_;
  so.wss_listen = "127.0.0.1:0";
  if (resolver_) so.resolver = resolver_;
  so.tls = {CertFile(), KeyFile()};
  so.shards = shards_;
  so.buffer_count = 1024;
  so.max_connections_per_shard = max_connections_;
  if (ring_entries_ != 0) so.ring_entries = ring_entries_;
  so.cq_entries = cq_entries_;
  so.access_log = access_log_;
  so.measure_busy = true;
  so.quota = quota_;
  engine_ = std::make_unique<engine::server::Server>(so);
  absl::Status s = engine_->Start();
  ASSERT_TRUE(s.ok()) << s;
  if (apply_base_snapshot_) Apply(BaseSnapshot());
}

const std::string& EngineFixture::CertDir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/wsgate-test-certs-XXXXXX";
    std::string d = mkdtemp(tmpl);
    absl::Status s = engine::tls::WriteSelfSignedCertificate(d + "/engine.crt", d + "/engine.key", {"localhost", "127.0.0.1"});
    if (!s.ok()) std::abort();
    s = engine::tls::WriteSelfSignedCertificate(d + "/backend.crt", d + "/backend.key", {"localhost", "127.0.0.1"});
    if (!s.ok()) std::abort();
    return d;
  }();
  return dir;
}
const std::string& EngineFixture::CertFile() {
  static const std::string f = CertDir() + "/engine.crt";
  return f;
}
const std::string& EngineFixture::KeyFile() {
  static const std::string f = CertDir() + "/engine.key";
  return f;
}

void EngineFixture::TearDown() {
  if (engine_) {
    engine_->Drain(1000);
    engine_->Wait();
    engine_.reset();
  }
  if (backend_) {
    backend_->Stop();
    backend_thread_.join();
  }
}

v1::Snapshot EngineFixture::BaseSnapshot(uint64_t version) {
  v1::Snapshot s;
  s.set_version(version);
  s.set_agent_id("test-agent");
  s.mutable_token_validation()->set_issuer("wsgate");
  auto* vhost = s.add_vhosts();
  vhost->set_name("localhost");
  vhost->add_aliases("127.0.0.1");
  auto* api = s.add_apis();
  api->set_id("api-chats");
  api->set_name("Chats");
  api->set_context("/chats");
  api->set_version("1.0.0");
  api->set_is_default_version(true);
  api->set_state(v1::PUBLISHED);
  api->add_vhosts("localhost");
  api->mutable_production_endpoint()->set_url(absl::StrCat("ws://127.0.0.1:", backend_->port()));
  auto* t1 = api->add_topics();
  t1->set_name("/notifications");
  t1->set_url_mapping("/notifications");
  auto* t2 = api->add_topics();
  t2->set_name("/rooms/{roomID}");
  t2->set_url_mapping("/rooms?room={uri.var.roomID}");
  auto* app = s.add_applications();
  app->set_id("app1");
  app->set_name("ChatApp");
  auto* sub = s.add_subscriptions();
  sub->set_id("sub1");
  sub->set_application_id("app1");
  sub->set_api_id("api-chats");
  sub->set_plan("AsyncGold");
  auto* k1 = s.add_consumer_keys();
  k1->set_client_id("prod-key");
  k1->set_application_id("app1");
  k1->set_key_type(v1::PRODUCTION);
  auto* k2 = s.add_consumer_keys();
  k2->set_client_id("sand-key");
  k2->set_application_id("app1");
  k2->set_key_type(v1::SANDBOX);
  auto* sk = s.add_signing_keys();
  sk->set_kid("k1");
  sk->set_algorithm(v1::RS256);
  sk->set_public_key_pem(signing_key_->PublicKeyPem());
  return s;
}

v1::ThrottlePolicy* EngineFixture::AddPolicy(v1::Snapshot& s, const std::string& name, uint64_t events, bool stop) {
  v1::ThrottlePolicy* p = s.add_throttle_policies();
  p->set_name(name);
  p->set_events(events);
  p->set_unit(v1::DAY);
  p->set_stop_on_quota_reach(stop);
  return p;
}

EngineFixture::Refusal EngineFixture::Refuse(const std::string& path, const std::vector<std::string>& headers) {
  WsClient c;
  Refusal r;
  if (c.Connect(engine_port(), path, headers)) {
    r.status = 101;
    return r;
  }
  r.status = c.status();
  std::string seen;
  c.WaitForEof(&seen);
  std::string all = c.response() + seen;
  size_t end = all.find("\r\n\r\n");
  r.head = all.substr(0, end == std::string::npos ? all.size() : end + 4);
  r.body = end == std::string::npos ? "" : all.substr(end + 4);
  return r;
}

std::unique_ptr<WsClient> EngineFixture::Join(const std::string& path, const std::string& welcome) {
  auto c = std::make_unique<WsClient>();
  EXPECT_TRUE(c->Connect(engine_port(), path, {Bearer(Token())})) << c->response();
  ExpectWelcome(*c, path, welcome);
  return c;
}

void EngineFixture::ExpectWelcome(WsClient& c, const std::string& path, const std::string& welcome) {
  auto m = c.ReadMessage();
  EXPECT_TRUE(m.has_value()) << path;
  if (m) {
    EXPECT_EQ(m->payload, welcome);
  }
}

std::vector<std::unique_ptr<WsClient>> EngineFixture::HoldTcpClients(int n) {
  std::vector<std::unique_ptr<WsClient>> held;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<WsClient>();
    EXPECT_TRUE(c->ConnectTcp(engine_port()));
    held.push_back(std::move(c));
  }
  for (int i = 0; i < 400 && engine_->CollectStats().open_sockets < static_cast<uint64_t>(n); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(engine_->CollectStats().open_sockets, static_cast<uint64_t>(n));
  return held;
}

int EngineFixture::SilentListener(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

void EngineFixture::Apply(const v1::Snapshot& s) {
  auto r = engine_->Apply(s);
  ASSERT_TRUE(r.ok()) << r.status();
}

std::string EngineFixture::Token(const std::string& client_id, int64_t ttl_s, const std::string& jti,
                                 const std::string& extra_claims) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::string header = engine::auth::Base64UrlEncode(R"({"alg":"RS256","typ":"JWT","kid":"k1"})");
  std::string payload = engine::auth::Base64UrlEncode(absl::StrCat(
      R"({"iss":"wsgate","sub":"dev","client_id":")", client_id, R"(","exp":)", now + ttl_s, R"(,"iat":)", now,
      R"(,"jti":")", jti, R"(")", extra_claims, "}"));
  std::string input = header + "." + payload;
  return input + "." + engine::auth::Base64UrlEncode(signing_key_->Sign(input));
}

}  // namespace wsgate::testing
