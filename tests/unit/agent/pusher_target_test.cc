// Unit tests for ParseEngineTarget (agent/pusher.h): the --engine TARGET[@ENV] flag.
#include <gtest/gtest.h>

#include "agent/pusher.h"

namespace wsgate::agent {
namespace {

TEST(ParseEngineTarget, TheEnvironmentFollowsTheLastAt) {
  auto plain = ParseEngineTarget("unix:/run/wsgate/e1.sock", "Production and Sandbox");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->target, "unix:/run/wsgate/e1.sock");
  EXPECT_EQ(plain->environment, "Production and Sandbox");
  auto edge = ParseEngineTarget("unix:/run/wsgate/e1.sock@Production", "Production and Sandbox");
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge->target, "unix:/run/wsgate/e1.sock");
  EXPECT_EQ(edge->environment, "Production");
  auto spaced = ParseEngineTarget("unix:/a@b.sock@Production and Sandbox", "X");
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(spaced->target, "unix:/a@b.sock");
  EXPECT_EQ(spaced->environment, "Production and Sandbox");
}

TEST(ParseEngineTarget, EmptyPartsAreRefused) {
  EXPECT_EQ(ParseEngineTarget("unix:/e.sock@", "X").status().message(),
            "--engine unix:/e.sock@: no environment after '@' (TARGET@ENV)");
  EXPECT_EQ(ParseEngineTarget("@Edge", "X").status().message(), "--engine @Edge: no target (unix:PATH[@ENV])");
}

}  // namespace
}  // namespace wsgate::agent
