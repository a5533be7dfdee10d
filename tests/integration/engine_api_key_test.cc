// Integration tests for API keys at the upgrade (issue 14 item 4), against the real engine (two
// shards): the key from the `apikey` header or ?apikey= opens an API with the api_key scheme, and
// neither reaches the backend (a recording backend sees the forwarded request); refusals with
// their exact status and body; a revocation push closes a live socket with 4001.
#include <gtest/gtest.h>

#include <string>

#include "engine/ws/frame.h"
#include "tests/support/recording_backend.h"
#include "tests/support/engine_fixture.h"

namespace wsgate::testing {
namespace {

constexpr const char* kKey = "wsk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

std::string Hash(const std::string& text) {
  engine::tls::Sha256Digest d = engine::tls::Sha256(text);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

class EngineApiKeyTest : public EngineFixture {
 protected:
  // BaseSnapshot with the Chats API accepting `schemes` and the key kKey of app1 (restricted by
  // `ip_ranges` / `origins` when given); its backend `backend_url` when given.
  v1::Snapshot WithKey(uint64_t version, std::vector<std::string> schemes, const std::string& backend_url = "",
                       const std::vector<std::string>& ip_ranges = {}, const std::vector<std::string>& origins = {}) {
    v1::Snapshot s = BaseSnapshot(version);
    for (const auto& scheme : schemes) s.mutable_apis(0)->add_security_schemes(scheme);
    if (!backend_url.empty()) s.mutable_apis(0)->mutable_production_endpoint()->set_url(backend_url);
    v1::ApiKey* k = s.add_api_keys();
    k->set_sha256(Hash(kKey));
    k->set_id("key-1");
    k->set_application_id("app1");
    k->set_key_type(v1::PRODUCTION);
    for (const auto& ip : ip_ranges) k->add_ip_ranges(ip);
    for (const auto& o : origins) k->add_origins(o);
    return s;
  }
  // The upgrade request the engine sends a recording backend for a client on `path` with `headers`.
  std::string Forwarded(uint64_t version, std::vector<std::string> schemes, const std::string& path,
                        const std::vector<std::string>& headers) {
    RecordingBackend recording;
    Apply(WithKey(version, std::move(schemes), "ws://127.0.0.1:" + std::to_string(recording.port())));
    WsClient c;
    EXPECT_TRUE(c.Connect(engine_port(), path, headers)) << path << ": " << c.response();
    return recording.WaitForRequest(0);
  }
};

TEST_F(EngineApiKeyTest, TheKeyNeverReachesTheBackend) {
  // ?apikey= is removed; the client's other parameters stay.
  std::string req = Forwarded(2, {"api_key"}, std::string("/chats/1.0.0/rooms/r1?lang=en&apikey=") + kKey, {});
  EXPECT_EQ(req.rfind("GET /rooms?room=r1&lang=en HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_EQ(req.find("apikey"), std::string::npos) << req;
  EXPECT_EQ(req.find(kKey), std::string::npos) << req;

  // The `apikey` header (any case) is not forwarded either.
  req = Forwarded(3, {"api_key"}, "/chats/1.0.0/rooms/r2", {std::string("ApiKey: ") + kKey});
  EXPECT_EQ(req.rfind("GET /rooms?room=r2 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_EQ(req.find(kKey), std::string::npos) << req;
  EXPECT_EQ(req.find("piKey"), std::string::npos) << req;

  // On an API with both schemes where a bearer token decides, the key is still stripped.
  req = Forwarded(4, {"oauth2", "api_key"}, std::string("/chats/1.0.0/rooms/r3?apikey=") + kKey + "&x=1",
                  {Bearer(Token())});
  EXPECT_EQ(req.rfind("GET /rooms?room=r3&x=1 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_EQ(req.find(kKey), std::string::npos) << req;
  EXPECT_EQ(req.find("Authorization"), std::string::npos) << req;

  // And on an oauth2-only API, where it means nothing, ?apikey= is dropped too.
  req = Forwarded(5, {}, std::string("/chats/1.0.0/rooms/r4?apikey=") + kKey, {Bearer(Token())});
  EXPECT_EQ(req.rfind("GET /rooms?room=r4 HTTP/1.1\r\n", 0), 0u) << req;
}

TEST_F(EngineApiKeyTest, RefusalsHaveExactStatusesAndBodies) {
  Apply(WithKey(2, {"api_key"}));
  const std::string path = "/chats/1.0.0/notifications";
  Refusal r = Refuse(path, {"apikey: wsk_not-a-key"});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "Invalid Credentials");
  r = Refuse(path, {});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "No apikey header or apikey query parameter present");
  r = Refuse(path, {Bearer(Token())});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "Invalid Credentials: this API accepts only API keys (the apikey header or ?apikey=)");

  // Restrictions: the client address (127.0.0.1 here) and the Origin.
  Apply(WithKey(3, {"api_key"}, "", {"10.0.0.0/8"}));
  r = Refuse(path, {std::string("apikey: ") + kKey});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "Forbidden: this API key is not allowed from address 127.0.0.1");
  Apply(WithKey(4, {"api_key"}, "", {"127.0.0.0/8"}, {"https://app.example.com"}));
  r = Refuse(path, {std::string("apikey: ") + kKey, "Origin: https://evil.example"});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "Forbidden: this API key is not allowed from origin https://evil.example");
  EXPECT_EQ(Refuse(path, {std::string("apikey: ") + kKey, "Origin: https://app.example.com"}).status, 101);
  EXPECT_EQ(Refuse(path, {std::string("apikey: ") + kKey, "Referer: https://app.example.com/chat"}).status, 101);

  // Without the api_key scheme the key is ignored: no token is the usual 401.
  Apply(WithKey(5, {}));
  r = Refuse(path, {std::string("apikey: ") + kKey});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "No Authorization Header or access_token query parameter present");
}

TEST_F(EngineApiKeyTest, RevocationPushClosesALiveSocketWith4001) {
  Apply(WithKey(2, {"oauth2", "api_key"}));
  WsClient by_header, by_query;
  ASSERT_TRUE(by_header.Connect(engine_port(), "/chats/1.0.0/notifications", {std::string("apikey: ") + kKey}))
      << by_header.response();
  ExpectWelcome(by_header, "header", "Subscribed to notifications!");
  ASSERT_TRUE(by_query.Connect(engine_port(), std::string("/chats/1.0.0/notifications?apikey=") + kKey, {}))
      << by_query.response();
  ExpectWelcome(by_query, "query", "Subscribed to notifications!");
  auto token_client = Join("/chats/1.0.0/notifications", "Subscribed to notifications!");

  // A push that changes nothing about the key keeps both sockets.
  auto same = engine_->Apply(WithKey(3, {"oauth2", "api_key"}));
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->connections_closed, 0u);

  v1::Snapshot revoked = WithKey(4, {"oauth2", "api_key"});
  revoked.clear_api_keys();
  auto r = engine_->Apply(revoked);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->connections_closed, 2u);  // the two key sockets; the token's stays
  for (WsClient* c : {&by_header, &by_query}) {
    auto f = c->ReadFrame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->opcode, 0x8);
    auto close = ParseClose(f->payload);
    EXPECT_EQ(close.code, 4001);
    EXPECT_EQ(close.reason, "Invalid Credentials Connection closed!");
  }
  ASSERT_TRUE(token_client->SendText("still here"));
  Refusal gone = Refuse("/chats/1.0.0/notifications", {std::string("apikey: ") + kKey});
  EXPECT_EQ(gone.status, 401);
  EXPECT_EQ(gone.body, "Invalid Credentials");
}

TEST_F(EngineApiKeyTest, AnExpiringKeyClosesItsSocketAtExpiry) {
  v1::Snapshot s = WithKey(2, {"api_key"});
  s.mutable_token_validation()->set_clock_skew_s(1);  // 0 would be the default 30 s
  s.mutable_api_keys(0)->set_expires_unix_s(time(nullptr) + 2);
  Apply(s);
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {std::string("apikey: ") + kKey})) << c.response();
  ExpectWelcome(c, "expiring", "Subscribed to notifications!");
  auto f = c.ReadFrame();  // no push: the engine's own timer
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 0x8);
  EXPECT_EQ(ParseClose(f->payload).code, 4001);
}

}  // namespace
}  // namespace wsgate::testing
