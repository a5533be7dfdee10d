// File: tests/support/recording_backend.cc
#include "tests/support/recording_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "engine/ws/handshake.h"

namespace wsgate::testing {

RecordingBackend::RecordingBackend(Mode mode) : mode_(mode) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  listen(fd_, 16);
  socklen_t len = sizeof(addr);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

RecordingBackend::~RecordingBackend() {
  stop_ = true;
  thread_.join();
  for (int c : clients_) close(c);
  close(fd_);
}

void RecordingBackend::Run() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    clients_.push_back(c);
    std::string req;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (req.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd r{c, POLLIN, 0};
      if (poll(&r, 1, 50) <= 0) continue;
      ssize_t n = recv(c, buf, sizeof(buf), 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    size_t end = req.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    std::string head = req.substr(0, end + 2);
    std::string resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: " +
                       engine::ws::AcceptKey(Header(head, "sec-websocket-key")) + "\r\n\r\n";
    send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(head);
      cv_.notify_all();
    }
    if (mode_ == kDropAfterUpgrade) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      close(c);  // no close frame: the TCP connection just dies
      clients_.pop_back();
    }
  }
}

std::string RecordingBackend::WaitForRequest(size_t i, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return requests_.size() > i; });
  return requests_.size() > i ? requests_[i] : std::string();
}

std::string RecordingBackend::Header(const std::string& head, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    size_t colon = line.find(':');
    if (colon != absl::string_view::npos && absl::EqualsIgnoreCase(line.substr(0, colon), name))
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return {};
}

int RecordingBackend::HeaderCount(const std::string& head, const std::string& name) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    size_t colon = line.find(':');
    if (colon != absl::string_view::npos && absl::EqualsIgnoreCase(line.substr(0, colon), name)) ++n;
  }
  return n;
}

}  // namespace wsgate::testing
