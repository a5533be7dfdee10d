// Integration tests for IPv6 (issue 12): a dual-stack [::] listener takes IPv4 and IPv6 clients,
// repeated listeners each serve, and the upstream connect tries every address of an endpoint in
// order, each attempt bounded, so a backend reachable on one family only still connects.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "engine/server/listener.h"
#include "tests/support/engine_fixture.h"
#include "tests/support/ws_client.h"

namespace wsgate::testing {
namespace {

sockaddr_storage Address(const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  if (inet_pton(AF_INET, ip, &reinterpret_cast<sockaddr_in&>(ss).sin_addr) == 1) {
    reinterpret_cast<sockaddr_in&>(ss).sin_family = AF_INET;
    reinterpret_cast<sockaddr_in&>(ss).sin_port = htons(port);
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, ip, &reinterpret_cast<sockaddr_in6&>(ss).sin6_addr), 1) << ip;
    reinterpret_cast<sockaddr_in6&>(ss).sin6_family = AF_INET6;
    reinterpret_cast<sockaddr_in6&>(ss).sin6_port = htons(port);
  }
  return ss;
}

class DualStackTest : public EngineFixture {
 protected:
  void SetUp() override {
    if (!engine::server::HostHasIpv6()) GTEST_SKIP() << "this host has no IPv6";
    ws_listen_ = "[::]:0";
    EngineFixture::SetUp();
    // A default vhost: the clients' Host is [::1]:PORT or 127.0.0.1:PORT, whichever they used.
    v1::Snapshot s = BaseSnapshot(2);
    s.mutable_vhosts(0)->set_is_default(true);
    Apply(s);
  }
  void ExpectRelays(const std::string& ip, uint16_t port) {
    WsClient a, b;
    ASSERT_TRUE(a.ConnectTcpTo(ip, port)) << ip;
    ASSERT_TRUE(a.Upgrade(port, "/chats/1.0.0/rooms/room1", {Bearer(Token())})) << a.response();
    ExpectWelcome(a, ip, "You joined room1!");
    ASSERT_TRUE(b.ConnectTcpTo(ip, port)) << ip;
    ASSERT_TRUE(b.Upgrade(port, "/chats/1.0.0/rooms/room1", {Bearer(Token())})) << b.response();
    ExpectWelcome(b, ip, "You joined room1!");
    ASSERT_TRUE(a.SendText("over " + ip));
    auto m = b.ReadMessage();
    ASSERT_TRUE(m) << ip;
    EXPECT_EQ(m->payload, "over " + ip);
  }
};

TEST_F(DualStackTest, OneIpv6WildcardListenerServesIpv6AndIpv4Clients) {
  ExpectRelays("::1", engine_port());
  ExpectRelays("127.0.0.1", engine_port());
}

class RepeatedListenTest : public DualStackTest {
 protected:
  void SetUp() override {
    if (!engine::server::HostHasIpv6()) GTEST_SKIP() << "this host has no IPv6";
    ws_listen_ = "127.0.0.1:0,[::1]:0";
    EngineFixture::SetUp();
    v1::Snapshot s = BaseSnapshot(2);
    s.mutable_vhosts(0)->add_aliases("[::1]");
    Apply(s);
  }
};

TEST_F(RepeatedListenTest, EveryListenerServes) {
  ASSERT_EQ(engine_->ws_ports().size(), 2u);
  uint16_t v4 = engine_->ws_ports()[0], v6 = engine_->ws_ports()[1];
  EXPECT_EQ(v4, engine_port());
  ExpectRelays("127.0.0.1", v4);
  ExpectRelays("::1", v6);
  WsClient wrong_family;  // the IPv4 listener is not on ::1
  EXPECT_FALSE(wrong_family.ConnectTcpTo("::1", v4) && wrong_family.Upgrade(v4, "/chats/1.0.0/notifications", {}));
}

