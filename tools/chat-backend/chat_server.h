// File: tools/chat-backend/chat_server.h
//
// The chat backend's network side: one epoll event loop, non-blocking sockets, the upgrade parsed
// by engine/http, frames decoded by wslay. Outgoing data frames are written from one shared copy
// of each message (header + shared payload per recipient), so fan-out of a large message to
// hundreds of clients costs no copy per recipient. Control frames wslay generates (pong, close
// echo) go through the same per-connection queue, so frames never interleave.
//
//   ChatServer server(options);
//   if (auto s = server.Listen(); !s.ok()) Die(s);
//   std::thread t([&] { server.Run(); });   // returns after Stop()
//   server.Stop();                          // async-signal-safe
//
// Owned by its creator; Run() on one thread; Stop() from any thread or a signal handler.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace wsgate::tools::chat {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  uint16_t port = 8080;           // 0: pick an ephemeral port (see ChatServer::port())
  // false (default): behave like the original Node.js sample: unknown room -> close TCP with no
  // response, unknown path -> never answered. true: answer 404 (and 426 for non-upgrades).
  bool strict_http = false;
  // Benchmark mode: accept an upgrade on any path, send no welcome, and echo every message back to
  // its sender only (the echo backend bench/compare uses).
  bool echo = false;
  uint64_t max_payload_bytes = 100ull << 20;   // ws 6.x default; larger -> close 1009
  uint64_t max_queued_bytes = 256ull << 20;    // per client; a reader further behind is dropped
  size_t max_header_bytes = 16 * 1024;
  int max_connections = 10000;
  int close_timeout_ms = 30000;                // ws 6.x: destroy if the peer never answers a close
  int shutdown_timeout_ms = 2000;              // Stop(): time to flush 1001 closes
};

struct ServerStats {
  uint64_t accepted = 0;
  uint64_t upgraded = 0;
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t active = 0;
};

class ChatServer {
 public:
  explicit ChatServer(ServerOptions options);
  ~ChatServer();
  ChatServer(const ChatServer&) = delete;
  ChatServer& operator=(const ChatServer&) = delete;

  // Binds and listens. After it succeeds, port() is the bound port.
  absl::Status Listen();
  uint16_t port() const;
  // Serves until Stop(); then sends close 1001 to every client, waits up to
  // shutdown_timeout_ms for the closes to flush, and returns.
  absl::Status Run();
  // Safe from any thread and from a signal handler.
  void Stop();
  // Snapshot of counters; only meaningful from the Run() thread or after Run() returned.
  ServerStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wsgate::tools::chat
