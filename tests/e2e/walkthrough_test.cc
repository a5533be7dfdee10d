// The walkthrough end to end, as a new user does it: tools/demo.sh (README command one) starts
// chat-backend, wsgate-engine and wsgate-agent and performs the publisher's and developer's
// steps; then wscat from npm follows the tutorial's invocation steps over ws and wss, and the
// error cases a user hits are checked as they appear to them.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/support/free_port.h"
#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 15000;

class Walkthrough : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(WSGATE_WSCAT, X_OK), 0) << "run tools/setup.sh";
    char tmpl[] = "/tmp/wsgate-walkthrough-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (int* p : {&backend_, &ws_, &wss_, &admin_, &token_}) *p = wsgate::testing::ReserveLoopbackPort();
    StartDemo();
  }
  // tools/demo.sh on this test's ports and data directory, until "== ready"; reads the token.
  void StartDemo() {
    demo_ = std::make_unique<Subprocess>(
        std::vector<std::string>{"/bin/bash", WSGATE_SOURCE_DIR "/tools/demo.sh"},
        std::vector<std::string>{"WSGATE_DEMO_DIR=" + dir_, "WSGATE_BUILD_DIR=" WSGATE_BUILD_DIR,
                                 "WSGATE_DEMO_PORTS=" + std::to_string(backend_) + " " + std::to_string(ws_) + " " +
                                     std::to_string(wss_) + " " + std::to_string(admin_) + " " + std::to_string(token_),
                                 "WSGATE_DEMO_CONSOLE_PORT=0"});
    ASSERT_TRUE(demo_->WaitForOutput("== ready", 180000)) << demo_->output();
    std::ifstream in(dir_ + "/token");
    std::getline(in, token_text_);
    ASSERT_EQ(std::count(token_text_.begin(), token_text_.end(), '.'), 2);
  }
  void StopDemo() {
    demo_->Signal(SIGINT);  // Ctrl-C
    EXPECT_EQ(demo_->Wait(kTimeoutMs), 0) << demo_->output();
    EXPECT_NE(demo_->output().find("== stopped"), std::string::npos);
  }
  void TearDown() override {
    if (demo_) StopDemo();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }

  std::unique_ptr<Subprocess> Wscat(const std::string& url, const std::string& token, bool insecure = false) {
    std::vector<std::string> argv{WSGATE_WSCAT, "--no-color"};
    if (insecure) argv.push_back("-n");
    argv.insert(argv.end(), {"-c", url});
    if (!token.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
    return std::make_unique<Subprocess>(argv);
  }
  std::string Ws(const std::string& path) { return "ws://localhost:" + std::to_string(ws_) + path; }
  std::string Wss(const std::string& path) { return "wss://localhost:" + std::to_string(wss_) + path; }
  int Ctl(std::vector<std::string> args, std::string* out = nullptr) {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", "127.0.0.1:" + std::to_string(admin_)});
    Subprocess p(args, {"WSGATE_HOME=" + dir_ + "/agent"});
    int code = p.Wait(kTimeoutMs);
    if (out) *out = p.output();
    return code;
  }
  // An upgrade request with curl, for the exact status line and body.
  std::string Curl(const std::string& path, const std::vector<std::string>& headers) {
    std::vector<std::string> argv{"/usr/bin/curl", "-s", "-i", "--http1.1", "-H", "Connection: Upgrade", "-H",
                                  "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H",
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="};
    for (const auto& h : headers) argv.insert(argv.end(), {"-H", h});
    argv.push_back("http://localhost:" + std::to_string(ws_) + path);
    Subprocess p(argv);
    p.Wait(kTimeoutMs);
    return p.output();
  }

  std::string dir_, token_text_;
  int backend_ = 0, ws_ = 0, wss_ = 0, admin_ = 0, token_ = 0;
  std::unique_ptr<Subprocess> demo_;
};

TEST_F(Walkthrough, FollowsTheTutorialOverWsAndWss) {
  // 1. /notifications
  auto notifications = Wscat(Ws("/chats/1.0.0/notifications"), token_text_);
  ASSERT_TRUE(notifications->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << notifications->output();
  size_t seen = 0;
  // 2. the first room1 client, and its notice
  auto first = Wscat(Ws("/chats/1.0.0/rooms/room1"), token_text_);
  ASSERT_TRUE(first->WaitForOutput("You joined room1!", kTimeoutMs)) << first->output();
  ASSERT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs, &seen));
  // 3. the second (over wss, -n), and a second notice
  auto second = Wscat(Wss("/chats/1.0.0/rooms/room1"), token_text_, /*insecure=*/true);
  ASSERT_TRUE(second->WaitForOutput("You joined room1!", kTimeoutMs)) << second->output();
  ASSERT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs, &seen));
  // 4. chat both ways; only the other client receives
  ASSERT_TRUE(first->WriteStdin("Hello from the first terminal\n"));
  EXPECT_TRUE(second->WaitForOutput("Hello from the first terminal", kTimeoutMs)) << second->output();
  ASSERT_TRUE(second->WriteStdin("Hello back over wss\n"));
  EXPECT_TRUE(first->WaitForOutput("Hello back over wss", kTimeoutMs)) << first->output();
  EXPECT_FALSE(first->WaitForOutput("Hello from the first terminal", 300));
  EXPECT_EQ(notifications->CountInOutput("Hello"), 0u);
  // 5. ?access_token=, over ws and wss
  auto query = Wscat(Ws("/chats/1.0.0/notifications?access_token=" + token_text_), "");
  EXPECT_TRUE(query->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << query->output();
  auto query_wss = Wscat(Wss("/chats/1.0.0/rooms/room2?access_token=" + token_text_), "", true);
  EXPECT_TRUE(query_wss->WaitForOutput("You joined room2!", kTimeoutMs)) << query_wss->output();
}

