// File: bench/relay_probe.cc — a deliberately simple closed-loop probe for profiling the relay:
// two clients join the same chat room through the gateway; A sends N messages of S bytes, each
// sent only after B received the previous one. Used to count instructions (callgrind) and
// syscalls (strace -c) per relayed message, where a fixed, repeatable amount of work matters more
// than load. Throughput comparisons use the load generator, not this.
//
//   relay_probe --port 9099 --path /chats/1.0.0/rooms/room1 --token T --messages 20000 --size 64
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "engine/common/flags.h"
#include "tests/support/ws_client.h"

int main(int argc, char** argv) {
  int64_t port = 9099, messages = 10000, size = 64;
  std::string path = "/chats/1.0.0/rooms/room1", token;
  wsgate::common::FlagParser flags("relay_probe", "Closed-loop relay probe: A sends, B receives, one message in flight.");
  flags.AddInt("port", &port, "gateway port on 127.0.0.1", 1, 65535);
  flags.AddString("path", &path, "room path (both clients join it)", "PATH");
  flags.AddString("token", &token, "access token (Authorization: Bearer)", "TOKEN");
  flags.AddInt("messages", &messages, "messages to send", 0, 100000000);
  flags.AddInt("size", &size, "payload bytes", 0, 1 << 24);
  if (int exit_code = flags.ParseCommandLine(argc, argv); exit_code >= 0) return exit_code;
  std::vector<std::string> headers;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  wsgate::testing::WsClient a, b;
  if (!a.Connect(static_cast<uint16_t>(port), path, headers) || !b.Connect(static_cast<uint16_t>(port), path, headers)) {
    std::cerr << "relay_probe: handshake failed: " << a.response() << b.response() << "\n";
    return 1;
  }
  a.ReadMessage();  // the welcome messages
  b.ReadMessage();
  std::string payload(static_cast<size_t>(size), 'x');
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < messages; ++i) {
    if (!a.SendText(payload)) return 1;
    auto m = b.ReadMessage();
    if (!m || m->payload.size() != payload.size()) {
      std::cerr << "relay_probe: message " << i << " lost\n";
      return 1;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%lld messages of %lld bytes in %.3f s (%.0f msg/s, one in flight)\n", static_cast<long long>(messages),
              static_cast<long long>(size), seconds, messages / (seconds > 0 ? seconds : 1));
  return 0;
}
