// Integration tests for engine/server/listener and Server's use of it (issue #11, item 11): the
// shards of one engine share their address through SO_REUSEPORT, but an address that something
// else already listens on is refused unless reuse_port (--reuse-port) says to share it.
#include "engine/server/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/server/server.h"
#include "tests/support/ws_client.h"

namespace wsgate::engine::server {
namespace {

sockaddr_storage Loopback(uint16_t port, socklen_t* len) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  v4->sin_family = AF_INET;
  v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  v4->sin_port = htons(port);
  *len = sizeof(sockaddr_in);
  return ss;
}

ServerOptions Options(const std::string& listen, bool reuse_port = false) {
  ServerOptions so;
  so.ws_listen = listen;
  so.shards = 2;
  so.buffer_count = 64;
  so.reuse_port = reuse_port;
  return so;
}

TEST(BindListener, ShardsOfOneEngineShareTheAddress) {
  socklen_t len;
  sockaddr_storage any = Loopback(0, &len);
  uint16_t port = 0;
  auto first = BindListener(any, len, &port);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_NE(port, 0);
  sockaddr_storage same = Loopback(port, &len);
  uint16_t again = 0;
  auto second = BindListener(same, len, &again);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(again, port);
  // ... but the address is no longer free for anyone else.
  absl::Status busy = CheckAddressFree(same, len, "--ws-listen 127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(busy.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(busy.message().find("--ws-listen 127.0.0.1:" + std::to_string(port)), std::string::npos) << busy;
  EXPECT_NE(busy.message().find("--reuse-port"), std::string::npos) << busy;
  close(*first);
  close(*second);
  EXPECT_TRUE(CheckAddressFree(same, len, "x").ok());
  EXPECT_TRUE(CheckAddressFree(any, len, "x").ok());  // port 0 is never shared
}

TEST(BindListener, ConnectionsLeftInTimeWaitDoNotCount) {
  socklen_t len;
  sockaddr_storage any = Loopback(0, &len);
  uint16_t port = 0;
  auto fd = BindListener(any, len, &port);
  ASSERT_TRUE(fd.ok());
  // One accepted connection closed by the server side first: TIME_WAIT on the listener's port.
  int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_storage addr = Loopback(port, &len);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), len), 0);
  int accepted = accept(*fd, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  close(accepted);
  usleep(50000);
  close(client);
  close(*fd);
  EXPECT_TRUE(CheckAddressFree(addr, len, "x").ok());
}

// A second engine on the same port used to start and take half of the new connections.
TEST(ServerListen, ASecondEngineOnTheSamePortIsRefusedUnlessReusePort) {
  auto first = std::make_unique<Server>(Options("127.0.0.1:0"));
  ASSERT_TRUE(first->Start().ok());
  uint16_t port = first->port();
  std::string taken = "127.0.0.1:" + std::to_string(port);
  {
    Server second(Options(taken));
    absl::Status s = second.Start();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(s.message().find("--ws-listen " + taken + ": the address is already in use"), std::string::npos) << s;
    EXPECT_NE(s.message().find("start with --reuse-port"), std::string::npos) << s;
  }
  // The first engine still gets every connection (it answers 503: no config).
  wsgate::testing::WsClient c;
  EXPECT_FALSE(c.Connect(port, "/x"));
  EXPECT_EQ(c.status(), 503);
  {
    Server sharing(Options(taken, /*reuse_port=*/true));
    EXPECT_TRUE(sharing.Start().ok());
    EXPECT_EQ(sharing.port(), port);
  }
  first.reset();  // drains, and closes its listeners
  // Once the first engine is gone the port is free again, without --reuse-port.
  Server next(Options(taken));
  absl::Status again = next.Start();
  EXPECT_TRUE(again.ok()) << again;
}

