// File: engine/common/log.cc
#include "engine/common/log.h"
#include "engine/common/log_format.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "nlohmann/json.hpp"

namespace wsgate::common {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
// Written once at startup, before threads exist.
char g_tag[32] = "wsgate";

bool IsKeyStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

// A whole number as JSON writes it back unchanged: "0", or an optional '-' and no leading zero.
bool IsPlainInteger(std::string_view v, int64_t* out) {
  std::string_view digits = !v.empty() && v[0] == '-' ? v.substr(1) : v;
  if (digits.empty() || digits.size() > 18 || (digits[0] == '0' && digits.size() > 1)) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  return absl::SimpleAtoi(Sv(v), out);
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

void SetLogFormat(LogFormat format) { g_format.store(static_cast<int>(format)); }
LogFormat GetLogFormat() { return static_cast<LogFormat>(g_format.load(std::memory_order_relaxed)); }

bool ParseLogFormat(std::string_view text, LogFormat* out) {
  if (text == "text") *out = LogFormat::kText;
  else if (text == "json") *out = LogFormat::kJson;
  else return false;
  return true;
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

void SetLogTag(std::string_view tag) {
  size_t n = std::min(tag.size(), sizeof(g_tag) - 1);
  std::memcpy(g_tag, tag.data(), n);
  g_tag[n] = '\0';
}

std::vector<std::pair<std::string, std::string>> LogFields(std::string_view m) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i < m.size()) {
    // A field starts a word: at the beginning or after a space.
    if ((i > 0 && m[i - 1] != ' ') || !IsKeyStart(m[i])) {
      ++i;
      continue;
    }
    size_t k = i;
    while (k < m.size() && IsKeyChar(m[k])) ++k;
    if (k >= m.size() || m[k] != '=') {
      i = k;
      continue;
    }
    std::string key(m.substr(i, k - i)), value;
    size_t v = k + 1;
    if (v < m.size() && m[v] == '"') {
      size_t j = v + 1;
      for (; j < m.size() && m[j] != '"'; ++j) {
        if (m[j] == '\\' && j + 1 < m.size()) ++j;
        value += m[j];
      }
      i = j + 1;
    } else {
      size_t j = m.find(' ', v);
      if (j == std::string_view::npos) j = m.size();
      value = std::string(m.substr(v, j - v));
      i = j;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::string LogValue(std::string_view value) {
  if (!value.empty() && value.find_first_of(" \"\\") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string FormatLogLine(LogFormat format, int64_t unix_ms, LogLevel level, std::string_view component,
                          std::string_view message) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  tm parts;
  gmtime_r(&seconds, &parts);
  char stamp[40];
  size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &parts);
  std::snprintf(stamp + n, sizeof(stamp) - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
  if (format == LogFormat::kText)
    return absl::StrFormat("%s %s %s: %s\n", stamp, LogLevelName(level), component, message);
  nlohmann::ordered_json j;
  j["ts"] = stamp;
  j["level"] = LogLevelName(level);
  j["component"] = std::string(component);
  j["msg"] = std::string(message);
  for (auto& [key, value] : LogFields(message)) {
    if (j.contains(key)) continue;  // the line's own keys, or a repeated one: the first wins
    int64_t number;
    if (IsPlainInteger(value, &number)) j[key] = number;
    else j[key] = std::move(value);
  }
  // Bytes that are not UTF-8 (a client's request target, say) become U+FFFD instead of throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void PrintDiagnostic(LogLevel level, absl::string_view message) {
  std::string_view m(message.data(), message.size());
  if (GetLogFormat() == LogFormat::kJson) return LogLine(level, m);
  std::string line = absl::StrCat(g_tag, ": ", level == LogLevel::kWarning ? "warning: " : "", Sv(m), "\n");
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void StartupError(absl::string_view message) { PrintDiagnostic(LogLevel::kError, message); }

void LogLine(LogLevel level, std::string_view message) {
  timeval tv;
  gettimeofday(&tv, nullptr);
  std::string line = FormatLogLine(GetLogFormat(), static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000, level,
                                   g_tag, message);
  // One write per line keeps lines whole across threads; a short write to stderr is not retried.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace wsgate::common
