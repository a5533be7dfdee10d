// File: tests/support/ws_client.h
//
// A small blocking WebSocket client for tests: real sockets, explicit frames, every read bounded
// by a timeout so a test fails instead of hanging. It sends exactly the bytes a test asks for, so
// tests can also speak broken protocol on purpose.
//
//   WsClient c;
//   ASSERT_TRUE(c.Connect(port, "/rooms?room=room1"));   // handshake, expects 101
//   c.SendText("hi");
//   auto m = c.ReadMessage();                              // m->payload, m->opcode
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <sys/types.h>
#include <string>
#include <vector>

namespace wsgate::testing {

struct WsFrame {
  bool fin = true;
  uint8_t opcode = 1;
  std::string payload;
};

class WsClient {
 public:
  WsClient() = default;
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // TCP connect to 127.0.0.1:port. All later reads time out after `timeout_ms`.
  bool ConnectTcp(uint16_t port, int timeout_ms = 5000);
  // TCP connect to `ip` ("127.0.0.1", "::1"); the upgrades that follow send Host: ip:port (an
  // IPv6 address in brackets).
  bool ConnectTcpTo(const std::string& ip, uint16_t port, int timeout_ms = 5000);
  // ConnectTcp + a standard upgrade for `target`; true when the answer is 101 with the right
  // Sec-WebSocket-Accept. The response head is kept in response().
  bool Connect(uint16_t port, const std::string& target, const std::vector<std::string>& extra_headers = {},
               int timeout_ms = 5000);
  // Sends the request text and reads the response head (up to the blank line).
  bool Handshake(const std::string& request);
  const std::string& response() const { return response_; }
  // The status code of the response head, or 0.
  int status() const;

  bool SendRaw(const std::string& bytes);
  // A masked client frame.
  bool SendFrame(uint8_t opcode, const std::string& payload, bool fin = true, bool masked = true);
  bool SendText(const std::string& text) { return SendFrame(0x1, text); }
  bool SendBinary(const std::string& data) { return SendFrame(0x2, data); }
  bool SendClose(uint16_t code, const std::string& reason = "");

  // The next frame, or nullopt on timeout, EOF or a malformed frame.
  std::optional<WsFrame> ReadFrame();
  // The next data message with fragments joined (control frames other than close are skipped;
  // a close frame is returned as is).
  std::optional<WsFrame> ReadMessage();
  // True if nothing arrives within `ms` (the connection may stay open).
  bool QuietFor(int ms);
  // Reads until EOF; true if the peer closed within the timeout. Returns bytes seen in `*seen`.
  bool WaitForEof(std::string* seen = nullptr);
  void Close();
  int fd() const { return fd_; }

  // A byte transport layered over the socket (TLS: tests/support/ws_client_tls.h). Write sends
  // all bytes or fails; Read returns >0 bytes, 0 on EOF, <0 on error or timeout.
  struct Transport {
    virtual ~Transport() = default;
    virtual bool Write(const std::string& bytes) = 0;
    virtual ssize_t Read(char* buf, size_t cap, int timeout_ms) = 0;
  };
  void SetTransport(std::unique_ptr<Transport> t) { transport_ = std::move(t); }
  // Sends the upgrade request built for `target` (after ConnectTcp and any transport setup).
  bool Upgrade(uint16_t port, const std::string& target, const std::vector<std::string>& extra_headers = {});

 private:
  ssize_t ReadSome(char* buf, size_t cap, int timeout_ms);
  std::unique_ptr<Transport> transport_;
  bool ReadExact(size_t n, std::string* out);
  bool FillSome();  // waits for and buffers at least one more byte
  int fd_ = -1;
  int timeout_ms_ = 5000;
  std::string host_ = "127.0.0.1";  // for the Host header
  std::string buffered_;
  std::string response_;
  std::string key_;
};

// "code reason" decoded from a close frame's payload.
struct CloseInfo {
  uint16_t code = 0;
  std::string reason;
};
CloseInfo ParseClose(const std::string& payload);

}  // namespace wsgate::testing
