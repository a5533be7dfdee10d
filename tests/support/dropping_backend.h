// File: tests/support/dropping_backend.h — a backend that completes one WebSocket handshake,
// remembers the upgrade request it got (what the engine forwarded), and then drops the TCP
// connection, as a crashed backend would. Header-only; one connection per instance.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "engine/ws/handshake.h"

namespace wsgate::testing {

class DroppingBackend {
 public:
  DroppingBackend() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 4);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int c = accept(fd_, nullptr, nullptr);
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        request_ = req;
      }
      size_t k = req.find("Sec-WebSocket-Key: ");
      std::string key = req.substr(k + 19, req.find("\r\n", k) - k - 19);
      std::string resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: " + engine::ws::AcceptKey(key) + "\r\n\r\n";
      send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      close(c);  // no close frame: the TCP connection just dies
    });
  }
  ~DroppingBackend() {
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  std::string request() {
    std::lock_guard<std::mutex> lock(mu_);
    return request_;
  }

 private:
  std::mutex mu_;
  std::string request_;
  int fd_;
  uint16_t port_;
  std::thread thread_;
};

}  // namespace wsgate::testing
