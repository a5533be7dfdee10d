// File: agent/engine_health.h
//
// What the agent tells an operator about one engine's health, once per change: the pusher
// (agent/pusher.cc) reports every check it makes, and this says whether that check changed the
// engine's state and, if so, the log line to write. Retries in the same state write nothing, so
// an engine that is down for an hour gives one WARN when it goes and one INFO when it is back:
//
//   WARN  engine unreachable engine=unix:/run/wsgate/e.sock environment=Default error="connection refused"
//   WARN  engine lags behind the catalog engine=... environment=... applied_version=3 desired_version=4 error="..."
//   INFO  engine recovered engine=... environment=... applied_version=4 was=unreachable after_ms=20412
//
// The first check after start logs only a failure (a healthy engine is already announced by
// "applied config version"). Pure logic: no clock, no I/O, not thread-safe (one per engine thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/common/log.h"

namespace wsgate::agent {

class EngineHealth {
 public:
  enum class State { kUnknown, kHealthy, kUnreachable, kLagging };
  struct Check {
    bool reachable = false;
    uint64_t applied_version = 0;  // what the engine serves after this check (and any push it made)
    uint64_t desired_version = 0;  // the catalog's version
    std::string error;             // why it is unreachable or behind ("" when unknown)
  };
  struct Line {
    common::LogLevel level;
    std::string message;
  };

  EngineHealth(std::string target, std::string environment)
      : target_(std::move(target)), environment_(std::move(environment)) {}

  // The line to log when `check` (made at now_ms) changes the state, else nothing.
  std::optional<Line> Observe(const Check& check, int64_t now_ms);
  State state() const { return state_; }

  static const char* StateName(State s);

 private:
  std::string target_, environment_;
  State state_ = State::kUnknown;
  int64_t since_ms_ = 0;  // when the current state began
};

}  // namespace wsgate::agent
