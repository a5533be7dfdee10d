// Unit tests for agent/lifecycle: WSO2's transitions, and the error for everything else.
#include "agent/lifecycle.h"

#include <gtest/gtest.h>

namespace wsgate::agent {
namespace {

TEST(Lifecycle, FollowsWso2Transitions) {
  struct Row {
    v1::LifecycleState from;
    const char* action;
    v1::LifecycleState to;
  };
  for (const Row& r : {Row{v1::CREATED, "Publish", v1::PUBLISHED}, Row{v1::CREATED, "Deploy as a Prototype", v1::PRE_RELEASED},
                       Row{v1::PRE_RELEASED, "publish", v1::PUBLISHED}, Row{v1::PRE_RELEASED, "Demote to Created", v1::CREATED},
                       Row{v1::PUBLISHED, "Block", v1::BLOCKED}, Row{v1::PUBLISHED, "deprecate", v1::DEPRECATED},
                       Row{v1::PUBLISHED, "Demote to Created", v1::CREATED}, Row{v1::PUBLISHED, "Publish", v1::PUBLISHED},
                       Row{v1::BLOCKED, "Re-Publish", v1::PUBLISHED}, Row{v1::BLOCKED, "republish", v1::PUBLISHED},
                       Row{v1::BLOCKED, "Deprecate", v1::DEPRECATED}, Row{v1::DEPRECATED, "Retire", v1::RETIRED}}) {
    auto next = NextState(r.from, r.action);
    ASSERT_TRUE(next.ok()) << StateName(r.from) << " " << r.action << ": " << next.status();
    EXPECT_EQ(*next, r.to) << StateName(r.from) << " " << r.action;
  }
}

TEST(Lifecycle, IllegalTransitionsNameBothStates) {
  auto s = NextState(v1::CREATED, "Block");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("CREATED"), absl::string_view::npos);
  EXPECT_NE(s.status().message().find("Publish"), absl::string_view::npos);
  EXPECT_EQ(NextState(v1::RETIRED, "Publish").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(NextState(v1::RETIRED, "Publish").status().message().find("terminal"), absl::string_view::npos);
  EXPECT_EQ(NextState(v1::DEPRECATED, "Publish").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(NextState(v1::PUBLISHED, "Launch").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StateName(v1::PRE_RELEASED), "PRE-RELEASED");
}

}  // namespace
}  // namespace wsgate::agent
