// File: tests/support/recording_backend.h
//
// A WebSocket backend on 127.0.0.1:0 that records every upgrade request it gets, answers 101,
// and then holds the connection (no frames) until it is destroyed: for tests of what the
// gateway sends a backend (headers, the backend JWT). With kDropAfterUpgrade it drops each TCP
// connection 100 ms after its 101 instead, with no close frame, as a crashed backend would.
//
//   RecordingBackend backend;                       // or RecordingBackend(RecordingBackend::kDropAfterUpgrade)
//   ... connect a client through the gateway to ws://127.0.0.1:<backend.port()> ...
//   std::string head = backend.WaitForRequest(0);       // "" after 5 s without one
//   std::string jwt = RecordingBackend::Header(head, "x-jwt-assertion");
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wsgate::testing {

class RecordingBackend {
 public:
  enum Mode { kHold, kDropAfterUpgrade };
  explicit RecordingBackend(Mode mode = kHold);
  ~RecordingBackend();
  RecordingBackend(const RecordingBackend&) = delete;
  RecordingBackend& operator=(const RecordingBackend&) = delete;

  uint16_t port() const { return port_; }
  // The `i`-th request head (from the request line to the blank line), waiting up to
  // `timeout_ms` for it; "" if it never came.
  std::string WaitForRequest(size_t i, int timeout_ms = 5000);
  // The value of the first header called `name` (case-insensitive) in `head`, or "".
  static std::string Header(const std::string& head, const std::string& name);
  // How many headers called `name` (case-insensitive) `head` holds.
  static int HeaderCount(const std::string& head, const std::string& name);

 private:
  void Run();
  Mode mode_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> requests_;
  std::vector<int> clients_;
  std::thread thread_;
};

}  // namespace wsgate::testing
