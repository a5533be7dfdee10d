// End-to-end test of the control plane (tests/e2e/agent_stack.h: the chat backend, an engine and
// an agent as processes): every wsgatectl command of the walkthrough and a client through the
// engine with the printed token (wscat); revocation closing a live socket; business plans, topic
// direction rights, Origin rules, idle timeouts and connection quotas set with wsgatectl; the
// OAuth2 endpoint, declared scopes and opaque tokens.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/agent_stack.h"

namespace wsgate::testing {
namespace {

class AgentWalkthrough : public AgentStack {};

TEST_F(AgentWalkthrough, CommandsTokenAndClientThroughTheEngine) {
  std::string token = Walkthrough();
  auto notifications = Wscat("/chats/1.0.0/notifications", token);
  ASSERT_TRUE(notifications->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << notifications->output();
  auto room = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(room->WaitForOutput("You joined room1!", kTimeoutMs)) << room->output();
  EXPECT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs));

  // Reading commands, text and JSON.
  EXPECT_NE(CtlOk({"api", "list"}).find("Chats:1.0.0"), std::string::npos);
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0", "-o", "json"}).find("\"context\": \"/chats\""), std::string::npos);
  EXPECT_NE(CtlOk({"revision", "list", "Chats:1.0.0"}).find("deployed to Production and Sandbox"), std::string::npos);
  EXPECT_NE(CtlOk({"subscription", "list"}).find("AsyncGold"), std::string::npos);
  EXPECT_NE(CtlOk({"policy", "list"}).find("Allows 50000 events per day"), std::string::npos);
  std::string app_policies = CtlOk({"policy", "list", "--level", "application"});  // crashed before the fix
  EXPECT_NE(app_policies.find("Unlimited\tAPPLICATION"), std::string::npos) << app_policies;
  EXPECT_EQ(app_policies.find("AsyncGold"), std::string::npos) << app_policies;
  std::string status = CtlOk({"status", "-o", "json"});  // exit 0: every engine up and current
  EXPECT_NE(status.find("\"reachable\": true"), std::string::npos) << status;
  EXPECT_NE(status.find("\"lag\": \"0\""), std::string::npos) << status;

  // Bad inputs: a clear one-line error, a non-zero exit, nothing changed.
  std::string out;
  EXPECT_EQ(Ctl({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint", "ws://h"}, &out), 1);
  EXPECT_NE(out.find("already exists"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "plans", "Chats:1.0.0", "Platinum"}, &out), 1);
  EXPECT_NE(out.find("unknown business plan 'Platinum'"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"topic", "add", "Chats:1.0.0", "/r/{id}", "--mapping", "/r?x={uri.var.room}"}, &out), 1);
  EXPECT_NE(out.find("url_mapping"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "lifecycle", "Chats:1.0.0", "Retire"}, &out), 1);
  EXPECT_NE(out.find("PUBLISHED"), std::string::npos) << out;
  for (int i = 2; i <= 5; ++i) CtlOk({"revision", "create", "Chats:1.0.0"});
  EXPECT_EQ(Ctl({"revision", "create", "Chats:1.0.0"}, &out), 1);
  EXPECT_NE(out.find("5 revisions"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "bogus"}, &out), 2);
  EXPECT_EQ(Ctl({"token", "ChatApp", "--type", "STAGING"}, &out), 1);
  EXPECT_NE(out.find("--type"), std::string::npos) << out;
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0"}).find("plans: AsyncGold"), std::string::npos);

  // The admin API refuses a caller without the credential.
  Subprocess anonymous({WSGATE_CTL, "--agent", "127.0.0.1:" + admin_port_, "--data-dir", dir_ + "/nowhere", "api", "list"});
  EXPECT_EQ(anonymous.Wait(kTimeoutMs), 1);
  EXPECT_NE(anonymous.output().find("no admin credential"), std::string::npos) << anonymous.output();

  // Revoking the token closes the live listen-only socket (wscat exits 0 on a close frame).
  CtlOk({"token", "revoke", token});
  EXPECT_EQ(notifications->Wait(kTimeoutMs), 0) << notifications->output();
  // Only credentials changed: the agent sent it as a delta (issue 20), not a full snapshot.
  EXPECT_NE(agent_->output().find(" as a delta ("), std::string::npos) << agent_->output();
  auto refused = Wscat("/chats/1.0.0/notifications", token);
  EXPECT_NE(refused->Wait(kTimeoutMs), 0);
  EXPECT_NE(refused->output().find("401"), std::string::npos) << refused->output();
}

