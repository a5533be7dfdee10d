// Integration test of tests/support/netns (the multi-host fixture): a process in a namespace
// sees only that namespace's network (its 127.0.0.1 is not the test's), the test reaches it at
// its inside address, it reaches the test at the outside address, and another namespace reaches
// that same address (a service shared by every simulated host). Skipped where namespaces cannot be made (not root, no ip).
#include "tests/support/netns.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/free_port.h"
#include "tests/support/subprocess.h"

namespace wsgate::testing {
namespace {

constexpr int kTimeoutMs = 10000;

// A one-line TCP server on ip:port answering "hello from NAME"; "listening" when ready.
std::vector<std::string> Server(const std::string& ip, uint16_t port, const std::string& name) {
  return {"/usr/bin/python3", "-c",
          "import socket,sys\n"
          "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8); print('listening', flush=True)\n"
          "while True:\n"
          "  c,_=s.accept(); c.sendall(('hello from '+sys.argv[3]).encode()); c.close()\n",
          ip, std::to_string(port), name};
}
// What connecting to ip:port reads ("refused"/"unreachable"/"timeout" when it cannot).
std::vector<std::string> Client(const std::string& ip, uint16_t port) {
  return {"/usr/bin/python3", "-c",
          "import socket,sys\n"
          "try:\n"
          "  c=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2); print(c.recv(100).decode())\n"
          "except ConnectionRefusedError: print('refused')\n"
          "except OSError as e: print('unreachable' if 'unreachable' in str(e) else 'timeout' if 'timed out' in str(e) else str(e))\n",
          ip, std::to_string(port)};
}

TEST(NetNamespace, EachNamespaceIsItsOwnHostReachableAtItsAddress) {
  if (std::string why; !NetNamespace::Available(&why)) GTEST_SKIP() << why;
  NetNamespace a(201), b(202);
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(a.inside_ip(), "10.231.201.2");
  EXPECT_EQ(a.outside_ip(), "10.231.201.1");
  const uint16_t port = ReserveLoopbackPort();

  Subprocess in_a(a.Wrap(Server(a.inside_ip(), port, "a")));
  ASSERT_TRUE(in_a.WaitForOutput("listening", kTimeoutMs)) << in_a.output();
  Subprocess root_loopback(Server("127.0.0.1", port, "the test's loopback"));
  ASSERT_TRUE(root_loopback.WaitForOutput("listening", kTimeoutMs)) << root_loopback.output();
  Subprocess outside(Server(a.outside_ip(), port, "the test's side"));
  ASSERT_TRUE(outside.WaitForOutput("listening", kTimeoutMs)) << outside.output();

  std::string out;
  EXPECT_EQ(RunToEnd(Client(a.inside_ip(), port), kTimeoutMs, &out), 0);
  EXPECT_EQ(out, "hello from a") << "the test reaches a at its inside address";
  EXPECT_EQ(RunToEnd(a.Wrap(Client(a.outside_ip(), port)), kTimeoutMs, &out), 0);
  EXPECT_EQ(out, "hello from the test's side") << "a reaches the test at the outside address";
  EXPECT_EQ(RunToEnd(a.Wrap(Client("127.0.0.1", port)), kTimeoutMs, &out), 0);
  EXPECT_EQ(out, "refused") << "a's loopback is its own, not the test's";
  EXPECT_EQ(RunToEnd(b.Wrap(Client(a.outside_ip(), port)), kTimeoutMs, &out), 0);
  EXPECT_EQ(out, "hello from the test's side") << "b reaches the service on the test's side at a's address too";
  EXPECT_EQ(RunToEnd(b.Wrap(Client("127.0.0.1", port)), kTimeoutMs, &out), 0);
  EXPECT_EQ(out, "refused") << "b's loopback is its own";
}

}  // namespace
}  // namespace wsgate::testing
