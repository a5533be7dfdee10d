// File: tests/support/http_get.h
//
// A blocking one-shot HTTP/1.1 client for tests of the admin listeners: sends one request to
// 127.0.0.1:port, reads to EOF (bounded by a timeout), splits status, headers and body.
//
//   HttpReply r = HttpGet(port, "/metrics");
//   EXPECT_EQ(r.status, 200);
#pragma once

#include <cstdint>
#include <string>

namespace wsgate::testing {

struct HttpReply {
  int status = 0;  // 0: no answer (connect failed, timeout, garbage)
  std::string head;
  std::string body;
};

HttpReply HttpGet(uint16_t port, const std::string& target, int timeout_ms = 5000);
// Sends `raw` as is (for malformed or non-GET requests).
HttpReply HttpRaw(uint16_t port, const std::string& raw, int timeout_ms = 5000);

}  // namespace wsgate::testing
