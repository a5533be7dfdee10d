// File: tests/support/free_port.cc
#include "tests/support/free_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

namespace wsgate::testing {
namespace {

// The first port of the kernel's ephemeral range (32768 when it cannot be read).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  if (in >> low >> high && low > 0) return low;
  return 32768;
}

bool Bindable(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

uint16_t ReserveLoopbackPort() {
  const int high = EphemeralLow() - 1;
  const int low = high > 12000 ? 10000 : 1024;
  const std::string dir = "/tmp/wsgate-test-ports";
  ::mkdir(dir.c_str(), 01777);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 2000; ++attempt) {
    const uint16_t port = static_cast<uint16_t>(pick(rng));
    const std::string lock = dir + "/" + std::to_string(port);
    int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !Bindable(port)) {
      ::close(fd);
      continue;
    }
    return port;  // the lock fd stays open (and locked) until this process exits
  }
  std::fprintf(stderr, "ReserveLoopbackPort: no free port in %d-%d after 2000 tries\n", low, high);
  std::abort();
}

}  // namespace wsgate::testing