// An endpoint name with an IPv6 and an IPv4 address, the backend listening on IPv4 only: the
// refused ::1 is skipped. "localhost" is used through the system resolver when /etc/hosts gives
// it both families; otherwise a resolver that answers as such a /etc/hosts would.
class UpstreamFamiliesTest : public EngineFixture {
 protected:
  void SetUp() override {
    if (!engine::server::HostHasIpv6()) GTEST_SKIP() << "this host has no IPv6";
    auto system = engine::config::SystemResolver()("localhost", 1);
    bool both = false;
    if (system.ok()) {
      bool v4 = false, v6 = false;
      for (const auto& a : *system) (a.ss_family == AF_INET ? v4 : v6) = true;
      both = v4 && v6;
    }
    std::printf("localhost resolves to %s\n", both ? "::1 and 127.0.0.1 (/etc/hosts)" : "one family only: using a test resolver");
    if (!both) {
      resolver_ = [this](const std::string& host, uint16_t port) -> absl::StatusOr<std::vector<sockaddr_storage>> {
        if (auto special = Special(host, port)) return *special;
        return std::vector<sockaddr_storage>{Address("::1", port), Address("127.0.0.1", port)};
      };
    } else {
      resolver_ = [this](const std::string& host, uint16_t port) -> absl::StatusOr<std::vector<sockaddr_storage>> {
        if (auto special = Special(host, port)) return *special;
        return engine::config::SystemResolver()(host, port);
      };
    }
    EngineFixture::SetUp();
  }
  void TearDown() override {
    for (int fd : blackhole_fds_) close(fd);
    EngineFixture::TearDown();
  }
  // The test names: blackholed.test is the blackhole first, then 127.0.0.1; all-blackholed.test
  // is the blackhole twice.
  std::optional<std::vector<sockaddr_storage>> Special(const std::string& host, uint16_t port) const {
    if (host == "blackholed.test") return std::vector<sockaddr_storage>{Address("::1", blackhole_port_), Address("127.0.0.1", port)};
    if (host == "all-blackholed.test")
      return std::vector<sockaddr_storage>{Address("::1", blackhole_port_), Address("::1", blackhole_port_)};
    return std::nullopt;
  }
  // A [::1] listener whose accept queue is full: further SYNs are dropped, connects hang.
  void MakeBlackhole() {
    int l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage a = Address("::1", 0);
    ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(sockaddr_in6)), 0);
    ASSERT_EQ(listen(l, 0), 0);
    socklen_t len = sizeof(a);
    getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
    blackhole_port_ = ntohs(reinterpret_cast<sockaddr_in6&>(a).sin6_port);
    blackhole_fds_.push_back(l);
    int filler = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_EQ(connect(filler, reinterpret_cast<sockaddr*>(&a), sizeof(sockaddr_in6)), 0);
    blackhole_fds_.push_back(filler);
  }
  uint16_t blackhole_port_ = 0;
  std::vector<int> blackhole_fds_;
};

TEST_F(UpstreamFamiliesTest, ARefusedIpv6AddressFallsBackToIpv4) {
  v1::Snapshot s = BaseSnapshot(2);
  s.mutable_apis(0)->mutable_production_endpoint()->set_url("ws://localhost:" + std::to_string(backend_port()));
  Apply(s);
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << c.response();
  ExpectWelcome(c, "/chats/1.0.0/notifications", "Subscribed to notifications!");
}

TEST_F(UpstreamFamiliesTest, AnAddressThatNeverAnswersGetsOnlyItsShareOfTheTimeout) {
  MakeBlackhole();
  v1::Snapshot s = BaseSnapshot(2);
  auto* ep = s.mutable_apis(0)->mutable_production_endpoint();
  ep->set_url("ws://blackholed.test:" + std::to_string(backend_port()));
  ep->set_connect_timeout_ms(3000);
  Apply(s);
  auto start = std::chrono::steady_clock::now();
  WsClient c;
  ASSERT_TRUE(c.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())})) << c.response();
  auto took = std::chrono::steady_clock::now() - start;
  ExpectWelcome(c, "/chats/1.0.0/notifications", "Subscribed to notifications!");
  // The blackholed ::1 had half of the 3 s; 127.0.0.1 answered at once.
  EXPECT_GE(took, std::chrono::milliseconds(1300));
  EXPECT_LT(took, std::chrono::milliseconds(2800));
}

TEST_F(UpstreamFamiliesTest, WhenEveryAddressFailsTheAnswersAreUnchanged) {
  MakeBlackhole();
  v1::Snapshot s = BaseSnapshot(2);
  auto* ep = s.mutable_apis(0)->mutable_production_endpoint();
  ep->set_url("ws://localhost:1");  // ::1:1 and 127.0.0.1:1: both refused
  Apply(s);
  WsClient refused;
  EXPECT_FALSE(refused.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
  EXPECT_EQ(refused.status(), 502) << refused.response();
  EXPECT_NE(refused.response().find("cannot connect to the backend"), std::string::npos) << refused.response();

  s = BaseSnapshot(3);
  ep = s.mutable_apis(0)->mutable_production_endpoint();
  ep->set_url("ws://blackholed.test:1");  // ::1 hangs, then 127.0.0.1:1 is refused
  ep->set_connect_timeout_ms(600);
  Apply(s);
  WsClient hang_then_refused;
  EXPECT_FALSE(hang_then_refused.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
  EXPECT_EQ(hang_then_refused.status(), 502) << hang_then_refused.response();

  s = BaseSnapshot(4);
  ep = s.mutable_apis(0)->mutable_production_endpoint();
  ep->set_url("ws://all-blackholed.test:1");  // both addresses hang: 504 at the connect timeout
  ep->set_connect_timeout_ms(600);
  Apply(s);
  auto start = std::chrono::steady_clock::now();
  WsClient timed_out;
  EXPECT_FALSE(timed_out.Connect(engine_port(), "/chats/1.0.0/notifications", {Bearer(Token())}));
  EXPECT_EQ(timed_out.status(), 504) << timed_out.response();
  EXPECT_NE(timed_out.response().find("Gateway Timeout"), std::string::npos) << timed_out.response();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace wsgate::testing
