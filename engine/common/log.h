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

}  // namespace wsgate::common

#define WSGATE_LOG(level, ...)                                                         \
  do {                                                                                 \
    if (::wsgate::common::LogLevel::level >= ::wsgate::common::GetLogLevel())          \
      ::wsgate::common::LogLine(::wsgate::common::LogLevel::level,                     \
                                ::absl::StrFormat(__VA_ARGS__));                       \
  } while (0)
