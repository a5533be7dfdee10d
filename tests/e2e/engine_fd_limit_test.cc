// End-to-end test of wsgate-engine at its descriptor limit: the engine started under a low
// RLIMIT_NOFILE (prlimit), as an operator who forgot `LimitNOFILE=` would run it, and more
// clients than it has descriptors for. The red-team finding this guards: at EMFILE the
// multishot accept was re-armed at once and each failure logged a WARN — 3.1 million lines in
// ~6 s, 90 % of a core — while waiting clients got no answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

int ConnectTo(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(EngineFdLimit, AtTheDescriptorLimitAcceptBacksOffLogsBoundedAndAnswers503) {
  char tmpl[] = "/tmp/wsgate-e2e-fd-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::ofstream(dir + "/empty.textproto") << "version: 1 agent_id: \"e2e\"\n";
  Subprocess engine({"/usr/bin/prlimit", "--nofile=64:64", WSGATE_ENGINE, "--config", dir + "/empty.textproto",
                     "--ws-listen", "127.0.0.1:0", "--wss-listen", "", "--shards", "1", "--max-connections", "1000",
                     "--control", "unix:" + dir + "/engine.sock", "--drain-timeout-ms", "1000",
                     "--admin-listen", "127.0.0.1:0"});
  size_t at = 0;
  ASSERT_TRUE(engine.WaitForOutput("(port ", 10000, &at)) << engine.output();
  uint16_t port = static_cast<uint16_t>(std::stoi(engine.output().substr(at)));
  EXPECT_NE(engine.output().find("needs"), std::string::npos) << "no warning that --max-connections cannot fit\n"
                                                               << engine.output();

  std::vector<int> clients;
  for (int i = 0; i < 150; ++i) {
    int fd = ConnectTo(port);
    if (fd >= 0) clients.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  // Bounded logging: at most about one accept line per second (plus the count held back).
  size_t lines = engine.CountInOutput("accept: Too many open files");
  EXPECT_GE(lines, 1u) << engine.output();
  EXPECT_LE(lines, 5u) << engine.output();
  // Waiting clients are told why instead of hanging until their own timeout.
  int answered_503 = 0;
  for (int fd : clients) {
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0 && std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0)
      ++answered_503;
  }
  EXPECT_GE(answered_503, 5) << "the reserve descriptor answers one waiting client per backoff";
  for (int fd : clients) close(fd);
  // Serving again once descriptors are back: an upgrade for no API gets its HTTP answer.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int fd = ConnectTo(port);
  ASSERT_GE(fd, 0);
  std::string req = "GET /none/1.0.0 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[512];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 ", 0), 0u);
  close(fd);
  engine.Signal(SIGTERM);
  EXPECT_EQ(engine.Wait(5000), 0) << engine.output();
  std::string cmd = "rm -rf " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

}  // namespace
