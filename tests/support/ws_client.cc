// File: tests/support/ws_client.cc
#include "tests/support/ws_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "engine/ws/frame.h"
#include "engine/common/base64.h"
#include "engine/ws/handshake.h"

namespace wsgate::testing {

WsClient::~WsClient() { Close(); }

void WsClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool WsClient::ConnectTcp(uint16_t port, int timeout_ms) { return ConnectTcpTo("127.0.0.1", port, timeout_ms); }

bool WsClient::ConnectTcpTo(const std::string& ip, uint16_t port, int timeout_ms) {
  timeout_ms_ = timeout_ms;
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    host_ = ip;
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    host_ = "[" + ip + "]";
  } else {
    return false;
  }
  fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) return false;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return true;
}

bool WsClient::Connect(uint16_t port, const std::string& target, const std::vector<std::string>& extra_headers,
                       int timeout_ms) {
  if (!ConnectTcp(port, timeout_ms)) return false;
  return Upgrade(port, target, extra_headers);
}

bool WsClient::Upgrade(uint16_t port, const std::string& target, const std::vector<std::string>& extra_headers) {
  uint8_t nonce[16];
  std::random_device rd;
  for (auto& b : nonce) b = static_cast<uint8_t>(rd());
  key_ = common::Base64Encode(nonce, sizeof(nonce));
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port) +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key_ +
                    "\r\nSec-WebSocket-Version: 13\r\n";
  for (const auto& h : extra_headers) req += h + "\r\n";
  req += "\r\n";
  if (!Handshake(req)) return false;
  return status() == 101 &&
         response_.find("Sec-WebSocket-Accept: " + engine::ws::AcceptKey(key_) + "\r\n") != std::string::npos;
}

bool WsClient::Handshake(const std::string& request) {
  if (!SendRaw(request)) return false;
  while (true) {
    size_t end = buffered_.find("\r\n\r\n");
    if (end != std::string::npos) {
      response_ = buffered_.substr(0, end + 4);
      buffered_.erase(0, end + 4);
      // A non-101 answer carries its body (Content-Length) too; keep it in response_.
      size_t cl = response_.find("Content-Length: ");
      if (status() != 101 && cl != std::string::npos) {
        size_t len = std::stoul(response_.substr(cl + 16));
        std::string body;
        if (!ReadExact(len, &body)) return false;
        response_ += body;
      }
      return true;
    }
    if (!FillSome()) return false;
  }
}

ssize_t WsClient::ReadSome(char* buf, size_t cap, int timeout_ms) {
  if (transport_) return transport_->Read(buf, cap, timeout_ms);
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return -1;
  ssize_t r = ::recv(fd_, buf, cap, 0);
  if (r < 0 && errno == ECONNRESET) return 0;
  return r;
}

bool WsClient::FillSome() {
  char buf[65536];
  ssize_t r = ReadSome(buf, sizeof(buf), timeout_ms_);
  if (r <= 0) return false;
  buffered_.append(buf, static_cast<size_t>(r));
  return true;
}

int WsClient::status() const {
  if (response_.size() < 12 || response_.compare(0, 9, "HTTP/1.1 ") != 0) return 0;
  return std::atoi(response_.c_str() + 9);
}

bool WsClient::SendRaw(const std::string& bytes) {
  if (transport_) return transport_->Write(bytes);
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool WsClient::SendFrame(uint8_t opcode, const std::string& payload, bool fin, bool masked) {
  static const uint8_t kMask[4] = {0x12, 0x34, 0x56, 0x78};
  std::string f = engine::ws::EncodeFrame(opcode, payload, masked ? kMask : nullptr);
  if (!fin) f[0] = static_cast<char>(f[0] & 0x7F);  // tests send fragments (and broken frames) on purpose
  return SendRaw(f);
}

bool WsClient::SendClose(uint16_t code, const std::string& reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code));
  return SendFrame(0x8, p + reason);
}

bool WsClient::ReadExact(size_t n, std::string* out) {
  while (buffered_.size() < n)
    if (!FillSome()) return false;
  out->assign(buffered_, 0, n);
  buffered_.erase(0, n);
  return true;
}

std::optional<WsFrame> WsClient::ReadFrame() {
  std::string h;
  if (!ReadExact(2, &h)) return std::nullopt;
  WsFrame f;
  f.fin = (h[0] & 0x80) != 0;
  f.opcode = h[0] & 0x0F;
  bool masked = (h[1] & 0x80) != 0;
  uint64_t len = h[1] & 0x7F;
  std::string ext;
  if (len == 126) {
    if (!ReadExact(2, &ext)) return std::nullopt;
    len = (uint64_t{static_cast<uint8_t>(ext[0])} << 8) | static_cast<uint8_t>(ext[1]);
  } else if (len == 127) {
    if (!ReadExact(8, &ext)) return std::nullopt;
    len = 0;
    for (char c : ext) len = (len << 8) | static_cast<uint8_t>(c);
  }
  std::string mask;
  if (masked && !ReadExact(4, &mask)) return std::nullopt;
  if (!ReadExact(len, &f.payload)) return std::nullopt;
  if (masked)
    for (size_t i = 0; i < f.payload.size(); ++i) f.payload[i] = static_cast<char>(f.payload[i] ^ mask[i & 3]);
  return f;
}

std::optional<WsFrame> WsClient::ReadMessage() {
  std::optional<WsFrame> msg;
  while (true) {
    auto f = ReadFrame();
    if (!f) return std::nullopt;
    if (f->opcode == 0x8) return f;
    if (f->opcode == 0x9 || f->opcode == 0xA) continue;
    if (!msg) {
      msg = std::move(f);
    } else {
      msg->payload += f->payload;
      msg->fin = f->fin;
    }
    if (msg->fin) return msg;
  }
}

bool WsClient::QuietFor(int ms) {
  if (!buffered_.empty()) return false;
  char buf[65536];
  ssize_t r = ReadSome(buf, sizeof(buf), ms);
  if (r > 0) buffered_.append(buf, static_cast<size_t>(r));
  return r < 0;
}

bool WsClient::WaitForEof(std::string* seen) {
  while (true) {
    char buf[65536];
    ssize_t r = ReadSome(buf, sizeof(buf), timeout_ms_);
    if (r == 0) {
      if (seen) *seen = buffered_;
      return true;
    }
    if (r < 0) return false;
    buffered_.append(buf, static_cast<size_t>(r));
  }
}

CloseInfo ParseClose(const std::string& payload) {
  CloseInfo c;
  if (payload.size() >= 2) {
    c.code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]));
    c.reason = payload.substr(2);
  }
  return c;
}

}  // namespace wsgate::testing
