// End-to-end test of API keys (issue 14 item 4) with real processes: wsgate-agent, one
// wsgate-engine, the chat backend, wsgatectl and wscat. A creator/publisher user makes an API
// with `--security oauth2,api_key`; a subscriber user (not the admin credential) creates an API
// key for its own application and connects with `-H "apikey: KEY"` and with `?apikey=KEY`;
// another subscriber can neither see nor revoke it; revoking it closes the live socket with 4001
// and a later connect is refused 401; the audit log names the subscriber.
#include <string>

#include "tests/e2e/agent_stack.h"

namespace wsgate::testing {
namespace {

class AgentApiKeys : public AgentStack {};

TEST_F(AgentApiKeys, SubscriberKeysOpenTheApiByHeaderAndQueryUntilRevoked) {
  std::string carl = User("carl", "creator,publisher");
  std::string alice = User("alice", "subscriber");
  std::string bob = User("bob", "subscriber");

  const std::string api = "Chats:1.0.0";
  CtlOk({"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint",
         "ws://localhost:" + backend_port_, "--security", "oauth2,api_key"},
        carl);
  EXPECT_NE(CtlOk({"api", "get", api}, carl).find("  security: oauth2, api_key\n"), std::string::npos);
  CtlOk({"topic", "delete", api, "/*"}, carl);
  CtlOk({"topic", "add", api, "/notifications", "--mapping", "/notifications"}, carl);
  CtlOk({"topic", "add", api, "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}"}, carl);
  CtlOk({"api", "plans", api, "AsyncGold"}, carl);
  CtlOk({"revision", "create", api}, carl);
  CtlOk({"revision", "deploy", api, "1"}, carl);
  CtlOk({"api", "lifecycle", api, "Publish"}, carl);

  CtlOk({"app", "create", "AliceApp"}, alice);
  CtlOk({"subscription", "create", "AliceApp", api, "--plan", "AsyncGold"}, alice);
  std::string created = CtlOk({"apikey", "create", "AliceApp", "--validity", "1d"}, alice);
  std::string key = After(created, "API key: ");
  std::string id = After(created, "\nid ");
  ASSERT_EQ(key.rfind("wsk_", 0), 0u) << created;
  EXPECT_NE(created.find("Shown once"), std::string::npos) << created;

  // The header form and the query form, as WSO2 4.3 documents them for wscat.
  auto by_header = WscatTty("/chats/1.0.0/notifications", "apikey: " + key);
  ASSERT_TRUE(by_header->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << by_header->output();
  auto by_query = WscatTty("/chats/1.0.0/rooms/room1?apikey=" + key);
  ASSERT_TRUE(by_query->WaitForOutput("You joined room1!", kTimeoutMs)) << by_query->output();
  auto wrong = WscatTty("/chats/1.0.0/notifications", "apikey: wsk_not-a-key");
  EXPECT_NE(wrong->Wait(kTimeoutMs), 0);
  EXPECT_NE(wrong->output().find("Unexpected server response: 401"), std::string::npos) << wrong->output();

  // Alice lists her key (never its text); Bob sees none of it and cannot revoke or add to it.
  std::string mine = CtlOk({"apikey", "list"}, alice);
  EXPECT_NE(mine.find(id), std::string::npos) << mine;
  EXPECT_NE(mine.find(key.substr(0, 12) + "..."), std::string::npos) << mine;
  EXPECT_EQ(mine.find(key), std::string::npos) << mine;
  CtlOk({"app", "create", "BobApp"}, bob);
  EXPECT_EQ(CtlOk({"apikey", "list"}, bob).find(id), std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "list", "AliceApp"}, bob).find("no application 'AliceApp'"), std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "create", "AliceApp"}, bob).find("no application 'AliceApp'"), std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "revoke", id}, bob).find("no API key '" + id + "'"), std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "create", "AliceApp", "--ip", "10.0.0.300/8"}, alice).find("ip_ranges[0]"),
            std::string::npos);
  EXPECT_NE(CtlFails({"apikey", "create", "AliceApp", "--validity", "soon"}, alice).find("--validity 'soon'"),
            std::string::npos);

  // Revoking closes both live sockets with 4001, as a revoked token does.
  CtlOk({"apikey", "revoke", id}, alice);
  for (auto* c : {by_header.get(), by_query.get()}) {
    EXPECT_EQ(c->Wait(kTimeoutMs), 0) << c->output();
    EXPECT_NE(c->output().find("Disconnected (code: 4001, reason: \"Invalid Credentials Connection closed!\")"),
              std::string::npos)
        << c->output();
  }
  auto after = WscatTty("/chats/1.0.0/notifications?apikey=" + key);
  EXPECT_NE(after->Wait(kTimeoutMs), 0);
  EXPECT_NE(after->output().find("Unexpected server response: 401"), std::string::npos) << after->output();

  std::string audit = CtlOk({"audit"}, "");
  EXPECT_NE(audit.find("\talice\tCreateApiKey\tapi key AliceApp\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tbob\tRevokeApiKey\tapi key " + id + "\tNOT_FOUND"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\talice\tRevokeApiKey\tapi key " + id + "\tOK"), std::string::npos) << audit;
}

}  // namespace
}  // namespace wsgate::testing
