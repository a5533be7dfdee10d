// File: tests/support/redis_server.cc
#include "tests/support/redis_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/free_port.h"

namespace wsgate::testing {

std::string RedisServer::Binary() {
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      std::string candidate = p.substr(start, end - start) + "/redis-server";
      if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
  }
  for (const char* c : {"/usr/bin/redis-server", "/usr/sbin/redis-server"})
    if (::access(c, X_OK) == 0) return c;
  return "";
}

RedisServer::RedisServer() {
  char tmpl[] = "/tmp/wsgate-redis-XXXXXX";
  if (const char* d = ::mkdtemp(tmpl)) dir_ = d;
}

RedisServer::~RedisServer() {
  Kill();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
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
      f << "bind 127.0.0.1\nport " << port_ << "\ndir " << dir_
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