// A business plan enforced end to end: the publisher creates a tiny policy with wsgatectl, the
// subscription uses it, and wscat shows what WSO2 users see when a frame is throttled out.
TEST_F(AgentWalkthrough, BusinessPlanThrottlesWithWso2sMessage) {
  CtlOk({"policy", "create", "Tiny", "--events", "4", "--unit", "hour"});
  std::string token = DeployWithPlan("Tiny");
  // Events 1 and 2: the two welcome texts. 3 and 4: "hello" to the backend and on to b.
  auto a = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(a->WaitForOutput("You joined room1!", kTimeoutMs)) << a->output();
  auto b = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(b->WaitForOutput("You joined room1!", kTimeoutMs)) << b->output();
  ASSERT_TRUE(a->WriteStdin("hello\n"));
  ASSERT_TRUE(b->WaitForOutput("hello", kTimeoutMs)) << b->output();
  // The plan is used up: the next message is dropped, a is told, the socket stays open.
  ASSERT_TRUE(a->WriteStdin("one too many\n"));
  ASSERT_TRUE(a->WaitForOutput("Error code: 4003 reason: Websocket frame throttled out", kTimeoutMs)) << a->output();
  EXPECT_EQ(b->output().find("one too many"), std::string::npos) << b->output();
  EXPECT_EQ(a->Wait(300), -1) << "the throttled client was disconnected: " << a->output();
  // The operator sees it in `wsgatectl status`: two live connections, one frame throttled.
  std::string status = CtlOk({"status", "-o", "json"});
  EXPECT_NE(status.find("\"active_connections\": \"2\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"frames_client_to_backend\": \"1\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"frames_backend_to_client\": \"3\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"throttled_frames\": \"1\""), std::string::npos) << status;
}

// Direction rights end to end: a subscribe-only topic added with wsgatectl delivers the backend's
// messages, drops the client's and tells it with WSO2's non-closing error frame.
TEST_F(AgentWalkthrough, SubscribeOnlyTopicDropsClientMessagesAndSaysWhy) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  CtlOk({"topic", "delete", "Chats:1.0.0", "/*"});
  std::string out;
  EXPECT_EQ(Ctl({"topic", "add", "Chats:1.0.0", "/notifications", "--direction", "down"}, &out), 1);
  EXPECT_NE(out.find("--direction: 'down' is not one of both, publish, subscribe"), std::string::npos) << out;
  CtlOk({"topic", "add", "Chats:1.0.0", "/notifications", "--mapping", "/notifications", "--direction", "subscribe"});
  EXPECT_NE(CtlOk({"topic", "list", "Chats:1.0.0"}).find("/notifications\t/notifications\t(subscribe only)"),
            std::string::npos);
  std::string token = PublishSubscribeAndToken("AsyncGold");
  auto listener = Wscat("/chats/1.0.0/notifications", token);
  ASSERT_TRUE(listener->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << listener->output();
  ASSERT_TRUE(listener->WriteStdin("may I speak?\n"));
  ASSERT_TRUE(listener->WaitForOutput("Error code: 4002 reason: User NOT authorized to publish to this topic", kTimeoutMs))
      << listener->output();
  EXPECT_EQ(listener->Wait(300), -1) << "the client was disconnected: " << listener->output();
}

