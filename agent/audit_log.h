// File: agent/audit_log.h
//
// Rate-limited WARN lines for security events (failed authentication), so an operator sees an
// attack in the log without a flood filling the disk: at most one line per `interval` for each
// RateLimitedLog; the next line that is written counts the ones suppressed since the last.
//
//   RateLimitedLog failures("admin authentication failed");
//   failures.Warn("peer ipv4:127.0.0.1:41000: wrong credential");
//   // W wsgate-agent: audit: admin authentication failed: peer ipv4:127.0.0.1:41000: wrong credential
//   // ... and after a flood: "... (37 more since the last line)"
//
// Details must never contain a secret. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/common/log.h"

namespace wsgate::agent {

class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::string what, std::chrono::milliseconds interval = std::chrono::seconds(1))
      : what_(std::move(what)), limiter_(interval.count()) {}

  // Writes the line now, or counts it when a line was written less than `interval` ago. Returns
  // whether it wrote.
  bool Warn(std::string_view detail);

 private:
  const std::string what_;
  std::mutex mu_;
  common::LogLimiter limiter_;  // the engine's limiter, guarded: admin and OAuth threads share one
};

// Only letters, digits and "._-:" of `text`, at most 64 of them: an identifier a client sent,
// safe to log.
std::string LoggableId(std::string_view text);

}  // namespace wsgate::agent
