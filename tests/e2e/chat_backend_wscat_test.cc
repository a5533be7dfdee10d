// End-to-end test: the chat-backend binary as a process on an ephemeral port, driven by wscat
// from npm (the client the walkthrough uses) exactly as a user types into it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 10000;

class ChatBackendWscat : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(WSGATE_WSCAT, X_OK), 0) << WSGATE_WSCAT << " is missing: run tools/setup.sh";
    backend_ = std::make_unique<Subprocess>(
        std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0", "--bind", "127.0.0.1"});
    size_t at = 0;
    ASSERT_TRUE(backend_->WaitForOutput("Notifications on: ws://localhost:", kTimeoutMs, &at))
        << backend_->output();
    port_ = std::to_string(std::stoi(backend_->output().substr(at)));
    ASSERT_TRUE(backend_->WaitForOutput("Chat rooms on: ws://localhost:" + port_ + "/rooms?room={ID}", kTimeoutMs));
  }

  std::unique_ptr<Subprocess> Wscat(const std::string& path) {
    return std::make_unique<Subprocess>(
        std::vector<std::string>{WSGATE_WSCAT, "--no-color", "-c", "ws://127.0.0.1:" + port_ + path});
  }

  std::unique_ptr<Subprocess> backend_;
  std::string port_;
};

TEST_F(ChatBackendWscat, NotificationsAndTwoRoom1ClientsChatBothWays) {
  auto notifications = Wscat("/notifications");
  ASSERT_TRUE(notifications->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << notifications->output();

  auto first = Wscat("/rooms?room=room1");
  ASSERT_TRUE(first->WaitForOutput("You joined room1!", kTimeoutMs)) << first->output();
  size_t seen = 0;
  ASSERT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs, &seen));

  auto second = Wscat("/rooms?room=room1");
  ASSERT_TRUE(second->WaitForOutput("You joined room1!", kTimeoutMs)) << second->output();
  ASSERT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs, &seen))
      << "the second join must notify too:\n" << notifications->output();

  ASSERT_TRUE(first->WriteStdin("Hi from the first terminal\n"));
  EXPECT_TRUE(second->WaitForOutput("Hi from the first terminal", kTimeoutMs)) << second->output();
  ASSERT_TRUE(second->WriteStdin("Hello back from the second\n"));
  EXPECT_TRUE(first->WaitForOutput("Hello back from the second", kTimeoutMs)) << first->output();

  // Give any stray delivery time to show up, then check nobody got what they should not.
  EXPECT_FALSE(first->WaitForOutput("Hi from the first terminal", 300));
  EXPECT_EQ(second->CountInOutput("Hello back from the second"), 0u + second->CountInOutput("Hello back"));
  EXPECT_EQ(notifications->CountInOutput("Hi from the first terminal"), 0u);
  EXPECT_EQ(notifications->CountInOutput("Hello back from the second"), 0u);
  EXPECT_EQ(notifications->CountInOutput("Someone joined room1!"), 2u);
}

TEST_F(ChatBackendWscat, UnknownRoomIsRefusedAndSigtermStopsCleanly) {
  auto refused = Wscat("/rooms?room=room9");
  int status = refused->Wait(kTimeoutMs);
  EXPECT_NE(status, 0) << refused->output();
  EXPECT_NE(status, -1) << "wscat should give up at once";
  EXPECT_NE(refused->output().find("error: socket hang up"), std::string::npos) << refused->output();

  auto client = Wscat("/rooms?room=common");
  ASSERT_TRUE(client->WaitForOutput("You joined the common room!", kTimeoutMs)) << client->output();
  backend_->Signal(SIGTERM);
  EXPECT_EQ(backend_->Wait(kTimeoutMs), 0) << backend_->output();
  // The backend closed the session properly (a close frame, not a dropped socket): wscat exits 0
  // on a close and -1 on a socket error. (It prints "Disconnected (code: 1001 ...)" only on a TTY;
  // the integration test checks the code itself.)
  EXPECT_EQ(client->Wait(kTimeoutMs), 0) << client->output();
}

}  // namespace
