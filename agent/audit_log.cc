// File: agent/audit_log.cc
#include "agent/audit_log.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/log.h"

namespace wsgate::agent {

bool RateLimitedLog::Warn(std::string_view detail) {
  uint64_t suppressed = 0;
  {
    std::lock_guard lock(mu_);
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    if (!limiter_.Allow(now_ms, &suppressed)) return false;
  }
  WSGATE_LOG(kWarning, "audit: %s: %s%s", what_, detail,
             suppressed == 0 ? "" : absl::StrCat(" (", suppressed, " more since the last line)"));
  return true;
}

std::string LoggableId(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() == 64) break;
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == ':')
      out.push_back(c);
  }
  return out;
}

}  // namespace wsgate::agent
