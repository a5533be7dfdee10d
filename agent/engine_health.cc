// File: agent/engine_health.cc
#include "agent/engine_health.h"

#include "absl/strings/str_cat.h"
#include "engine/common/log_format.h"

namespace wsgate::agent {

using common::LogValue;

const char* EngineHealth::StateName(State s) {
  switch (s) {
    case State::kUnknown: return "unknown";
    case State::kHealthy: return "healthy";
    case State::kUnreachable: return "unreachable";
    case State::kLagging: return "lagging";
  }
  return "?";
}

std::optional<EngineHealth::Line> EngineHealth::Observe(const Check& check, int64_t now_ms) {
  State next = !check.reachable                                ? State::kUnreachable
               : check.applied_version < check.desired_version ? State::kLagging
                                                               : State::kHealthy;
  if (next == state_) return std::nullopt;
  State was = state_;
  int64_t after_ms = now_ms - since_ms_;
  state_ = next;
  since_ms_ = now_ms;
  std::string who = absl::StrCat("engine=", LogValue(target_), " environment=", LogValue(environment_));
  std::string error = check.error.empty() ? "" : absl::StrCat(" error=", LogValue(check.error));
  switch (next) {
    case State::kUnreachable:
      return Line{common::LogLevel::kWarning, absl::StrCat("engine unreachable ", who, error)};
    case State::kLagging:
      return Line{common::LogLevel::kWarning,
                  absl::StrCat("engine lags behind the catalog ", who, " applied_version=", check.applied_version,
                               " desired_version=", check.desired_version, error)};
    case State::kHealthy:
      if (was == State::kUnknown) return std::nullopt;
      return Line{common::LogLevel::kInfo, absl::StrCat("engine recovered ", who, " applied_version=",
                                                        check.applied_version, " was=", StateName(was),
                                                        " after_ms=", after_ms)};
    case State::kUnknown:
      break;
  }
  return std::nullopt;
}

}  // namespace wsgate::agent
