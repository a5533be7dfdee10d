// File: engine/admin/admin_server.h
//
// The engine's admin HTTP listener (--admin-listen, default 127.0.0.1:9102): /metrics,
// /healthz, /readyz, /config_dump (routes in admin_routes.h). One thread of its own, never a
// shard thread; it serves one connection at a time, each bounded in size (the request head,
// max_request_bytes) and time (deadline_ms from accept to the last byte of the answer), one
// request per connection (Connection: close). Answers are HTTP/1.1 with a text body for
// every error (400/404/405/414/431/505).
//
// Why not cpp-httplib: Debian's libcpp-httplib-dev ships httplib.h as declarations only (the
// "split" build, 64 KB); the implementation is in libcpp-httplib.so, which links libssl.so.3 and
// libcrypto.so.3 (its .pc adds -DCPPHTTPLIB_OPENSSL_SUPPORT). The engine must not load OpenSSL
// next to BoringSSL (DESIGN.md), so this is a small blocking server over engine/http's bounded
// RequestParser, which the upgrade path already fuzzes.
//
//   AdminServer admin({.listen = "127.0.0.1:9102"}, handler);
//   WSGATE_RETURN_IF_ERROR(admin.Start());   // binds now: an error names --admin-listen
//   ...; admin.Stop();
//
// Thread-safe: Start/Stop from the owner; the handler runs on the admin thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"

namespace wsgate::engine::admin {

struct AdminRequest {
  std::string method;
  std::string path;  // without the query
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string extra_headers;  // each "Name: value\r\n"
};

struct AdminOptions {
  std::string listen = "127.0.0.1:9102";
  // A non-loopback address is refused unless this is set (--admin-listen-any): /config_dump
  // shows the whole config and /metrics every API's name.
  bool allow_any = false;
  int deadline_ms = 5000;
  size_t max_request_bytes = 8192;
};

// INVALID_ARGUMENT (naming --admin-listen) for an address that is not loopback without allow_any.
absl::Status CheckAdminAddress(std::string_view listen, bool allow_any);

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;
  AdminServer(AdminOptions options, Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Checks the address, binds and listens (errors name --admin-listen), starts the thread.
  absl::Status Start();
  uint16_t port() const { return port_; }
  void Stop();

 private:
  void Run();
  void Serve(int fd);

  AdminOptions options_;
  Handler handler_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: Stop() wakes the poll
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace wsgate::engine::admin
