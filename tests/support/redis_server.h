// File: tests/support/redis_server.h
//
// A real redis-server for the cluster-quota tests (issue 19): a generated config in its own
// temporary directory, an ephemeral loopback port, no persistence, stopped by PID (SIGKILL, as
// a crash would) and restartable on the same port. Tests skip when redis-server is missing:
//
//   if (RedisServer::Binary().empty()) GTEST_SKIP() << "redis-server is not installed ...";
//   RedisServer redis;
//   ASSERT_TRUE(redis.Start()) << redis.error();
//   ... redis.Kill(); ... redis.Start();   // the same port again
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/subprocess.h"

namespace wsgate::testing {

class RedisServer {
 public:
  // The redis-server program (PATH, then /usr/bin, /usr/sbin), or "" when not installed.
  static std::string Binary();

  RedisServer();
  ~RedisServer();  // kills it and removes its directory
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Before Start: the addresses it listens on besides 127.0.0.1 (space-separated), for tests whose
  // engines live in other network namespaces (tests/support/netns.h).
  void ListenAlsoOn(const std::string& addresses) { extra_bind_ = addresses; }
  // Starts it (the first call picks the port) and waits until it accepts connections.
  bool Start();
  // SIGKILL by PID and reap it.
  void Kill();
  bool running() const { return process_ != nullptr; }
  uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // It also listens on a Unix socket (unix:// + this).
  std::string socket_path() const { return dir_ + "/redis.sock"; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_, extra_bind_;
  uint16_t port_ = 0;
  std::unique_ptr<Subprocess> process_;
  std::string error_;
};

}  // namespace wsgate::testing
