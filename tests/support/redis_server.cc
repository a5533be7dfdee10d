// File: tests/support/redis_server.cc
#include "tests/support/redis_server.h"

#include <signal.h>

#include <fstream>

#include "tests/support/free_port.h"
#include "tests/support/local_server.h"

namespace wsgate::testing {

std::string RedisServer::Binary() { return FindProgram("redis-server", {"/usr/bin/redis-server", "/usr/sbin/redis-server"}); }

RedisServer::RedisServer() : dir_(MakeTempDir("wsgate-redis-")) {}

RedisServer::~RedisServer() {
  Kill();
  RemoveTree(dir_);
}

bool RedisServer::Start() {
  if (process_) return true;
  if (dir_.empty()) {
    error_ = "cannot create a temporary directory";
    return false;
  }
  // The first start picks a port (again if another process took it meanwhile); a restart keeps
  // it, since the engines point there.
  const bool first = port_ == 0;
  for (int attempt = 0; attempt < (first ? 5 : 1); ++attempt) {
    if (first) port_ = ReserveLoopbackPort();
    const std::string conf = dir_ + "/redis.conf";
    {
      std::ofstream f(conf);
      f << "bind 127.0.0.1" << (extra_bind_.empty() ? "" : " " + extra_bind_) << "\nport " << port_ << "\ndir " << dir_
        << "\nsave \"\"\nappendonly no\nprotected-mode no\ndaemonize no\nlogfile \"\"\nunixsocket " << socket_path()
        << "\nunixsocketperm 700\n";
    }
    process_ = std::make_unique<Subprocess>(std::vector<std::string>{Binary(), conf});
    if (process_->started() && process_->WaitForOutput("Ready to accept connections", 10000)) return true;
    error_ = "redis-server did not start: " + process_->output();
    Kill();
    if (error_.find("Address already in use") == std::string::npos) return false;
  }
  return false;
}

void RedisServer::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->Wait(5000);
  process_.reset();
}

}  // namespace wsgate::testing