// Cross-site WebSocket hijacking: an API with an Origin allow-list refuses a browser page from
// another site with 403 before the token is looked at; wscat without -o (no Origin) still works.
TEST_F(AgentWalkthrough, OriginAllowListSetWithWsgatectlRefusesOtherSites) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  std::string out;
  EXPECT_EQ(Ctl({"api", "access", "Chats:1.0.0", "--allow-origin", "example.com"}, &out), 1);
  EXPECT_NE(out.find("access.allowed_origins[0]: 'example.com' needs a scheme, e.g. https://example.com"),
            std::string::npos) << out;
  EXPECT_EQ(Ctl({"api", "access", "Chats:1.0.0", "--ip-deny", "10.0.0.1/8"}, &out), 1);
  EXPECT_NE(out.find("did you mean 10.0.0.0/8?"), std::string::npos) << out;
  CtlOk({"api", "access", "Chats:1.0.0", "--allow-origin", "https://app.example.com", "--ip-deny", "192.0.2.0/24"});
  std::string shown = CtlOk({"api", "access", "Chats:1.0.0"});
  EXPECT_NE(shown.find("allowed origins: https://app.example.com"), std::string::npos) << shown;
  EXPECT_NE(shown.find("ip deny:         192.0.2.0/24"), std::string::npos) << shown;
  std::string token = PublishSubscribeAndToken("AsyncGold");
  auto wscat = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {WSGATE_WSCAT, "--no-color", "-c", "ws://127.0.0.1:" + engine_port_ + "/chats/1.0.0/notifications",
                                     "-H", "Authorization: Bearer " + token};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Subprocess>(args);
  };
  auto evil = wscat({"-o", "https://evil.example"});
  EXPECT_NE(evil->Wait(kTimeoutMs), 0);
  EXPECT_NE(evil->output().find("403"), std::string::npos) << evil->output();
  auto app = wscat({"-o", "https://app.example.com"});
  EXPECT_TRUE(app->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << app->output();
  auto cli = wscat({});
  EXPECT_TRUE(cli->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << cli->output();
  CtlOk({"api", "access", "Chats:1.0.0", "--clear"});
  EXPECT_NE(CtlOk({"api", "access", "Chats:1.0.0"}).find("allowed origins: (any)"), std::string::npos);
}

// Issue 15: a connection quota as a plan dimension, made with wsgatectl and pushed to the engine:
// the third connection of a two-connection plan gets 429, and wscat says so.
// Issue 15: a per-API idle timeout set with wsgatectl reaches the engine: a silent client is
// closed (wscat exits on the close frame) about a second later.
TEST_F(AgentWalkthrough, ApiIdleTimeoutFromWsgatectlClosesASilentClient) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  std::string out;
  EXPECT_EQ(Ctl({"api", "update", "Chats:1.0.0", "--idle-timeout", "50ms"}, &out), 1);
  EXPECT_NE(out.find("--idle-timeout (idle_timeout: 50ms is out of range [100ms, 168h])"), std::string::npos) << out;
  CtlOk({"api", "update", "Chats:1.0.0", "--idle-timeout", "1s", "--handshake-rate", "50"});
  std::string shown = CtlOk({"api", "get", "Chats:1.0.0"});
  EXPECT_NE(shown.find("idle timeout: 1s"), std::string::npos) << shown;
  EXPECT_NE(shown.find("handshake rate: 50/s (burst 50)"), std::string::npos) << shown;
  std::string token = PublishSubscribeAndToken("AsyncGold");
  auto start = std::chrono::steady_clock::now();
  auto silent = Wscat("/chats/1.0.0/notifications", token);
  ASSERT_TRUE(silent->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << silent->output();
  EXPECT_EQ(silent->Wait(kTimeoutMs), 0) << silent->output();  // the engine closed it
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 5.0);
}

TEST_F(AgentWalkthrough, PlanConnectionQuotaFromWsgatectl) {
  std::string created = CtlOk({"policy", "create", "TwoSockets", "--connections", "2"});
  EXPECT_NE(created.find("Allows unlimited events and 2 concurrent connections"), std::string::npos) << created;
  std::string token = DeployWithPlan("TwoSockets");
  auto a = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(a->WaitForOutput("You joined room1!", kTimeoutMs)) << a->output();
  auto b = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(b->WaitForOutput("You joined room1!", kTimeoutMs)) << b->output();
  auto c = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(c->WaitForOutput("429", kTimeoutMs)) << c->output();
}

