// Unit tests for agent/engine_health: one log line per transition, none per retry.
#include "agent/engine_health.h"

#include <gtest/gtest.h>

namespace wsgate::agent {
namespace {

using Check = EngineHealth::Check;
using common::LogLevel;

Check Up(uint64_t applied, uint64_t desired) { return {true, applied, desired, ""}; }
Check Down(const std::string& error) { return {false, 3, 4, error}; }

TEST(EngineHealth, AHealthyStartSaysNothing) {
  EngineHealth h("unix:/e.sock", "Default");
  EXPECT_FALSE(h.Observe(Up(1, 1), 0));
  EXPECT_FALSE(h.Observe(Up(2, 2), 10));
  EXPECT_EQ(h.state(), EngineHealth::State::kHealthy);
}

TEST(EngineHealth, UnreachableOnceThenRecoveredOnce) {
  EngineHealth h("unix:/e.sock", "Default");
  EXPECT_FALSE(h.Observe(Up(3, 3), 0));
  auto warn = h.Observe(Down("connection refused"), 1000);
  ASSERT_TRUE(warn);
  EXPECT_EQ(warn->level, LogLevel::kWarning);
  EXPECT_EQ(warn->message,
            "engine unreachable engine=unix:/e.sock environment=Default error=\"connection refused\"");
  for (int retry = 1; retry <= 20; ++retry) EXPECT_FALSE(h.Observe(Down("connection refused"), 1000 + retry * 200));
  EXPECT_FALSE(h.Observe(Down("another error text"), 6000));  // same state: still nothing
  auto info = h.Observe(Up(4, 4), 21500);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->level, LogLevel::kInfo);
  EXPECT_EQ(info->message,
            "engine recovered engine=unix:/e.sock environment=Default applied_version=4 was=unreachable after_ms=20500");
  EXPECT_FALSE(h.Observe(Up(4, 4), 23500));
}

TEST(EngineHealth, LaggingIsItsOwnState) {
  EngineHealth h("unix:/e.sock", "Edge Env");
  EXPECT_FALSE(h.Observe(Up(3, 3), 0));
  auto lag = h.Observe({true, 3, 5, "compile: bad cert"}, 100);
  ASSERT_TRUE(lag);
  EXPECT_EQ(lag->level, LogLevel::kWarning);
  EXPECT_EQ(lag->message,
            "engine lags behind the catalog engine=unix:/e.sock environment=\"Edge Env\" applied_version=3 "
            "desired_version=5 error=\"compile: bad cert\"");
  EXPECT_FALSE(h.Observe({true, 3, 6, "compile: bad cert"}, 300));
  // Lagging, then down, then back but still behind, then current: a line for each change.
  auto down = h.Observe(Down(""), 500);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->message, "engine unreachable engine=unix:/e.sock environment=\"Edge Env\"");
  ASSERT_TRUE(h.Observe({true, 3, 6, ""}, 700));
  auto back = h.Observe(Up(6, 6), 900);
  ASSERT_TRUE(back);
  EXPECT_NE(back->message.find("was=lagging after_ms=200"), std::string::npos) << back->message;
}

TEST(EngineHealth, AFailureAtStartIsReported) {
  EngineHealth h("unix:/e.sock", "Default");
  auto warn = h.Observe(Down("unreachable"), 0);
  ASSERT_TRUE(warn);
  EXPECT_EQ(warn->level, LogLevel::kWarning);
  EXPECT_TRUE(h.Observe(Up(1, 1), 5));
}

}  // namespace
}  // namespace wsgate::agent
