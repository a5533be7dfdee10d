// End-to-end tests of engine restarts as an operator does them (issue #11, items 6, 7, 11): two
// engines on one control socket path, the socket's owner at exit, a second engine on a taken
// ws port, and the agent bringing a restarted engine up to date within ~3 s after 20+ s down.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/subprocess.h"
#include "tests/support/ws_client.h"

namespace {

using wsgate::testing::Subprocess;
using wsgate::testing::WsClient;

constexpr int kTimeoutMs = 15000;

int PortAfter(Subprocess& p, const std::string& marker) {
  size_t at = 0;
  if (!p.WaitForOutput(marker, kTimeoutMs, &at)) return 0;
  return std::atoi(p.output().c_str() + at);
}

// The status an upgrade to `path` gets (0: nothing listens).
int UpgradeStatus(int port, const std::string& path = "/chats/1.0.0/notifications") {
  WsClient c;
  c.Connect(static_cast<uint16_t>(port), path, {}, 1000);
  return c.status();
}

ino_t InodeOf(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool Connects(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

class EngineRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-restart-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    sock_ = dir_ + "/engine.sock";
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }

  std::unique_ptr<Subprocess> Engine(const std::string& listen = "127.0.0.1:0", std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{WSGATE_ENGINE, "--control",     "unix:" + sock_, "--ws-listen", listen,
                                  "--shards",    "1",           "--admin-listen", "127.0.0.1:0",
                                  "--drain-timeout-ms", "2000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Subprocess>(argv);
  }

  std::string dir_, sock_;
};

// A second engine on the live engine's --control path used to unlink its socket and take it
// over; now it refuses to start, and the first engine keeps its socket.
TEST_F(EngineRestart, ASecondEngineOnTheSameControlPathRefusesToStart) {
  auto first = Engine();
  ASSERT_GT(PortAfter(*first, "(port "), 0) << first->output();
  ino_t ino = InodeOf(sock_);
  ASSERT_NE(ino, 0u);
  auto second = Engine();
  EXPECT_EQ(second->Wait(kTimeoutMs), 1) << second->output();
  EXPECT_NE(second->output().find("--control unix:" + sock_ + ": another wsgate-engine is serving there"),
            std::string::npos)
      << second->output();
  EXPECT_EQ(InodeOf(sock_), ino);
  EXPECT_TRUE(Connects(sock_));
  // Once the first has exited (socket removed), the path is free again.
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(kTimeoutMs), 0) << first->output();
  EXPECT_EQ(InodeOf(sock_), 0u);
  auto third = Engine();
  EXPECT_GT(PortAfter(*third, "(port "), 0) << third->output();
  EXPECT_TRUE(Connects(sock_));
}

// An exiting engine removes only its own socket, never one that replaced it.
TEST_F(EngineRestart, AnExitingEngineLeavesAReplacedSocketAlone) {
  auto engine = Engine();
  ASSERT_GT(PortAfter(*engine, "(port "), 0) << engine->output();
  // Someone else's socket now sits at the path (as an engine without the lock would have made).
  ASSERT_EQ(unlink(sock_.c_str()), 0);
  int other = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(other, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(other, 1), 0);
  ino_t successor = InodeOf(sock_);
  engine->Signal(SIGTERM);
  EXPECT_EQ(engine->Wait(kTimeoutMs), 0) << engine->output();
  EXPECT_EQ(InodeOf(sock_), successor);
  // A live socket without a lock holder is not replaced either.
  auto next = Engine();
  EXPECT_EQ(next->Wait(kTimeoutMs), 1) << next->output();
  EXPECT_NE(next->output().find("another process is serving there"), std::string::npos) << next->output();
  close(other);
  // Now it is stale (nothing listens): replaced, with a log line.
  auto last = Engine();
  EXPECT_GT(PortAfter(*last, "(port "), 0) << last->output();
  EXPECT_NE(last->output().find("replacing the stale control socket " + sock_), std::string::npos) << last->output();
  EXPECT_TRUE(Connects(sock_));
}

// A second engine on a taken ws port used to share it silently (SO_REUSEPORT).
TEST_F(EngineRestart, ASecondEngineOnATakenPortNeedsReusePort) {
  auto first = Engine();
  int port = PortAfter(*first, "(port ");
  ASSERT_GT(port, 0) << first->output();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  sock_ = dir_ + "/second.sock";
  auto second = Engine(listen);
  EXPECT_EQ(second->Wait(kTimeoutMs), 1) << second->output();
  EXPECT_NE(second->output().find("--ws-listen " + listen + ": the address is already in use"), std::string::npos)
      << second->output();
  EXPECT_NE(second->output().find("--reuse-port"), std::string::npos) << second->output();
  // A hitless restart: the new engine shares the port on purpose, then the old one drains.
  auto next = Engine(listen, {"--reuse-port"});
  EXPECT_EQ(PortAfter(*next, "(port "), port) << next->output();
  EXPECT_NE(next->output().find("--reuse-port: sharing the port"), std::string::npos) << next->output();
  first->Signal(SIGTERM);
  EXPECT_EQ(first->Wait(kTimeoutMs), 0);
  EXPECT_EQ(UpgradeStatus(port), 503);  // the new engine serves (no config yet)
}

// The agent reconfigures an engine that restarts after 20+ s down within ~3 s (gRPC's default
// reconnect backoff had grown to ~10 s by then); meanwhile the engine answers 503, not 404.
TEST_F(EngineRestart, TheAgentReconfiguresARestartedEngineWithinThreeSeconds) {
  auto engine = Engine();
  int port = PortAfter(*engine, "(port ");
  ASSERT_GT(port, 0) << engine->output();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(UpgradeStatus(port), 503);
  Subprocess agent({WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data", "--engine", "unix:" + sock_, "--admin-listen",
                    "127.0.0.1:0", "--token-listen", "127.0.0.1:0"});
  ASSERT_TRUE(agent.WaitForOutput("admin API on", kTimeoutMs)) << agent.output();
  // The agent's (empty) catalog is pushed: configured, so an unknown API is WSO2's 404.
  auto configured = [&] { return UpgradeStatus(port) == 404; };
  for (int i = 0; i < 50 && !configured(); ++i) usleep(100000);
  ASSERT_TRUE(configured()) << agent.output();

  engine->Signal(SIGTERM);
  ASSERT_EQ(engine->Wait(kTimeoutMs), 0);
  std::this_thread::sleep_for(std::chrono::seconds(22));
  engine = Engine(listen);
  ASSERT_EQ(PortAfter(*engine, "(port "), port) << engine->output();
  auto up = std::chrono::steady_clock::now();
  int status = 0;
  while (std::chrono::steady_clock::now() - up < std::chrono::seconds(8)) {
    status = UpgradeStatus(port);
    if (status == 404) break;
    EXPECT_EQ(status, 503);  // never a 404 (or anything else) before the push
    usleep(50000);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - up).count();
  EXPECT_EQ(status, 404) << agent.output();
  EXPECT_LT(seconds, 3.0) << "the agent took " << seconds << " s to reconfigure the restarted engine";
  std::printf("restarted engine reconfigured after %.2f s\n", seconds);
}

}  // namespace
