// Integration tests for issue 14 item 7 on the real engine: the backend JWT a recording backend
// gets in the upgrade request (signature checked with the pushed key's public half, every claim,
// a client's forged copy removed, one signature for reconnects) and the pass-through allow-list.
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "engine/common/base64.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/recording_backend.h"

namespace wsgate::testing {
namespace {

using Json = nlohmann::json;

class EngineBackendIdentityTest : public EngineFixture {
 protected:
  // The base config with the Chats API pointed at the recording backend, `backend` settings and
  // an ES256 backend-signing key.
  void Configure(const std::string& backend_text, uint64_t version = 2) {
    backend_key_ = *engine::tls::PrivateKey::Generate(engine::tls::SignatureAlgorithm::kEs256);
    v1::Snapshot s = BaseSnapshot(version);
    v1::Api* api = s.mutable_apis(0);
    api->mutable_production_endpoint()->set_url(absl::StrCat("ws://127.0.0.1:", recorder_.port()));
    api->mutable_sandbox_endpoint()->set_url(absl::StrCat("ws://127.0.0.1:", recorder_.port()));
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(backend_text, api->mutable_backend()));
    s.mutable_applications(0)->set_owner("alice");
    s.mutable_applications(0)->set_throttle_policy("Unlimited");
    s.mutable_backend_signing_key()->set_kid("backend-k1");
    s.mutable_backend_signing_key()->set_algorithm(v1::ES256);
    s.mutable_backend_signing_key()->set_private_key_pem(backend_key_->PrivateKeyPem());
    Apply(s);
  }
  // Connects through the engine and returns the request head the backend got.
  std::string Through(const std::vector<std::string>& headers, size_t index) {
    auto c = std::make_unique<WsClient>();
    EXPECT_TRUE(c->Connect(engine_port(), "/chats/1.0.0/notifications", headers)) << c->response();
    clients_.push_back(std::move(c));
    return recorder_.WaitForRequest(index);
  }
  // The payload of a backend JWT, after checking its ES256 signature with the public key.
  Json VerifiedPayload(const std::string& jwt) {
    std::vector<std::string> parts = absl::StrSplit(jwt, '.');
    EXPECT_EQ(parts.size(), 3u) << jwt;
    if (parts.size() != 3) return Json();
    std::string header, payload, signature;
    EXPECT_TRUE(wsgate::common::Base64UrlDecode(parts[0], &header));
    EXPECT_TRUE(wsgate::common::Base64UrlDecode(parts[1], &payload));
    EXPECT_TRUE(wsgate::common::Base64UrlDecode(parts[2], &signature));
    EXPECT_EQ(Json::parse(header), Json::parse(R"({"typ":"JWT","alg":"ES256","kid":"backend-k1"})"));
    auto pub = engine::tls::PublicKey::FromPem(engine::tls::SignatureAlgorithm::kEs256, backend_key_->PublicKeyPem());
    EXPECT_TRUE((*pub)->Verify(parts[0] + "." + parts[1], signature)) << "bad signature";
    return Json::parse(payload);
  }