TEST(ServerListen, AnotherProgramOnTheWssPortIsNamed) {
  socklen_t len;
  sockaddr_storage any = Loopback(0, &len);
  int other = socket(AF_INET, SOCK_STREAM, 0);  // a plain listener, no SO_REUSEPORT
  ASSERT_EQ(bind(other, reinterpret_cast<sockaddr*>(&any), len), 0);
  ASSERT_EQ(listen(other, 1), 0);
  getsockname(other, reinterpret_cast<sockaddr*>(&any), &len);
  std::string taken = "127.0.0.1:" + std::to_string(ntohs(reinterpret_cast<sockaddr_in*>(&any)->sin_port));
  ServerOptions so = Options("127.0.0.1:0");
  so.wss_listen = taken;
  Server s(so);
  absl::Status st = s.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("--wss-listen " + taken), std::string::npos) << st;
  close(other);
}

// Issue 12: [::] is dual-stack; a list of addresses binds each; a bad entry names its flag.
TEST(ServerListen, TheIpv6WildcardTakesIpv4AndIpv6Clients) {
  if (!HostHasIpv6()) GTEST_SKIP() << "this host has no IPv6";
  Server s(Options("[::]:0"));
  ASSERT_TRUE(s.Start().ok());
  for (const char* ip : {"::1", "127.0.0.1"}) {
    wsgate::testing::WsClient c;
    ASSERT_TRUE(c.ConnectTcpTo(ip, s.port())) << ip;
    EXPECT_FALSE(c.Upgrade(s.port(), "/x"));
    EXPECT_EQ(c.status(), 503) << ip;  // served (no config yet), not refused
  }
  // An IPv4 listener on the same port now counts as taken for [::] (the probe is dual-stack too).
  std::string taken = "0.0.0.0:" + std::to_string(s.port());
  Server v4(Options(taken));
  EXPECT_EQ(v4.Start().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ServerListen, WithoutIpv6TheWildcardBecomesIpv4) {
  ServerOptions so = Options("[::]:0");
  so.host_has_ipv6 = [] { return false; };  // as on a host without IPv6
  Server s(so);
  ASSERT_TRUE(s.Start().ok());
  wsgate::testing::WsClient v4;
  ASSERT_TRUE(v4.ConnectTcpTo("127.0.0.1", s.port()));
  EXPECT_FALSE(v4.Upgrade(s.port(), "/x"));
  EXPECT_EQ(v4.status(), 503);  // served
  if (HostHasIpv6()) {
    wsgate::testing::WsClient v6;  // the listener is 0.0.0.0: nothing on ::1
    EXPECT_FALSE(v6.ConnectTcpTo("::1", s.port()));
  }
}

TEST(ServerListen, EveryAddressOfTheListGetsAListenerOnEveryShard) {
  if (!HostHasIpv6()) GTEST_SKIP() << "this host has no IPv6";
  ServerOptions so = Options("127.0.0.1:0, [::1]:0");
  so.shards = 3;
  Server s(so);
  ASSERT_TRUE(s.Start().ok());
  ASSERT_EQ(s.ws_ports().size(), 2u);
  EXPECT_EQ(s.ws_ports()[0], s.port());
  EXPECT_TRUE(s.wss_ports().empty());
  for (int i = 0; i < 6; ++i) {  // the kernel spreads them over the three shards
    wsgate::testing::WsClient a, b;
    ASSERT_TRUE(a.ConnectTcpTo("127.0.0.1", s.ws_ports()[0]));
    ASSERT_TRUE(b.ConnectTcpTo("::1", s.ws_ports()[1]));
    EXPECT_FALSE(a.Upgrade(s.ws_ports()[0], "/x"));
    EXPECT_FALSE(b.Upgrade(s.ws_ports()[1], "/x"));
    EXPECT_EQ(a.status(), 503);
    EXPECT_EQ(b.status(), 503);
  }
}

TEST(ServerListen, ABadEntryInTheListNamesItsFlag) {
  Server s(Options("127.0.0.1:0,nonsense"));
  absl::Status st = s.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "--ws-listen: 'nonsense' needs ADDR:PORT");
  ServerOptions so = Options("127.0.0.1:0");
  so.wss_listen = "[::1]:99999";
  Server w(so);
  EXPECT_EQ(w.Start().message(), "--wss-listen: '[::1]:99999' has a bad port");
  Server none(Options(""));
  EXPECT_EQ(none.Start().message(), "--ws-listen: needs at least one ADDR:PORT");
}

}  // namespace
}  // namespace wsgate::engine::server
