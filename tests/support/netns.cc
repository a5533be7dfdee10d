// File: tests/support/netns.cc
#include "tests/support/netns.h"

#include <unistd.h>

#include "tests/support/subprocess.h"

namespace wsgate::testing {
namespace {

constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kIpAlt = "/sbin/ip";

const char* IpBinary() { return ::access(kIp, X_OK) == 0 ? kIp : kIpAlt; }

}  // namespace

bool NetNamespace::Available(std::string* why) {
  if (::geteuid() != 0) {
    *why = "network namespaces need root (CAP_NET_ADMIN); run the test as root";
    return false;
  }
  if (::access(IpBinary(), X_OK) != 0) {
    *why = "iproute2's ip is not installed (tools/setup.sh installs it)";
    return false;
  }
  std::string probe = "wsgt" + std::to_string(::getpid()) + "probe", out;
  if (RunToEnd({IpBinary(), "netns", "add", probe}, 5000, &out) != 0) {
    *why = "ip netns add failed (a container without CAP_SYS_ADMIN?): " + out;
    return false;
  }
  RunToEnd({IpBinary(), "netns", "del", probe}, 5000, &out);
  return true;
}

NetNamespace::NetNamespace(int index)
    : name_("wsgt" + std::to_string(::getpid()) + "n" + std::to_string(index)),
      veth_("wsv" + std::to_string(::getpid() % 100000) + "n" + std::to_string(index)),
      inside_("10.231." + std::to_string(index) + ".2"),
      outside_("10.231." + std::to_string(index) + ".1") {
  std::string ignored;
  RunToEnd({IpBinary(), "netns", "del", name_}, 5000, &ignored);  // a leftover of a crashed run
  RunToEnd({IpBinary(), "link", "del", veth_}, 5000, &ignored);
  const std::string peer = veth_ + "p";
  (void)(Ip({"netns", "add", name_}) && Ip({"-n", name_, "link", "set", "lo", "up"}) &&
         Ip({"link", "add", veth_, "type", "veth", "peer", "name", peer}) &&
         Ip({"link", "set", peer, "netns", name_}) && Ip({"addr", "add", outside_ + "/24", "dev", veth_}) &&
         Ip({"link", "set", veth_, "up"}) && Ip({"-n", name_, "addr", "add", inside_ + "/24", "dev", peer}) &&
         Ip({"-n", name_, "link", "set", peer, "up"}) && Ip({"-n", name_, "route", "add", "default", "via", outside_}));
}

NetNamespace::~NetNamespace() {
  std::string ignored;
  RunToEnd({IpBinary(), "link", "del", veth_}, 5000, &ignored);  // deletes the peer too
  RunToEnd({IpBinary(), "netns", "del", name_}, 5000, &ignored);
}

bool NetNamespace::Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {IpBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  if (RunToEnd(argv, 5000, &out) == 0) return true;
  error_ = "ip";
  for (const auto& a : args) error_ += " " + a;
  error_ += ": " + out;
  return false;
}

std::vector<std::string> NetNamespace::Wrap(std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {IpBinary(), "netns", "exec", name_});
  return argv;
}

}  // namespace wsgate::testing