TEST_F(Walkthrough, ErrorsAsAUserSeesThem) {
  // 6. no token, Basic, unknown room, unknown topic, revoked token
  std::string none = Curl("/chats/1.0.0/notifications", {});
  EXPECT_NE(none.find("HTTP/1.1 401"), std::string::npos) << none;
  EXPECT_NE(none.find("No Authorization Header or access_token query parameter present"), std::string::npos) << none;
  EXPECT_NE(Curl("/chats/1.0.0/notifications", {"Authorization: Basic YWRtaW46YWRtaW4="}).find("HTTP/1.1 401"),
            std::string::npos);
  auto room9 = Wscat(Ws("/chats/1.0.0/rooms/room9"), token_text_);
  EXPECT_NE(room9->Wait(kTimeoutMs), 0);
  EXPECT_NE(room9->output().find("502"), std::string::npos) << room9->output();
  auto topic = Wscat(Ws("/chats/1.0.0/lobby"), token_text_);
  EXPECT_NE(topic->Wait(kTimeoutMs), 0);
  EXPECT_NE(topic->output().find("404"), std::string::npos) << topic->output();
  std::string unknown = Curl("/chats/1.0.0/lobby", {"Authorization: Bearer " + token_text_});
  EXPECT_NE(unknown.find("No matching resource found to dispatch the request"), std::string::npos) << unknown;

  auto live = Wscat(Ws("/chats/1.0.0/notifications"), token_text_);
  ASSERT_TRUE(live->WaitForOutput("Subscribed to notifications!", kTimeoutMs));
  std::string out;
  ASSERT_EQ(Ctl({"token", "revoke", token_text_}, &out), 0) << out;
  EXPECT_EQ(live->Wait(kTimeoutMs), 0) << "the live socket is closed with 4001";
  auto revoked = Wscat(Ws("/chats/1.0.0/notifications"), token_text_);
  EXPECT_NE(revoked->Wait(kTimeoutMs), 0);
  EXPECT_NE(revoked->output().find("401"), std::string::npos) << revoked->output();
}