TEST_F(AgentWalkthrough, OAuth2TokenEndpoint) {
  Walkthrough();
  auto [key, secret] = Credentials(keys_);
  ASSERT_FALSE(key.empty()) << keys_;
  auto curl = &AgentWalkthrough::Curl;
  std::string url = "http://127.0.0.1:" + token_port_;
  std::string ok = curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials", url + "/oauth2/token"});
  EXPECT_NE(ok.find("\"token_type\":\"Bearer\",\"expires_in\":3600"), std::string::npos) << ok;
  EXPECT_EQ(ok.substr(ok.size() - 3), "200");
  std::string token = AccessToken(ok);
  auto client = Wscat("/chats/1.0.0/notifications", token);
  EXPECT_TRUE(client->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << client->output();

  std::string bad = curl({"-u", key + ":wrong", "-d", "grant_type=client_credentials", url + "/oauth2/token"});
  EXPECT_NE(bad.find("\"error\":\"invalid_client\""), std::string::npos) << bad;
  EXPECT_EQ(bad.substr(bad.size() - 3), "401");
  std::string grant = curl({"-u", key + ":" + secret, "-d", "grant_type=password", url + "/oauth2/token"});
  EXPECT_NE(grant.find("unsupported_grant_type"), std::string::npos) << grant;
  std::string missing = curl({"-u", key + ":" + secret, "-d", "scope=x", url + "/oauth2/token"});
  EXPECT_NE(missing.find("invalid_request"), std::string::npos) << missing;
  std::string jwks = curl({url + "/.well-known/jwks.json"});
  EXPECT_NE(jwks.find("\"kty\":\"RSA\""), std::string::npos) << jwks;
  // RFC 7009 revocation closes the socket opened with that token.
  std::string revoked = curl({"-u", key + ":" + secret, "-d", "token=" + token, url + "/oauth2/revoke"});
  EXPECT_EQ(revoked.substr(revoked.size() - 3), "200") << revoked;
  EXPECT_EQ(client->Wait(kTimeoutMs), 0) << client->output();
}

// `wsgatectl snapshot --standalone` (issue 17): the agent's catalog as a file an engine serves
// alone; the token the agent issued works against that engine with no agent running.
TEST_F(AgentWalkthrough, DeclaredScopesGateTheTokenEndpointAndTopics) {
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_});
  CtlOk({"topic", "delete", "Chats:1.0.0", "/*"});
  std::string out;
  EXPECT_EQ(Ctl({"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}",
                 "--scope", "chat:write"}, &out), 1);
  EXPECT_NE(out.find("names scope 'chat:write', which API Chats:1.0.0 does not declare (declared: none); declare it "
                     "first: wsgatectl api scope add Chats:1.0.0 chat:write"), std::string::npos) << out;
  CtlOk({"api", "scope", "add", "Chats:1.0.0", "chat:write", "--description", "post in rooms"});
  CtlOk({"api", "scope", "add", "Chats:1.0.0", "chat:moderate", "--role", "admin", "--role", "publisher"});
  EXPECT_EQ(Ctl({"api", "scope", "add", "Chats:1.0.0", "chat:write"}, &out), 1);
  EXPECT_NE(out.find("already declares scope 'chat:write'"), std::string::npos) << out;
  CtlOk({"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}", "--scope", "chat:write"});
  EXPECT_EQ(Ctl({"api", "scope", "delete", "Chats:1.0.0", "chat:write"}, &out), 1);  // a topic names it
  EXPECT_NE(out.find("topics[0].scopes"), std::string::npos) << out;
  std::string list = CtlOk({"api", "scope", "list", "Chats:1.0.0"});
  EXPECT_NE(list.find("chat:write\troles: (any)\tpost in rooms"), std::string::npos) << list;
  EXPECT_NE(list.find("chat:moderate\troles: admin,publisher"), std::string::npos) << list;
  std::string unscoped = PublishSubscribeAndToken("AsyncGold");  // ChatApp, owned by admin

  // A self-service application owned by alice (no roles), subscribed to Chats.
  CtlOk({"app", "create", "Alice", "--owner", "alice"});
  CtlOk({"subscription", "create", "Alice", "Chats:1.0.0", "--plan", "AsyncGold"});
  auto [key, secret] = Credentials(CtlOk({"keys", "generate", "Alice", "--type", "PRODUCTION"}));
  ASSERT_FALSE(key.empty());
  std::string url = "http://127.0.0.1:" + token_port_ + "/oauth2/token";
  for (const char* scope : {"admin", "chat:moderate", "chat:write%20chat:moderate"}) {
    std::string refused = Curl({"-u", key + ":" + secret, "-d", std::string("grant_type=client_credentials&scope=") + scope, url});
    EXPECT_EQ(refused.substr(refused.size() - 3), "400") << scope << ": " << refused;
    EXPECT_NE(refused.find("\"error\":\"invalid_scope\""), std::string::npos) << refused;
  }
  std::string bound = Curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials&scope=chat:moderate", url});
  EXPECT_NE(bound.find("declared by Chats:1.0.0, it is bound to the roles admin, publisher"), std::string::npos) << bound;
  std::string granted = Curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials&scope=chat:write", url});
  EXPECT_NE(granted.find("\"scope\":\"chat:write\""), std::string::npos) << granted;
  std::string plain = Curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials", url});
  ASSERT_EQ(plain.substr(plain.size() - 3), "200") << plain;

  // With the scope: the scoped topic opens. Without it: the engine's scope refusal (403).
  auto writer = Wscat("/chats/1.0.0/rooms/room1", AccessToken(granted));
  EXPECT_TRUE(writer->WaitForOutput("You joined room1!", kTimeoutMs)) << writer->output();
  for (const std::string& token : {AccessToken(plain), unscoped}) {
    auto refused = Wscat("/chats/1.0.0/rooms/room1", token);
    EXPECT_NE(refused->Wait(kTimeoutMs), 0);
    EXPECT_NE(refused->output().find("Unexpected server response: 403"), std::string::npos) << refused->output();
  }
  // The admin owner holds every role; wsgatectl token applies the same rules.
  EXPECT_EQ(Ctl({"token", "ChatApp", "--type", "PRODUCTION", "--scope", "chat:moderate"}, &out), 0) << out;
  EXPECT_EQ(Ctl({"token", "Alice", "--type", "PRODUCTION", "--scope", "chat:moderate"}, &out), 1);
  EXPECT_NE(out.find("was not granted scope 'chat:moderate'"), std::string::npos) << out;
}

