// File: tools/chat-backend/main.cc — flags, signals, then ChatServer::Run.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "engine/common/flags.h"
#include "engine/common/log.h"
#include "tools/chat-backend/chat_server.h"

namespace {
wsgate::tools::chat::ChatServer* g_server = nullptr;
void OnSignal(int) {
  if (g_server != nullptr) g_server->Stop();
}
}  // namespace

int main(int argc, char** argv) {
  using wsgate::common::FlagParser;

  int64_t port = 8080;
  std::string bind = "0.0.0.0";
  bool strict_http = false;
  bool echo = false;
  int64_t max_payload = 100ll << 20;
  int64_t max_connections = 10000;
  FlagParser flags("chat-backend",
                   "The WSO2 tutorial's sample WebSocket chat backend, re-implemented in C++.\n"
                   "  ws://HOST:PORT/notifications          join notices for every room\n"
                   "  ws://HOST:PORT/rooms?room=room1|room2|common   chat rooms\n"
                   "Messages reach every other open client of the same room; nothing is echoed.");
  flags.AddInt("port", &port, "TCP port to listen on; 0 picks a free one", 0, 65535);
  flags.AddString("bind", &bind, "address to listen on (IPv4 or IPv6)", "ADDR");
  flags.AddBool("strict-http", &strict_http,
                "answer 404 for unknown rooms/paths and 426 for non-upgrades, instead of closing "
                "or ignoring the connection like the original");
  flags.AddBool("echo", &echo, "benchmark mode: any path, no welcome, every message echoed to its sender only");
  flags.AddInt("max-payload", &max_payload, "largest message accepted, bytes; larger closes with 1009",
               1, 1ll << 40);
  flags.AddInt("max-connections", &max_connections, "connections held at once", 1, 1000000);
  if (int exit_code = flags.ParseCommandLine(argc, argv); exit_code >= 0) return exit_code;

  wsgate::tools::chat::ServerOptions options;
  options.port = static_cast<uint16_t>(port);
  options.bind_address = bind;
  options.strict_http = strict_http;
  options.echo = echo;
  options.max_payload_bytes = static_cast<uint64_t>(max_payload);
  options.max_connections = static_cast<int>(max_connections);
  wsgate::tools::chat::ChatServer server(options);
  if (absl::Status s = server.Listen(); !s.ok()) {
    std::cerr << "chat-backend: " << s.message() << "\n";
    return 1;
  }
  g_server = &server;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // The original's two start-up lines (with the real port), on stdout.
  std::printf("Notifications on: ws://localhost:%u/notifications\n", server.port());
  std::printf("Chat rooms on: ws://localhost:%u/rooms?room={ID}\n", server.port());
  std::fflush(stdout);

  absl::Status s = server.Run();
  g_server = nullptr;
  if (!s.ok()) {
    std::cerr << "chat-backend: " << s.message() << "\n";
    return 1;
  }
  WSGATE_LOG(kInfo, "stopped");
  return 0;
}
