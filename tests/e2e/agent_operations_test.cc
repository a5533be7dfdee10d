// End-to-end operations of the control plane (tests/e2e/agent_stack.h): the agent killed and the
// engine restarted while serving, the connection registry against wscat, the agent's metrics
// through promtool, `wsgatectl top`, every command documented in docs/cli.md, and
// `wsgatectl snapshot --standalone`.
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

class AgentOperations : public AgentStack {};

TEST_F(AgentOperations, AgentKilledAndEngineRestartedKeepServing) {
  std::string token = Walkthrough();
  // kill -9: every acknowledged change is already on disk.
  agent_->Signal(SIGKILL);
  agent_->Wait(kTimeoutMs);
  StartAgent();
  EXPECT_NE(CtlOk({"api", "get", "Chats:1.0.0"}).find("deployed revisions: 1"), std::string::npos);
  EXPECT_NE(CtlOk({"subscription", "list", "--app", "ChatApp"}).find("Chats:1.0.0"), std::string::npos);
  // The engine restarts empty; the agent brings it up to date.
  engine_->Signal(SIGTERM);
  EXPECT_EQ(engine_->Wait(kTimeoutMs), 0);
  StartEngine();
  std::string status;
  int status_code = 1;
  for (int i = 0; i < 100; ++i) {  // status exits 0 once every engine is up at lag 0
    status_code = Ctl({"status"}, &status);
    if (status_code == 0) break;
    usleep(100000);
  }
  EXPECT_EQ(status_code, 0) << status;
  auto client = Wscat("/chats/1.0.0/rooms/room2", token);
  EXPECT_TRUE(client->WaitForOutput("You joined room2!", kTimeoutMs)) << client->output();
}

