// File: tests/support/ws_client_tls.cc
#include "tests/support/ws_client_tls.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>

#include "engine/tls/tls.h"

namespace wsgate::testing {
namespace {

class TlsTransport : public WsClient::Transport {
 public:
  TlsTransport(int fd, std::unique_ptr<engine::tls::TlsSession> session, std::shared_ptr<engine::tls::ClientTlsContext> ctx,
               TlsClientOptions options)
      : fd_(fd), session_(std::move(session)), ctx_(std::move(ctx)), options_(std::move(options)) {}

  bool Flush() {
    std::string out;
    session_->TakeOutput(&out);
    for (size_t off = 0; off < out.size();) {
      size_t n = std::min(options_.send_chunk, out.size() - off);
      ssize_t sent = ::send(fd_, out.data() + off, n, MSG_NOSIGNAL);
      if (sent <= 0) return false;
      off += static_cast<size_t>(sent);
    }
    return true;
  }

  bool Handshake(std::string* error) {
    session_->Connect();
    for (int i = 0; i < 100 && !session_->handshake_done(); ++i) {
      if (!Flush()) break;
      char buf[16384];
      ssize_t r = RecvCipher(buf, sizeof(buf), 5000);
      if (r <= 0) break;
      session_->Feed(reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(r));
      uint8_t plain[1];
      size_t n;
      if (session_->Read(plain, 0, &n) == engine::tls::TlsSession::kError) break;
    }
    Flush();
    if (!session_->handshake_done()) *error = session_->error().empty() ? "handshake did not finish" : session_->error();
    return session_->handshake_done();
  }

  bool Write(const std::string& bytes) override {
    for (size_t off = 0; off < bytes.size(); off += options_.record_chunk) {
      size_t n = std::min(options_.record_chunk, bytes.size() - off);
      if (!session_->Write(reinterpret_cast<const uint8_t*>(bytes.data()) + off, n)) return false;
      if (!Flush()) return false;
    }
    return true;
  }

  ssize_t Read(char* buf, size_t cap, int timeout_ms) override {
    while (true) {
      size_t n = 0;
      auto r = session_->Read(reinterpret_cast<uint8_t*>(buf), cap, &n);
      if (r == engine::tls::TlsSession::kData) return static_cast<ssize_t>(n);
      if (r == engine::tls::TlsSession::kClosed) return 0;
      if (r == engine::tls::TlsSession::kError) return -1;
      Flush();
      char cipher[16384];
      ssize_t got = RecvCipher(cipher, sizeof(cipher), timeout_ms);
      if (got <= 0) return got;
      session_->Feed(reinterpret_cast<const uint8_t*>(cipher), static_cast<size_t>(got));
    }
  }

 private:
  ssize_t RecvCipher(char* buf, size_t cap, int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return -1;
    ssize_t r = ::recv(fd_, buf, cap, 0);
    if (r < 0 && errno == ECONNRESET) return 0;
    return r;
  }

  int fd_;
  std::unique_ptr<engine::tls::TlsSession> session_;
  std::shared_ptr<engine::tls::ClientTlsContext> ctx_;
  TlsClientOptions options_;
};

}  // namespace

bool StartTls(WsClient& c, const TlsClientOptions& options, std::string* error) {
  std::shared_ptr<engine::tls::ClientTlsContext> shared = options.context;
  if (!shared) {
    auto ctx = engine::tls::ClientTlsContext::Create(options.ca_file, options.ca_file.empty());
    if (!ctx.ok()) {
      *error = std::string(ctx.status().message());
      return false;
    }
    shared = *std::move(ctx);
  }
  auto session = std::make_unique<engine::tls::TlsSession>(shared->NewSsl(options.server_name), false);
  engine::tls::TlsSession* raw = session.get();
  auto transport = std::make_unique<TlsTransport>(c.fd(), std::move(session), shared, options);
  if (!transport->Handshake(error)) return false;
  if (options.resumed) *options.resumed = raw->resumed();
  c.SetTransport(std::move(transport));
  return true;
}

}  // namespace wsgate::testing