  RecordingBackend recorder_;
  std::unique_ptr<engine::tls::PrivateKey> backend_key_;
  std::vector<std::unique_ptr<WsClient>> clients_;
};

TEST_F(EngineBackendIdentityTest, BackendGetsASignedWso2JwtAndNeverTheClientsForgery) {
  Configure("jwt: true");
  std::string head = Through({Bearer(Token("prod-key", 3600, "jti-1", R"(,"scope":"chat:read chat:write")")),
                              "X-JWT-Assertion: forged.by.client", "x-jwt-assertion: forged-again"},
                             0);
  ASSERT_FALSE(head.empty());
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "x-jwt-assertion"), 1) << head;
  std::string jwt = RecordingBackend::Header(head, "x-jwt-assertion");
  EXPECT_EQ(head.find("forged"), std::string::npos) << head;
  Json claims = VerifiedPayload(jwt);
  int64_t now = absl::ToUnixSeconds(absl::Now());
  EXPECT_EQ(claims["iss"], "wsgate");
  EXPECT_NEAR(claims["iat"].get<int64_t>(), now, 5);
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 900);
  EXPECT_EQ(claims["jti"].get<std::string>().size(), 32u);
  EXPECT_EQ(claims["http://wso2.org/claims/subscriber"], "alice");
  EXPECT_EQ(claims["http://wso2.org/claims/applicationid"], "app1");
  EXPECT_EQ(claims["http://wso2.org/claims/applicationname"], "ChatApp");
  EXPECT_EQ(claims["http://wso2.org/claims/applicationtier"], "Unlimited");
  EXPECT_EQ(claims["http://wso2.org/claims/apicontext"], "/chats/1.0.0");
  EXPECT_EQ(claims["http://wso2.org/claims/version"], "1.0.0");
  EXPECT_EQ(claims["http://wso2.org/claims/tier"], "AsyncGold");
  EXPECT_EQ(claims["http://wso2.org/claims/keytype"], "PRODUCTION");
  EXPECT_EQ(claims["scope"], "chat:read chat:write");
  // The client's access token never reaches the backend.
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "authorization"), 0);

  // A reconnect with the same identity reuses the assertion (no new signature on this shard,
  // or one per shard at most: two shards here).
  std::string again = RecordingBackend::Header(Through({Bearer(Token())}, 1), "x-jwt-assertion");
  std::string third = RecordingBackend::Header(Through({Bearer(Token())}, 2), "x-jwt-assertion");
  std::string fourth = RecordingBackend::Header(Through({Bearer(Token())}, 3), "x-jwt-assertion");
  EXPECT_TRUE(again == third || again == fourth || third == fourth) << "no reuse across 3 reconnects on 2 shards";
  EXPECT_EQ(VerifiedPayload(again)["scope"], "");  // that token had no scopes
}

TEST_F(EngineBackendIdentityTest, CustomHeaderAndValidity) {
  Configure(R"pb(jwt: true jwt_header: "X-Caller" jwt_validity_s: 60)pb");
  std::string head = Through({Bearer(Token("sand-key")), "X-Caller: forged"}, 0);
  ASSERT_FALSE(head.empty());
  ASSERT_EQ(RecordingBackend::HeaderCount(head, "x-caller"), 1) << head;
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "x-jwt-assertion"), 0);
  Json claims = VerifiedPayload(RecordingBackend::Header(head, "x-caller"));
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 60);
  EXPECT_EQ(claims["http://wso2.org/claims/keytype"], "SANDBOX");
}

TEST_F(EngineBackendIdentityTest, WithoutAListOriginAndUserAgentPassAndNothingElse) {
  Configure("jwt: false");
  std::string head = Through({Bearer(Token()), "Origin: https://app.example", "User-Agent: ua/1", "Cookie: s=1",
                              "X-Request-Id: r1", "X-JWT-Assertion: forged"},
                             0);
  ASSERT_FALSE(head.empty());
  EXPECT_EQ(RecordingBackend::Header(head, "origin"), "https://app.example");
  EXPECT_EQ(RecordingBackend::Header(head, "user-agent"), "ua/1");
  for (const char* h : {"cookie", "x-request-id", "x-jwt-assertion", "authorization"})
    EXPECT_EQ(RecordingBackend::HeaderCount(head, h), 0) << h << " in\n" << head;
}

TEST_F(EngineBackendIdentityTest, WithAListOnlyListedHeadersPass) {
  Configure(R"pb(jwt: true pass_headers: "x-request-id" pass_headers: "Cookie" pass_headers: "X-Tenant")pb");
  std::string head = Through({Bearer(Token()), "Origin: https://app.example", "User-Agent: ua/1", "Cookie: s=1",
                              "X-Request-Id: r1", "X-Unlisted: u", "x-tenant: t1", "X-JWT-Assertion: forged"},
                             0);
  ASSERT_FALSE(head.empty());
  EXPECT_EQ(RecordingBackend::Header(head, "cookie"), "s=1");
  EXPECT_EQ(RecordingBackend::Header(head, "x-request-id"), "r1");
  EXPECT_EQ(RecordingBackend::Header(head, "x-tenant"), "t1");
  for (const char* h : {"origin", "user-agent", "x-unlisted", "authorization"})
    EXPECT_EQ(RecordingBackend::HeaderCount(head, h), 0) << h << " in\n" << head;
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "x-jwt-assertion"), 1);
  EXPECT_EQ(head.find("forged"), std::string::npos) << head;
  // The handshake's own headers are the gateway's, and X-Forwarded-For names the client.
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "sec-websocket-key"), 1);
  EXPECT_EQ(RecordingBackend::Header(head, "x-forwarded-for"), "127.0.0.1");
}

}  // namespace
}  // namespace wsgate::testing
