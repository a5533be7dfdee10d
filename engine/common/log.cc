// File: engine/common/log.cc
#include "engine/common/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <string>

namespace wsgate::common {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
// Written once at startup, before threads exist.
char g_tag[32] = "wsgate";

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

bool ParseLogLevel(std::string_view text, LogLevel* out) {
  if (text == "debug") *out = LogLevel::kDebug;
  else if (text == "info") *out = LogLevel::kInfo;
  else if (text == "warning" || text == "warn") *out = LogLevel::kWarning;
  else if (text == "error") *out = LogLevel::kError;
  else return false;
  return true;
}

void SetLogTag(std::string_view tag) {
  size_t n = std::min(tag.size(), sizeof(g_tag) - 1);
  std::memcpy(g_tag, tag.data(), n);
  g_tag[n] = '\0';
}

void LogLine(LogLevel level, std::string_view message) {
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm parts;
  gmtime_r(&tv.tv_sec, &parts);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &parts);
  std::string line = absl::StrFormat("%s.%03dZ %s %s: %s\n", stamp, static_cast<int>(tv.tv_usec / 1000),
                                     LevelName(level), g_tag, message);
  // One write per line keeps lines whole across threads; a short write to stderr is not retried.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace wsgate::common
