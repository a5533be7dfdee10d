// File: tests/support/netns.h
//
// A network namespace for multi-host end-to-end tests (issue 19: "each pair in its own network
// namespace, veth pair, addresses the test assigns"): a namespace with its own loopback and a veth
// pair to the test's namespace, 10.231.N.1 on the test's side and 10.231.N.2 inside, and a
// default route through the test's side. A process started through Wrap() sees only its
// namespace's addresses (its 127.0.0.1 is its own), the test reaches it at 10.231.N.2, and it
// reaches every address of the test's namespace, so PostgreSQL, Redis or a backend listening on
// 10.231.1.1 serve every namespace at that one address, as shared services on a network do. Unix
// sockets and files are shared (a namespace isolates only the network).
//
//   if (std::string why; !NetNamespace::Available(&why)) GTEST_SKIP() << why;
//   NetNamespace a(1);
//   Subprocess engine(a.Wrap({WSGATE_ENGINE, "--ws-listen", a.inside_ip() + ":9099", ...}));
//
// Needs root (CAP_NET_ADMIN) and iproute2's `ip`; the namespace and its veth are deleted in the
// destructor (and one left by a crashed run with the same name is replaced).
#pragma once

#include <string>
#include <vector>

namespace wsgate::testing {

class NetNamespace {
 public:
  // Whether namespaces can be made here; *why says what is missing when not.
  static bool Available(std::string* why);
  // Namespace `index` (1..250) of this test process: "wsgt<pid>n<index>".
  explicit NetNamespace(int index);
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }  // the failing `ip` command and its output
  const std::string& name() const { return name_; }
  const std::string& inside_ip() const { return inside_; }    // 10.231.N.2, this namespace's address
  const std::string& outside_ip() const { return outside_; }  // 10.231.N.1, the test's side of the veth
  // argv run inside the namespace (`ip netns exec NAME argv...`, which execs argv: the process's
  // PID is argv's).
  std::vector<std::string> Wrap(std::vector<std::string> argv) const;

 private:
  bool Ip(const std::vector<std::string>& args);
  std::string name_, veth_, inside_, outside_, error_;
};

}  // namespace wsgate::testing