// The connection registry (issue 13, ops-registry): `wsgatectl conn ls/get/send/close` against a
// live wscat session. wscat prints the close code and reason only on a terminal, so this one runs
// under script(1)'s pseudo-terminal.
TEST_F(AgentOperations, ConnectionRegistryAgainstWscat) {
  std::string token = Walkthrough();
  Subprocess room({"/usr/bin/script", "-qfec",
                   std::string(WSGATE_WSCAT) + " --no-color -c ws://127.0.0.1:" + engine_port_ +
                       "/chats/1.0.0/rooms/room1 -H 'Authorization: Bearer " + token + "'",
                   "/dev/null"});
  ASSERT_TRUE(room.WaitForOutput("You joined room1!", kTimeoutMs)) << room.output();

  std::string ls = CtlOk({"conn", "ls", "--api", "Chats:1.0.0", "--app", "ChatApp", "--topic", "/rooms/{roomID}",
                          "--client", "127.0.0.1"});
  ASSERT_EQ(std::count(ls.begin(), ls.end(), '\n'), 0) << "one connection: " << ls;
  std::string id = ls.substr(0, ls.find('\t'));
  EXPECT_NE(ls.find("Chats:1.0.0\t/rooms/{roomID}"), std::string::npos) << ls;
  EXPECT_EQ(std::count(id.begin(), id.end(), '-'), 3) << id;
  EXPECT_NE(CtlOk({"conn", "ls", "-o", "json"}).find("\"id\": \"" + id + "\""), std::string::npos);
  EXPECT_EQ(CtlOk({"conn", "ls", "--topic", "/notifications"}), "No live connections match");
  EXPECT_EQ(CtlOk({"conn", "ls", "--env", "Production and Sandbox"}).substr(0, id.size()), id);
  std::string out;
  EXPECT_EQ(Ctl({"conn", "ls", "--app", "NoSuchApp"}, &out), 1);
  EXPECT_NE(out.find("filter.application"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"conn", "ls", "--env", "Mars"}, &out), 1);
  EXPECT_NE(out.find("filter.environment"), std::string::npos) << out;
  std::string got = CtlOk({"conn", "get", id});
  EXPECT_NE(got.find("topic /rooms/{roomID}"), std::string::npos) << got;
  EXPECT_NE(got.find("key type PRODUCTION"), std::string::npos) << got;

  CtlOk({"conn", "send", id, "hello from the operator"});
  EXPECT_TRUE(room.WaitForOutput("hello from the operator", kTimeoutMs)) << room.output();
  EXPECT_EQ(Ctl({"conn", "send", "not-an-id", "x"}, &out), 1);
  EXPECT_NE(out.find("connection id 'not-an-id'"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"conn", "send", "00000000000000ff-0-0-1", "x"}, &out), 1);
  EXPECT_NE(out.find("no engine of this agent"), std::string::npos) << out;
  EXPECT_EQ(Ctl({"conn", "close", id, "--code", "1006"}, &out), 1);
  EXPECT_NE(out.find("code: 1006"), std::string::npos) << out;

  CtlOk({"conn", "close", id, "--code", "4000", "--reason", "closed by ops"});
  EXPECT_EQ(room.Wait(kTimeoutMs), 0) << room.output();
  EXPECT_NE(room.output().find("Disconnected (code: 4000, reason: \"closed by ops\")"), std::string::npos)
      << room.output();
  EXPECT_EQ(Ctl({"conn", "get", id}, &out), 1);
  EXPECT_NE(out.find("no such connection"), std::string::npos) << out;

  // The audit log has every mutation this test made, with its outcome, newest first; reads
  // (conn ls/get, api get) are not in it, and no token or secret is.
  std::string audit = CtlOk({"audit", "--since", "1h"});
  EXPECT_NE(audit.substr(0, audit.find('\n')).find("\tadmin\tCloseConnection\tconnection " + id + "\tOK"),
            std::string::npos) << audit;
  EXPECT_NE(audit.find("\tadmin\tCloseConnection\tconnection " + id + "\tINVALID_ARGUMENT: code: 1006"),
            std::string::npos) << audit;
  EXPECT_NE(audit.find("\tSendToConnection\tconnection " + id + "\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tSendToConnection\tconnection not-an-id\tINVALID_ARGUMENT"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tCreateApi\tapi Chats:1.0.0\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tDeployRevision\trevision Chats:1.0.0 revision 1\tOK"), std::string::npos) << audit;
  EXPECT_NE(audit.find("\tGenerateKeys\tkeys ChatApp\tOK"), std::string::npos) << audit;
  EXPECT_EQ(audit.find("GetConnection"), std::string::npos) << audit;
  EXPECT_EQ(audit.find("ListConnections"), std::string::npos) << audit;
  EXPECT_EQ(audit.find(token), std::string::npos);
  std::string two = CtlOk({"audit", "--limit", "2"});
  EXPECT_EQ(std::count(two.begin(), two.end(), '\n'), 1) << two;
  EXPECT_NE(CtlOk({"audit", "-o", "json"}).find("\"method\": \"CloseConnection\""), std::string::npos);
  EXPECT_EQ(CtlOk({"audit", "--since", "2999-01-01T00:00:00Z"}), "No audit records");
  EXPECT_EQ(Ctl({"audit", "--since", "yesterday"}, &out), 1);
  EXPECT_NE(out.find("--since"), std::string::npos) << out;

  // Usage: N frames from a client alone in its room (nothing comes back) add N to the
  // subscription's AsyncGold window, on the engine and in the total.
  auto used = [&] {
    std::string u = CtlOk({"usage", "ChatApp", "Chats:1.0.0"});
    size_t at = u.find("total\tsubscription ");
    EXPECT_NE(at, std::string::npos) << u;
    at = u.find("AsyncGold\t", at);
    return at == std::string::npos ? -1 : std::atoi(u.c_str() + at + 10);
  };
  int before = used();
  EXPECT_GE(before, 1) << "the welcome frames count";
  auto alone = Wscat("/chats/1.0.0/rooms/room2", token);
  ASSERT_TRUE(alone->WaitForOutput("You joined room2!", kTimeoutMs)) << alone->output();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(alone->WriteStdin("frame " + std::to_string(i) + "\n"));
  int after = 0;
  for (int i = 0; i < 100 && (after = used()) < before + 4; ++i) usleep(50000);
  EXPECT_EQ(after, before + 4) << "its welcome and its 3 frames";
  std::string usage = CtlOk({"usage", "ChatApp"});
  EXPECT_NE(usage.find("/50000 events\tresets "), std::string::npos) << usage;
  EXPECT_NE(usage.find("engine unix:"), std::string::npos) << usage;
  EXPECT_EQ(Ctl({"usage", "NoSuchApp"}, &out), 1);
  EXPECT_NE(out.find("application"), std::string::npos) << out;
}

// The agent's Prometheus endpoint (issue 13 item 2): promtool accepts it, and it shows what this
// test did (admin RPCs by method and code, catalog size, the engine up with no lag).
TEST_F(AgentOperations, AgentMetricsPassPromtool) {
  ASSERT_NE(metrics_port_, "0") << agent_->output();
  Walkthrough();
  std::string out;
  EXPECT_EQ(Ctl({"api", "get", "Nope:1.0.0"}, &out), 1);
  Subprocess bad_client({"/usr/bin/curl", "-s", "-u", "nobody:wrong", "-d", "grant_type=client_credentials",
                         "http://127.0.0.1:" + token_port_ + "/oauth2/token"});
  bad_client.Wait(kTimeoutMs);
  std::string file = dir_ + "/metrics.txt";
  Subprocess curl({"/usr/bin/curl", "-sf", "-o", file, "http://127.0.0.1:" + metrics_port_ + "/metrics"});
  ASSERT_EQ(curl.Wait(kTimeoutMs), 0) << curl.output();
  std::string text;
  {
    FILE* f = fopen(file.c_str(), "r");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof(buf), f)) text.append(buf, n);
    fclose(f);
  }
  EXPECT_NE(text.find("wsgate_agent_admin_rpcs_total{method=\"CreateApi\",code=\"OK\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_admin_rpcs_total{method=\"GetApi\",code=\"NOT_FOUND\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("wsgate_agent_catalog_objects{kind=\"apis\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_catalog_objects{kind=\"subscriptions\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_engine_up{engine=\"unix:" + dir_ + "/engine.sock\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_build_info{version="), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_tokens_issued_total{grant=\"admin\",key_type=\"PRODUCTION\"} 1"),
            std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_tokens_issued_total{grant=\"client_credentials\",key_type=\"SANDBOX\"} 0"),
            std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_oauth_requests_total{endpoint=\"/oauth2/token\",status=\"401\"} 1"),
            std::string::npos) << text;
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool missing (Debian package prometheus; tools/setup.sh)";
  Subprocess promtool({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + file});
  EXPECT_EQ(promtool.Wait(kTimeoutMs), 0) << promtool.output();
}

