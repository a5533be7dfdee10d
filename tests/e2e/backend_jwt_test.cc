// End-to-end test of issue 14 item 7 through the agent: an API created with `wsgatectl api create
// --backend-jwt --pass-header ...`, a wscat client through wsgate-engine, and a recording backend
// that checks the X-JWT-Assertion it got against the agent's /.well-known/jwks.json (OpenSSL 3
// here, as a backend would), the claims, the forged client copy removed, the pass-through list,
// and a rotation of the backend-signing key.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "engine/common/base64.h"
#include "tests/e2e/agent_stack.h"
#include "tests/support/recording_backend.h"

namespace wsgate::testing {
namespace {

using Json = nlohmann::json;

std::string Decode(const std::string& b64url) {
  std::string out;
  EXPECT_TRUE(wsgate::common::Base64UrlDecode(b64url, &out)) << b64url;
  return out;
}

// Verifies an ES256 JWS signature with a P-256 JWK, as a backend would (OpenSSL 3).
bool VerifyEs256(const Json& jwk, const std::string& input, const std::string& sig) {
  if (jwk["kty"] != "EC" || jwk["crv"] != "P-256" || sig.size() != 64) return false;
  std::string pub = "\x04" + Decode(jwk["x"]) + Decode(jwk["y"]);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  ECDSA_SIG* s = ECDSA_SIG_new();
  ECDSA_SIG_set0(s, BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(s, &der);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ok = ok && der_len > 0 && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
       EVP_DigestVerify(md, der, static_cast<size_t>(der_len), reinterpret_cast<const unsigned char*>(input.data()),
                        input.size()) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  ECDSA_SIG_free(s);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  return ok;
}

// AgentStack (its chat backend unused) with a RecordingBackend as the API's endpoint.
class BackendJwtE2e : public AgentStack {
 protected:
  // wscat through the engine with `headers`; returns the head the backend got (`index`-th).
  std::string Connect(const std::string& token, const std::vector<std::string>& headers, size_t index) {
    std::vector<std::string> argv = {WSGATE_WSCAT, "--no-color", "-c",
                                     "ws://127.0.0.1:" + engine_port_ + "/chats/1.0.0/notifications", "-H",
                                     "Authorization: Bearer " + token};
    for (const auto& h : headers) argv.insert(argv.end(), {"-H", h});
    clients_.push_back(std::make_unique<Subprocess>(argv));
    std::string head = recorder_.WaitForRequest(index, kTimeoutMs);
    EXPECT_FALSE(head.empty()) << clients_.back()->output();
    return head;
  }
  // The claims of a backend JWT whose ES256 signature verifies with a key of the agent's JWKS.
  Json Verified(const std::string& jwt, std::string* kid) {
    std::vector<std::string> parts = absl::StrSplit(jwt, '.');
    if (parts.size() != 3) {
      ADD_FAILURE() << "not a JWS: " << jwt;
      return Json();
    }
    Json header = Json::parse(Decode(parts[0]));
    EXPECT_EQ(header["alg"], "ES256");
    *kid = header["kid"];
    std::string jwks;
    EXPECT_EQ(wsgate::testing::RunToEnd({"/usr/bin/curl", "-s", "--max-time", "10",
                                         "http://127.0.0.1:" + token_port_ + "/.well-known/jwks.json"},
                                        kTimeoutMs, &jwks),
              0);
    bool verified = false;
    Json doc = Json::parse(jwks);
    for (const auto& k : doc["keys"])
      if (k["kid"] == *kid) verified = VerifyEs256(k, parts[0] + "." + parts[1], Decode(parts[2]));
    EXPECT_TRUE(verified) << "kid " << *kid << " not in, or not verified by, " << jwks;
    return Json::parse(Decode(parts[1]));
  }

  RecordingBackend recorder_;
  std::vector<std::unique_ptr<Subprocess>> clients_;
};

TEST_F(BackendJwtE2e, TheBackendVerifiesTheAssertionWithTheAgentsJwks) {
  // A creator/publisher makes the API; a subscriber's application connects (the JWT names her).
  std::string carl = User("carl", "creator,publisher");
  std::string alice = User("alice", "subscriber");
  std::string api = "Chats:1.0.0";
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://127.0.0.1:" + std::to_string(recorder_.port()), "--backend-jwt", "--pass-header", "X-Request-Id"},
        carl);
  std::string shown = CtlOk({"api", "get", api}, carl);
  EXPECT_NE(shown.find("backend JWT: X-JWT-Assertion, valid 900 s"), std::string::npos) << shown;
  EXPECT_NE(shown.find("headers passed to the backend: X-Request-Id"), std::string::npos) << shown;
  std::string out;
  EXPECT_NE(Ctl({"api", "update", api, "--pass-header", "Authorization"}, carl, &out), 0);
  EXPECT_NE(out.find("backend.pass_headers[0]: 'Authorization' is a client credential"), std::string::npos) << out;
  EXPECT_NE(Ctl({"api", "update", api, "--backend-jwt-validity", "2h"}, carl, &out), 0);
  EXPECT_NE(out.find("backend.jwt_validity_s: 7200 is outside 60..3600 seconds"), std::string::npos) << out;
  CtlOk({"topic", "delete", api, "/*"}, carl);
  CtlOk({"topic", "add", api, "/notifications", "--mapping", "/notifications"}, carl);
  CtlOk({"api", "plans", api, "AsyncGold"}, carl);
  CtlOk({"api", "lifecycle", api, "Publish"}, carl);
  CtlOk({"revision", "create", api}, carl);
  CtlOk({"revision", "deploy", api, "1"}, carl);
  CtlOk({"app", "create", "ChatApp"}, alice);
  CtlOk({"subscription", "create", "ChatApp", api, "--plan", "AsyncGold"}, alice);
  CtlOk({"keys", "generate", "ChatApp", "--type", "PRODUCTION"}, alice);
  std::string token(absl::StripAsciiWhitespace(CtlOk({"token", "ChatApp", "--type", "PRODUCTION"}, alice)));

  std::string head = Connect(token, {"X-JWT-Assertion: forged", "X-Request-Id: e2e-1", "X-Other: no"}, 0);
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "x-jwt-assertion"), 1) << head;
  EXPECT_EQ(head.find("forged"), std::string::npos) << head;
  EXPECT_EQ(RecordingBackend::Header(head, "x-request-id"), "e2e-1");
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "x-other"), 0) << head;
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "authorization"), 0) << head;
  std::string kid;
  Json claims = Verified(RecordingBackend::Header(head, "x-jwt-assertion"), &kid);
  EXPECT_EQ(claims["iss"], "wsgate");
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 900);
  EXPECT_EQ(claims["http://wso2.org/claims/subscriber"], "alice");
  EXPECT_EQ(claims["http://wso2.org/claims/applicationname"], "ChatApp");
  EXPECT_EQ(claims["http://wso2.org/claims/applicationtier"], "Unlimited");
  EXPECT_EQ(claims["http://wso2.org/claims/apicontext"], "/chats/1.0.0");
  EXPECT_EQ(claims["http://wso2.org/claims/version"], "1.0.0");
  EXPECT_EQ(claims["http://wso2.org/claims/tier"], "AsyncGold");
  EXPECT_EQ(claims["http://wso2.org/claims/keytype"], "PRODUCTION");
  EXPECT_FALSE(claims["http://wso2.org/claims/applicationid"].get<std::string>().empty());

  // The private key is never shown: not in `wsgatectl snapshot`, not in an export (the admin's).
  std::string snapshot = CtlOk({"snapshot"});
  EXPECT_NE(snapshot.find("backend_signing_key"), std::string::npos) << snapshot;
  EXPECT_EQ(snapshot.find("PRIVATE KEY"), std::string::npos) << snapshot;
  EXPECT_EQ(CtlOk({"export"}).find("PRIVATE KEY"), std::string::npos);

  // Rotation: new assertions carry the new kid; the old key stays in the JWKS.
  std::string rotated = CtlOk({"signing-key", "rotate", "--backend"});
  EXPECT_NE(rotated.find("New backend-signing key backend-"), std::string::npos) << rotated;
  std::string keys = CtlOk({"signing-key", "list"});
  EXPECT_NE(keys.find(kid + "\tES256\tretiring\tbackend JWTs"), std::string::npos) << keys;
  std::string new_kid;
  Verified(RecordingBackend::Header(Connect(token, {}, 1), "x-jwt-assertion"), &new_kid);
  EXPECT_NE(new_kid, kid);
  std::string jwks;
  wsgate::testing::RunToEnd({"/usr/bin/curl", "-s", "http://127.0.0.1:" + token_port_ + "/.well-known/jwks.json"},
                            kTimeoutMs, &jwks);
  EXPECT_NE(jwks.find("\"" + kid + "\""), std::string::npos) << jwks;

  // Turned off: no assertion, and the client's copy still never passes.
  CtlOk({"api", "update", api, "--no-backend-jwt"}, carl);
  CtlOk({"revision", "create", api}, carl);
  CtlOk({"revision", "deploy", api, "2"}, carl);
  head = Connect(token, {"X-JWT-Assertion: forged", "X-Request-Id: e2e-3"}, 2);
  EXPECT_EQ(RecordingBackend::HeaderCount(head, "x-jwt-assertion"), 0) << head;
  EXPECT_EQ(RecordingBackend::Header(head, "x-request-id"), "e2e-3");
}

}  // namespace
}  // namespace wsgate::testing
