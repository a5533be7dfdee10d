// Unit tests for engine/common/service: the sd_notify datagram a Type=notify unit waits for
// (received here on a real Unix datagram socket, by path and in the abstract namespace), and the
// default control socket the engine and the agent agree on.
#include "engine/common/service.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace wsgate::common {
namespace {

// A bound datagram socket standing in for systemd's notify socket.
class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(const std::string& name) : name_(name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr),
                  static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) == 0;
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~FakeNotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
    if (name_[0] == '/') unlink(name_.c_str());
  }
  bool bound() const { return bound_; }
  std::string Receive() {
    char buf[256];
    ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(NotifyServiceManager, WithoutNotifySocketSendsNothingAndSucceeds) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(NotifyServiceManager("READY=1").ok());
}

TEST(NotifyServiceManager, SendsOneDatagramToAPathSocket) {
  std::string path = ::testing::TempDir() + "/notify-" + std::to_string(getpid());
  FakeNotifySocket sock(path);
  ASSERT_TRUE(sock.bound());
  ASSERT_TRUE(NotifyServiceManager("READY=1\nSTATUS=listening").ok());
  EXPECT_EQ(sock.Receive(), "READY=1\nSTATUS=listening");
}

TEST(NotifyServiceManager, SendsToAnAbstractSocket) {
  FakeNotifySocket sock("@wsgate-notify-test-" + std::to_string(getpid()));
  ASSERT_TRUE(sock.bound());
  ASSERT_TRUE(NotifyServiceManager("STOPPING=1").ok());
  EXPECT_EQ(sock.Receive(), "STOPPING=1");
}

TEST(NotifyServiceManager, NamesASocketNobodyListensOn) {
  setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
  absl::Status s = NotifyServiceManager("READY=1");
  unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("/nonexistent/notify"), absl::string_view::npos) << s;
  setenv("NOTIFY_SOCKET", "relative", 1);
  EXPECT_EQ(NotifyServiceManager("READY=1").code(), absl::StatusCode::kInvalidArgument);
  unsetenv("NOTIFY_SOCKET");
}

TEST(DefaultEngineControlTarget, FollowsWsgateRunDirThenXdgRuntimeDir) {
  setenv("WSGATE_RUN_DIR", "/run/wsgate", 1);
  EXPECT_EQ(DefaultEngineControlTarget(), "unix:/run/wsgate/engine.sock");
  unsetenv("WSGATE_RUN_DIR");
  setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
  EXPECT_EQ(DefaultEngineControlTarget(), "unix:/run/user/1000/wsgate-engine.sock");
  unsetenv("XDG_RUNTIME_DIR");
  EXPECT_EQ(DefaultEngineControlTarget(), "unix:/tmp/wsgate-" + std::to_string(getuid()) + "-engine.sock");
}

}  // namespace
}  // namespace wsgate::common