// `wsgatectl top` (issue 13 item 5, helper top) against live wscat sessions: two clients in a
// room, one sending while `top --once` measures; plain tables off a terminal, the ANSI view and
// its restore on a pseudo-terminal (script(1)), where q quits.
TEST_F(AgentOperations, TopShowsLiveTrafficPerApi) {
  std::string token = Walkthrough();
  auto sender = Wscat("/chats/1.0.0/rooms/room1", token);
  auto member = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(sender->WaitForOutput("You joined room1!", kTimeoutMs)) << sender->output();
  ASSERT_TRUE(member->WaitForOutput("You joined room1!", kTimeoutMs)) << member->output();
  Subprocess top(CtlArgs({"top", "--once", "--interval", "1s"}));
  for (int i = 0; i < 15; ++i) {  // throughout top's one-second window
    ASSERT_TRUE(sender->WriteStdin("frame " + std::to_string(i) + "\n"));
    usleep(100000);
  }
  ASSERT_EQ(top.Wait(kTimeoutMs), 0) << top.output();
  std::string out = top.output();
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << "no terminal: no escape sequences";
  EXPECT_NE(out.find("1 engine, rates over 1."), std::string::npos) << out;
  EXPECT_NE(out.find("API "), std::string::npos) << out;
  size_t row = out.find("\nChats:1.0.0 ");
  ASSERT_NE(row, std::string::npos) << out;
  std::istringstream cols(out.substr(row + 1, out.find('\n', row + 1) - row - 1));
  std::string api;
  double conns = 0, fresh = 0, in = 0, outbound = 0, throttled = 0, denied = 0, errors = 0;
  cols >> api >> conns >> fresh >> in >> outbound >> throttled >> denied >> errors;
  EXPECT_EQ(conns, 2) << out;
  EXPECT_GE(in, 3.0) << "the sender's frames (about 10/s): " << out;
  EXPECT_GT(outbound, 0.0) << "the room's broadcasts to the member: " << out;
  EXPECT_EQ(throttled + denied + errors, 0) << out;
  EXPECT_NE(out.find("\nTOTAL "), std::string::npos) << out;

  std::string twice;
  ASSERT_EQ(Ctl({"top", "--count", "2", "--interval", "200ms"}, &twice), 0) << twice;
  size_t first = twice.find("wsgate top  ");
  ASSERT_NE(first, std::string::npos) << twice;
  EXPECT_NE(twice.find("\n\nwsgate top  ", first), std::string::npos) << "two tables, a blank line between: " << twice;
  EXPECT_EQ(Ctl({"top", "--interval", "5"}, &twice), 1);
  EXPECT_NE(twice.find("--interval: '5'"), std::string::npos) << twice;
  EXPECT_EQ(Ctl({"top", "--once", "--env", "Mars"}, &twice), 1);
  EXPECT_NE(twice.find("environment: no environment named 'Mars'"), std::string::npos) << twice;
  std::string json = CtlOk({"top", "--once", "--interval", "100ms", "-o", "json"});
  EXPECT_NE(json.find("\"name\": \"Chats\""), std::string::npos) << "the raw counters, per API: " << json;
  EXPECT_NE(json.find("\"sampled_unix_ms\""), std::string::npos) << json;

  // On a terminal: cleared and redrawn in place, cursor hidden, until q; then the cursor is back.
  std::string command;
  for (const auto& a : CtlArgs({"top", "--interval", "200ms"})) command += "'" + a + "' ";
  Subprocess live({"/usr/bin/script", "-qfec", command, "/dev/null"});
  ASSERT_TRUE(live.WaitForOutput("(q or Ctrl-C to quit)", kTimeoutMs)) << live.output();
  ASSERT_TRUE(live.WriteStdin("q"));
  EXPECT_EQ(live.Wait(kTimeoutMs), 0) << live.output();
  EXPECT_NE(live.output().find("\x1b[?25l"), std::string::npos) << live.output();
  EXPECT_NE(live.output().find("\x1b[H\x1b[2J"), std::string::npos) << live.output();
  EXPECT_NE(live.output().find("\x1b[?25h"), std::string::npos) << "cursor restored: " << live.output();
}