TEST_F(Walkthrough, SandboxOnlyApiAndTheDefaultVersionUrl) {
  // 7a. a sandbox-only API refuses a production token
  std::string out;
  std::string backend = "ws://localhost:" + std::to_string(backend_);
  ASSERT_EQ(Ctl({"api", "create", "Lab", "--context", "/lab", "--version", "0.1", "--sandbox-endpoint", backend}, &out), 0) << out;
  ASSERT_EQ(Ctl({"api", "plans", "Lab:0.1", "AsyncBronze"}, &out), 0) << out;
  ASSERT_EQ(Ctl({"api", "lifecycle", "Lab:0.1", "Publish"}, &out), 0) << out;
  ASSERT_EQ(Ctl({"revision", "create", "Lab:0.1"}, &out), 0) << out;
  ASSERT_EQ(Ctl({"revision", "deploy", "Lab:0.1", "1"}, &out), 0) << out;
  ASSERT_EQ(Ctl({"subscription", "create", "ChatApp", "Lab:0.1", "--plan", "AsyncBronze"}, &out), 0) << out;
  auto refused = Wscat(Ws("/lab/0.1/notifications"), token_text_);
  EXPECT_NE(refused->Wait(kTimeoutMs), 0);
  EXPECT_NE(refused->output().find("503"), std::string::npos) << refused->output();
  // ... and a sandbox token opens it.
  ASSERT_EQ(Ctl({"keys", "generate", "ChatApp", "--type", "SANDBOX"}, &out), 0) << out;
  std::string sandbox_token;
  ASSERT_EQ(Ctl({"token", "ChatApp", "--type", "SANDBOX"}, &sandbox_token), 0) << sandbox_token;
  sandbox_token.erase(sandbox_token.find_last_not_of("\n") + 1);
  auto lab = Wscat(Ws("/lab/0.1/notifications"), sandbox_token);
  EXPECT_TRUE(lab->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << lab->output();

  // 7b. the default-version URL works once enabled and deployed
  auto before = Wscat(Ws("/chats/notifications"), token_text_);
  EXPECT_NE(before->Wait(kTimeoutMs), 0);
  ASSERT_EQ(Ctl({"api", "update", "Chats:1.0.0", "--default-version"}, &out), 0) << out;
  ASSERT_EQ(Ctl({"revision", "create", "Chats:1.0.0"}, &out), 0) << out;
  ASSERT_EQ(Ctl({"revision", "deploy", "Chats:1.0.0", "2"}, &out), 0) << out;
  auto after = Wscat(Ws("/chats/notifications"), token_text_);
  EXPECT_TRUE(after->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << after->output();
}

// Issue 17 item 5: the token is printed once as `export TOKEN=$(cat ...)` and the wscat commands
// use $TOKEN; a second run with another backend port points the reused API at it (it used to
// keep the old port: a silent 502).
TEST_F(Walkthrough, ShortCommandsAndASecondRunOnAnotherBackendPort) {
  const std::string& out = demo_->output();
  EXPECT_EQ(demo_->CountInOutput("export TOKEN=$(cat " + dir_ + "/token)"), 1u) << out;
  EXPECT_NE(out.find("-H \"Authorization: Bearer $TOKEN\""), std::string::npos) << out;
  EXPECT_EQ(out.find(token_text_), std::string::npos) << "the token itself is not printed";
  EXPECT_EQ(out.find("0.0.0.0"), std::string::npos) << "127.0.0.1 only by default: " << out;
  StopDemo();
  backend_ = wsgate::testing::ReserveLoopbackPort();
  StartDemo();
  EXPECT_NE(demo_->output().find("the backend moved"), std::string::npos) << demo_->output();
  auto notifications = Wscat(Ws("/chats/1.0.0/notifications"), token_text_);
  EXPECT_TRUE(notifications->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << notifications->output();
  auto room = Wscat(Ws("/chats/1.0.0/rooms/room1"), token_text_);
  EXPECT_TRUE(room->WaitForOutput("You joined room1!", kTimeoutMs)) << room->output();
}

}  // namespace
