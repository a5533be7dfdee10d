// End-to-end test of external identity providers (issue 14 item 6): wsgate-agent (fetching the
// JWKS with libcurl), wsgate-engine, the chat backend, wsgatectl with role-restricted users, wscat,
// and tests/e2e/idp_server.py, a local provider this test starts (an RSA and an EC key, a JWKS
// with Cache-Control max-age=1, tokens on request). An admin creates the provider; a subscriber
// maps the provider's client id to its own application; provider tokens (RSA and EC) relay; the
// provider rotates its RSA key mid-test and the socket of the old key stays open and relaying
// while a token of the new key works after the refresh; unregistering the client closes 4001.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/agent_stack.h"

namespace wsgate::testing {
namespace {

constexpr const char* kIssuer = "https://idp.test/realms/demo";

// AgentStack with tests/e2e/idp_server.py started first and the agent refreshing JWKS every 1 s.
class AgentIdp : public AgentStack {
 protected:
  void SetUp() override {
    idp_ = std::make_unique<Subprocess>(std::vector<std::string>{"/usr/bin/python3", WSGATE_IDP_SERVER, kIssuer});
    ASSERT_TRUE(idp_->WaitForOutput("/jwks\n", kTimeoutMs)) << idp_->output();
    size_t at = idp_->output().find("http://");
    jwks_url_ = idp_->output().substr(at, idp_->output().find('\n', at) - at);
    agent_args_ = {"--jwks-min-refresh", "1"};
    AgentStack::SetUp();
  }
  void TearDown() override {
    AgentStack::TearDown();
    idp_.reset();
  }
  // A provider token through wscat (under a pseudo-terminal, to see close codes).
  std::unique_ptr<Subprocess> Wscat(const std::string& path, const std::string& token) {
    return WscatTty(path, "Authorization: Bearer " + token);
  }
  // A token from the provider: signed by `kid`, naming `client`.
  std::string Mint(const std::string& kid, const std::string& client) {
    size_t from = idp_->output().size();
    EXPECT_TRUE(idp_->WriteStdin("token " + kid + " " + client + " openid\n"));
    EXPECT_TRUE(idp_->WaitForOutput("TOKEN ", kTimeoutMs, &from)) << idp_->output();
    EXPECT_TRUE(idp_->WaitForOutput("\n", kTimeoutMs, &from)) << idp_->output();
    const std::string& out = idp_->output();
    size_t start = out.rfind("TOKEN ", from) + 6;
    return out.substr(start, out.find('\n', start) - start);
  }
  // Polls `idp get` until its text holds `want` (and not `absent`, when given).
  bool WaitForKeys(const std::string& want, const std::string& absent = "") {
    for (int i = 0; i < 100; ++i) {
      std::string out;
      Ctl({"idp", "get", "kc"}, "", &out);
      if (out.find(want) != std::string::npos && (absent.empty() || out.find(absent) == std::string::npos)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  std::string jwks_url_;
  std::unique_ptr<Subprocess> idp_;
};

TEST_F(AgentIdp, ProviderTokensRelaySurviveKeyRolloverAndCloseOnUnregister) {
  std::string carl = User("carl", "creator,publisher");
  std::string alice = User("alice", "subscriber");
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_}, carl);
  CtlOk({"topic", "delete", "Chats:1.0.0", "/*"}, carl);
  CtlOk({"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}"}, carl);
  CtlOk({"api", "plans", "Chats:1.0.0", "AsyncUnlimited"}, carl);
  CtlOk({"revision", "create", "Chats:1.0.0"}, carl);
  CtlOk({"revision", "deploy", "Chats:1.0.0", "1"}, carl);
  CtlOk({"api", "lifecycle", "Chats:1.0.0", "Publish"}, carl);

  // Providers are the admin's; the subscriber may not create one.
  std::string out;
  EXPECT_EQ(Ctl({"idp", "create", "kc", "--issuer", kIssuer, "--jwks-url", jwks_url_}, alice, &out), 1);
  EXPECT_NE(out.find("CreateIdentityProvider needs the admin role"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"idp", "create", "kc", "--issuer", kIssuer, "--jwks-url", "http://idp.example.com/jwks"}, "", &out), 1);
  EXPECT_NE(out.find("--jwks-url: http:// is allowed only to a loopback host"), std::string::npos) << out;
  std::string created = CtlOk({"idp", "create", "kc", "--issuer", kIssuer, "--jwks-url", jwks_url_, "--audience", "wsgate"}, "");
  EXPECT_NE(created.find("client id claim: azp"), std::string::npos) << created;
  ASSERT_TRUE(WaitForKeys("keys:            ec-1 (ES256), rsa-1 (RS256)")) << CtlOk({"idp", "get", "kc"}, "");