TEST(WsgatectlDocs, EveryCommandIsDocumented) {
  Subprocess help({WSGATE_CTL, "--help"});
  ASSERT_EQ(help.Wait(kTimeoutMs), 0);
  std::string doc;
  {
    FILE* f = fopen(WSGATE_SOURCE_DIR "/docs/cli.md", "r");
    ASSERT_NE(f, nullptr) << "docs/cli.md is missing";
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof(buf), f)) doc.append(buf, n);
    fclose(f);
  }
  // Every "  group verb" line of the overview names a command; docs/cli.md must mention each.
  std::string out = help.output();
  size_t at = out.find("Commands:\n");
  ASSERT_NE(at, std::string::npos);
  std::istringstream lines(out.substr(at + 10));
  std::string line;
  int commands = 0;
  while (std::getline(lines, line)) {
    if (line.size() < 3 || line[0] != ' ' || line[2] == ' ') continue;
    // The command is the leading lower-case words of the first column (before a double space).
    std::string first = line.substr(2, line.find("  ", 2) == std::string::npos ? std::string::npos : line.find("  ", 2) - 2);
    std::istringstream words(first);
    std::string word, path;
    for (int n = 0; n < 2 && words >> word; ++n) {
      bool lower = std::all_of(word.begin(), word.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)) || c == '-'; });
      if (!lower) break;
      path += (path.empty() ? "" : " ") + word;
    }
    ++commands;
    EXPECT_NE(doc.find("`" + path), std::string::npos) << "docs/cli.md does not document `" << path << "`";
  }
  EXPECT_GE(commands, 30);
}

TEST_F(AgentOperations, SnapshotStandaloneServesTheCatalogWithoutTheAgent) {
  std::string token = Walkthrough();
  std::string out;
  EXPECT_NE(Ctl({"snapshot", "--standalone"}, &out), 0);
  EXPECT_NE(out.find("--standalone needs --file FILE"), std::string::npos) << out;
  EXPECT_NE(Ctl({"snapshot", "--env", "Nope"}, &out), 0);
  EXPECT_NE(out.find("Nope"), std::string::npos) << out;
  std::string readable = CtlOk({"snapshot"});
  EXPECT_EQ(readable.rfind("# wsgate.v1.Snapshot of the default environment", 0), 0u) << readable;
  EXPECT_NE(readable.find("name: \"Chats\""), std::string::npos) << readable;
  std::string file = dir_ + "/standalone.textproto";
  EXPECT_NE(CtlOk({"snapshot", "--standalone", "-f", file}).find("serve it with: wsgate-engine --config " + file),
            std::string::npos);
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Subprocess check({WSGATE_ENGINE, "--check-config", file});
  ASSERT_EQ(check.Wait(kTimeoutMs), 0) << check.output();

  agent_.reset();
  engine_.reset();
  engine_ = std::make_unique<Subprocess>(std::vector<std::string>{
      WSGATE_ENGINE, "--config", file, "--control", "unix:" + dir_ + "/standalone.sock", "--ws-listen", "127.0.0.1:0",
      "--admin-listen", "", "--shards", "1"});
  size_t at = 0;
  engine_port_ = std::to_string(PortAfter(*engine_, "(port ", &at));
  ASSERT_NE(engine_port_, "0") << engine_->output();
  auto client = Wscat("/chats/1.0.0/notifications", token);
  EXPECT_TRUE(client->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << client->output() << engine_->output();
}

// Issue 14 item 1: scopes are declared by the API, topics name them, and a self-service client
// gets from /oauth2/token only the scopes its subscriptions (and its owner's roles) allow: it
// cannot reach a topic whose scope it was not granted.

}  // namespace
}  // namespace wsgate::testing
