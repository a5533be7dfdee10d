// File: engine/common/log.h
//
// Minimal leveled logging to stderr for all wsgate processes (Abseil 20220623 has no absl/log).
// One line per call, written with a single write(2) so lines from different threads never
// interleave. Formatting is absl::StrFormat:
//
//   WSGATE_LOG(kInfo, "listening on %s", addr);
//
// The threshold is process-wide; set it once at startup with SetLogLevel() (flag --log-level).
#pragma once

#include <string_view>

#include "absl/strings/str_format.h"

namespace wsgate::common {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug", "info", "warning" or "error". Returns false for anything else.
bool ParseLogLevel(std::string_view text, LogLevel* out);
// Prefixes every line with this process name, e.g. "chat-backend".
void SetLogTag(std::string_view tag);
void LogLine(LogLevel level, std::string_view message);

// At most one line per interval for a message that can repeat without bound (accept errors
// under a connect storm, refused connections): Allow() says whether to log now, and how many
// were held back since the last line that was.
//
//   if (uint64_t held; limiter.Allow(now_ms, &held)) WSGATE_LOG(kWarning, "... (%d more)", held);
//
// Not thread-safe: one per thread, or guard it.
class LogLimiter {
 public:
  explicit LogLimiter(int64_t interval_ms = 1000) : interval_ms_(interval_ms) {}
  bool Allow(int64_t now_ms, uint64_t* held_back) {
    if (logged_ && now_ms - last_ms_ < interval_ms_) {
      ++held_;
      return false;
    }
    logged_ = true;
    last_ms_ = now_ms;
    *held_back = held_;
    held_ = 0;
    return true;
  }

 private:
  int64_t interval_ms_;
  int64_t last_ms_ = 0;
  bool logged_ = false;
  uint64_t held_ = 0;
};

}  // namespace wsgate::common

#define WSGATE_LOG(level, ...)                                                         \
  do {                                                                                 \
    if (::wsgate::common::LogLevel::level >= ::wsgate::common::GetLogLevel())          \
      ::wsgate::common::LogLine(::wsgate::common::LogLevel::level,                     \
                                ::absl::StrFormat(__VA_ARGS__));                       \
  } while (0)
