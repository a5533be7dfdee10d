// File: engine/common/log_format.h
//
// The line formats of engine/common/log.h's LogLine (flag --log-format on every binary,
// FlagParser::ParseCommandLine; SetLogFormat() elsewhere):
//
//   text: 2026-12-01T15:16:16.123Z WARN wsgate-agent: engine unreachable engine=unix:/run/e.sock
//   json: {"ts":"2026-12-01T15:16:16.123Z","level":"WARN","component":"wsgate-agent",
//          "msg":"engine unreachable engine=unix:/run/e.sock","engine":"unix:/run/e.sock"}
//
// In JSON every `key=value` word of the message (value: up to the next space, or "quoted" with
// \" and \\ escapes; LogValue() writes one) is also a field of its own, and a whole-number value
// is a JSON number. The keys ts, level, component and msg stay the line's own; a key seen twice
// keeps its first value. Bytes that are not UTF-8 become U+FFFD, so a line is always valid JSON.
// (A header of its own so that the many files including log.h did not change.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/common/log.h"

namespace wsgate::common {

enum class LogFormat : int { kText = 0, kJson = 1 };
void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();
// Parses "text" or "json". Returns false for anything else.
bool ParseLogFormat(std::string_view text, LogFormat* out);
// "DEBUG", "INFO", "WARN" or "ERROR".
const char* LogLevelName(LogLevel level);

// A message for the person or script running a command (wsgatectl, wsgate-bench), on stderr:
// "<tag>: MESSAGE" in text ("<tag>: warning: MESSAGE" for kWarning), a log line in JSON.
void PrintDiagnostic(LogLevel level, absl::string_view message);
// A failure that ends the process at start (a port in use, a bad --config): PrintDiagnostic's
// "<tag>: MESSAGE" in text (as a usage error reads), an ERROR line in JSON.
void StartupError(absl::string_view message);

// Pure: one formatted line, with its newline, at `unix_ms` (what LogLine writes).
std::string FormatLogLine(LogFormat format, int64_t unix_ms, LogLevel level, std::string_view component,
                          std::string_view message);
// Pure: the key=value words of a message, in order.
std::vector<std::pair<std::string, std::string>> LogFields(std::string_view message);
// A value for a key=value word: as is when it has no space, quote or backslash, else "quoted".
std::string LogValue(std::string_view value);

}  // namespace wsgate::common