// Issue 14 item 5: opaque tokens from `wsgatectl token --opaque` and from /oauth2/token for an
// application with token_format opaque; the engine knows only their hashes; revoking one closes
// its live socket with 4001 (wscat exits 0 on the close frame) and refuses it afterwards.
TEST_F(AgentWalkthrough, OpaqueTokensConnectAndRevocationClosesTheirSockets) {
  DeployWithPlan("AsyncGold");
  std::string opaque = CtlOk({"token", "ChatApp", "--type", "PRODUCTION", "--opaque"});
  EXPECT_EQ(opaque.size(), 64u) << opaque;
  EXPECT_EQ(opaque.find('.'), std::string::npos) << opaque;
  auto live = Wscat("/chats/1.0.0/rooms/room1", opaque);
  ASSERT_TRUE(live->WaitForOutput("You joined room1!", kTimeoutMs)) << live->output();
  CtlOk({"token", "revoke", opaque});
  EXPECT_EQ(live->Wait(kTimeoutMs), 0) << live->output();
  auto again = Wscat("/chats/1.0.0/rooms/room1", opaque);
  EXPECT_NE(again->Wait(kTimeoutMs), 0);
  EXPECT_NE(again->output().find("401"), std::string::npos) << again->output();
  std::string out;
  EXPECT_EQ(Ctl({"token", "revoke", opaque}, &out), 1);
  EXPECT_NE(out.find("no live opaque token"), std::string::npos) << out;

  // token_format=opaque: the OAuth2 endpoint issues opaque tokens for that application.
  EXPECT_EQ(Ctl({"app", "update", "ChatApp", "--token-format", "paseto"}, &out), 1);
  EXPECT_NE(out.find("--token-format: 'paseto' is not jwt or opaque"), std::string::npos) << out;
  EXPECT_NE(CtlOk({"app", "update", "ChatApp", "--token-format", "opaque"}).find("tokens opaque"), std::string::npos);
  auto [key, secret] = Credentials(CtlOk({"keys", "generate", "ChatApp", "--type", "PRODUCTION", "--regenerate"}));
  std::string url = "http://127.0.0.1:" + token_port_;
  std::string answer = Curl({"-u", key + ":" + secret, "-d", "grant_type=client_credentials", url + "/oauth2/token"});
  std::string token = AccessToken(answer);
  ASSERT_EQ(token.size(), 64u) << answer;
  // The agent pushes the new hash; the engine may take a moment to apply it.
  std::unique_ptr<Subprocess> client;
  for (int i = 0; i < 20; ++i) {
    client = Wscat("/chats/1.0.0/rooms/room2", token);
    if (client->WaitForOutput("You joined room2!", 2000)) break;
  }
  ASSERT_NE(client->output().find("You joined room2!"), std::string::npos) << client->output();
  std::string revoked = Curl({"-u", key + ":" + secret, "-d", "token=" + token, url + "/oauth2/revoke"});
  EXPECT_EQ(revoked.substr(revoked.size() - 3), "200") << revoked;
  EXPECT_EQ(client->Wait(kTimeoutMs), 0) << client->output();
}

}  // namespace
}  // namespace wsgate::testing