  // The subscriber maps the provider's client to its own application; another's is invisible.
  CtlOk({"app", "create", "AliceApp"}, alice);
  CtlOk({"subscription", "create", "AliceApp", "Chats:1.0.0", "--plan", "AsyncUnlimited"}, alice);
  std::string unmapped = Mint("rsa-1", "web-client");
  auto refused = Wscat("/chats/1.0.0/rooms/room1", unmapped);
  EXPECT_NE(refused->Wait(kTimeoutMs), 0);
  EXPECT_NE(refused->output().find("Unexpected server response: 401"), std::string::npos) << refused->output();
  EXPECT_EQ(CtlOk({"keys", "register", "AliceApp", "--idp", "kc", "--client-id", "web-client", "--key-type", "PRODUCTION"},
                  alice),
            "Registered client web-client of idp kc as PRODUCTION key of AliceApp\n");
  EXPECT_NE(CtlOk({"keys", "list", "AliceApp"}, alice).find("PRODUCTION\tweb-client\t(idp kc)"), std::string::npos);

  // RSA and EC tokens of the provider relay through the gateway.
  auto a = Wscat("/chats/1.0.0/rooms/room1", Mint("rsa-1", "web-client"));
  ASSERT_TRUE(a->WaitForOutput("You joined room1!", kTimeoutMs)) << a->output();
  auto b = Wscat("/chats/1.0.0/rooms/room1", Mint("ec-1", "web-client"));
  ASSERT_TRUE(b->WaitForOutput("You joined room1!", kTimeoutMs)) << b->output();
  ASSERT_TRUE(a->WriteStdin("hello from rsa\n"));
  ASSERT_TRUE(b->WaitForOutput("hello from rsa", kTimeoutMs)) << b->output();

  // The provider rotates rsa-1 out; after the refresh the old socket stays open and relaying.
  std::string old_rsa = Mint("rsa-1", "web-client");
  ASSERT_TRUE(idp_->WriteStdin("rotate\n"));
  ASSERT_TRUE(idp_->WaitForOutput("ROTATED rsa-2", kTimeoutMs));
  ASSERT_TRUE(WaitForKeys("ec-1 (ES256), rsa-2 (RS256)", "rsa-1")) << CtlOk({"idp", "get", "kc"}, "");
  // The new key works once the engine has the pushed snapshot (a push after the fetch: retry).
  std::unique_ptr<Subprocess> c;
  for (int i = 0; i < 20; ++i) {
    c = Wscat("/chats/1.0.0/rooms/room1", Mint("rsa-2", "web-client"));
    if (c->WaitForOutput("You joined room1!", 3000) || c->Wait(0) == -1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(c->WaitForOutput("You joined room1!", kTimeoutMs)) << c->output();
  ASSERT_TRUE(a->WriteStdin("still here\n"));
  ASSERT_TRUE(b->WaitForOutput("still here", kTimeoutMs)) << b->output();
  ASSERT_TRUE(c->WaitForOutput("still here", kTimeoutMs)) << c->output();
  EXPECT_EQ(a->Wait(100), -1) << a->output();
  // A new connection with a token of the removed key is refused.
  auto stale = Wscat("/chats/1.0.0/rooms/room1", old_rsa);
  EXPECT_NE(stale->Wait(kTimeoutMs), 0);
  EXPECT_NE(stale->output().find("Unexpected server response: 401"), std::string::npos) << stale->output();

  // Unregistering the client closes every socket of its tokens with 4001.
  CtlOk({"keys", "unregister", "AliceApp", "--idp", "kc", "--client-id", "web-client"}, alice);
  for (Subprocess* s : {a.get(), b.get(), c.get()}) {
    EXPECT_EQ(s->Wait(kTimeoutMs), 0) << s->output();
    EXPECT_NE(s->output().find("Disconnected (code: 4001, reason: \"Invalid Credentials Connection closed!\")"),
              std::string::npos)
        << s->output();
  }
  // A provider with registered clients cannot be deleted; without, it can.
  EXPECT_NE(CtlOk({"audit"}, "").find("UnregisterIdpClient"), std::string::npos);
  CtlOk({"idp", "delete", "kc"}, "");
  EXPECT_EQ(CtlOk({"idp", "list"}, ""), "no identity providers\n");
}

}  // namespace
}  // namespace wsgate::testing
