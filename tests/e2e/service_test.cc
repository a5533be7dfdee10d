// End-to-end tests of running wsgate as a service (issue 17 items 2 and 3): `wsgate-engine
// --check-config` on the shipped example, on a file with several errors and on a syntax error,
// opening no socket; and the sd_notify READY=1 / STOPPING=1 datagrams that Type=notify units wait
// for, received on a real datagram socket named by NOTIFY_SOCKET, from the real engine and agent.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::RunToEnd;
using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 15000;

class Service : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-service-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (notify_fd_ >= 0) close(notify_fd_);
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  // Binds dir/notify (a datagram socket, as systemd's); returns NOTIFY_SOCKET=... for the child.
  std::string BindNotifySocket() {
    std::string path = dir_ + "/notify";
    notify_fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(bind(notify_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
    return "NOTIFY_SOCKET=" + path;
  }
  // The next datagram, waiting at most kTimeoutMs; "" if none came.
  std::string NextNotification() {
    timeval tv{kTimeoutMs / 1000, 0};
    setsockopt(notify_fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[512];
    ssize_t n = recv(notify_fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
  int notify_fd_ = -1;
};

TEST_F(Service, CheckConfigAcceptsTheShippedExampleAndOpensNoSocket) {
  // WSGATE_RUN_DIR points the default control socket into dir_: nothing may appear there.
  Subprocess p({WSGATE_ENGINE, "--check-config", WSGATE_SOURCE_DIR "/docs/examples/chats.textproto"},
               {"WSGATE_RUN_DIR=" + dir_});
  ASSERT_EQ(p.Wait(kTimeoutMs), 0) << p.output();
  EXPECT_NE(p.output().find("chats.textproto is ok (version 1: 1 API(s) on 1 vhost(s)"), std::string::npos)
      << p.output();
  EXPECT_NE(access((dir_ + "/engine.sock").c_str(), F_OK), 0) << "--check-config created the control socket";
}

TEST_F(Service, CheckConfigListsEveryErrorWithItsFieldPath) {
  std::ifstream in(WSGATE_SOURCE_DIR "/docs/examples/chats.textproto");
  std::stringstream text;
  text << in.rdbuf();
  std::string bad = text.str();
  bad.replace(bad.find("context: \"/chats\""), 17, "context: \"chats\"");
  bad += "opaque_tokens { client_id: \"x\" sha256: \"short\" }\n";
  bad += "subscriptions { id: \"s2\" application_id: \"nobody\" api_id: \"chats-1.0.0\" plan: \"AsyncGold\" }\n";
  std::string path = Write("bad.textproto", bad);
  std::string out;
  EXPECT_EQ(RunToEnd({WSGATE_ENGINE, "--check-config", path}, kTimeoutMs, &out), 1) << out;
  EXPECT_NE(out.find(path + ": apis[0].context: must start with '/'"), std::string::npos) << out;
  EXPECT_NE(out.find(path + ": subscriptions[1].application_id: unknown application 'nobody'"), std::string::npos)
      << out;
  EXPECT_NE(out.find(path + ": opaque_tokens[1].sha256: must be 32 bytes"), std::string::npos) << out;
  EXPECT_NE(out.find("test failed: 3 error(s)"), std::string::npos) << out;

  std::string syntax = Write("syntax.textproto", "version: 1\napis { nope: 1 }\n");
  EXPECT_EQ(RunToEnd({WSGATE_ENGINE, "--check-config", syntax}, kTimeoutMs, &out), 1) << out;
  EXPECT_NE(out.find("line 2 column"), std::string::npos) << out;
  EXPECT_EQ(RunToEnd({WSGATE_ENGINE, "--check-config", dir_ + "/missing"}, kTimeoutMs, &out), 1) << out;
  EXPECT_NE(out.find("cannot read " + dir_ + "/missing"), std::string::npos) << out;
}

TEST_F(Service, EngineNotifiesReadyAfterBindingAndStoppingOnSigterm) {
  std::string notify = BindNotifySocket();
  Subprocess engine({WSGATE_ENGINE, "--control", "unix:" + dir_ + "/engine.sock", "--ws-listen", "127.0.0.1:0",
                     "--wss-listen", "", "--admin-listen", "", "--shards", "1", "--drain-timeout-ms", "0"},
                    {notify});
  std::string ready = NextNotification();
  ASSERT_EQ(ready.rfind("READY=1\nSTATUS=ws port ", 0), 0u) << ready << "\n" << engine.output();
  // Ready means bound: the port in STATUS is the one the log names, and the socket exists.
  size_t at = 0;
  int port = engine.NumberAfter("(port ", kTimeoutMs, &at);
  EXPECT_NE(port, 0);
  EXPECT_NE(ready.find("ws port " + std::to_string(port)), std::string::npos) << ready;
  EXPECT_EQ(access((dir_ + "/engine.sock").c_str(), F_OK), 0);
  engine.Signal(SIGTERM);
  EXPECT_EQ(NextNotification(), "STOPPING=1");
  EXPECT_EQ(engine.Wait(kTimeoutMs), 0) << engine.output();
}

TEST_F(Service, AgentNotifiesReadyOnceItsApiListensAndDefaultsToTheEnginesSocket) {
  std::string notify = BindNotifySocket();
  // No --engine: the agent manages the engine a plain wsgate-engine would serve (WSGATE_RUN_DIR).
  Subprocess agent({WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data", "--admin-listen", "127.0.0.1:0", "--token-listen",
                    "127.0.0.1:0"},
                   {notify, "WSGATE_RUN_DIR=" + dir_});
  std::string ready = NextNotification();
  ASSERT_EQ(ready.rfind("READY=1\nSTATUS=admin API on port ", 0), 0u) << ready << "\n" << agent.output();
  EXPECT_NE(agent.output().find("engines: unix:" + dir_ + "/engine.sock"), std::string::npos) << agent.output();
  agent.Signal(SIGTERM);
  EXPECT_EQ(NextNotification(), "STOPPING=1");
  EXPECT_EQ(agent.Wait(kTimeoutMs), 0) << agent.output();
}

}  // namespace
