// File: agent/lifecycle.h
//
// WSO2's default API lifecycle as a pure state machine (wso2-websocket-facts.md §2.9):
//
//   CREATED      --Publish--> PUBLISHED      --Deploy as a Prototype--> PRE_RELEASED
//   PRE_RELEASED --Publish--> PUBLISHED, --Demote to Created--> CREATED, --Deploy as a Prototype-->
//   PUBLISHED    --Block--> BLOCKED, --Deprecate--> DEPRECATED, --Demote to Created--> CREATED,
//                --Deploy as a Prototype--> PRE_RELEASED, --Publish--> PUBLISHED
//   BLOCKED      --Re-Publish--> PUBLISHED, --Deprecate--> DEPRECATED
//   DEPRECATED   --Retire--> RETIRED
//   RETIRED      (terminal)
//
// Action names are matched case-insensitively; "Republish" and "Prototype" are accepted too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::agent {

// The state after `action`, or FAILED_PRECONDITION naming the state and the allowed actions
// (INVALID_ARGUMENT for an action that does not exist at all).
absl::StatusOr<v1::LifecycleState> NextState(v1::LifecycleState current, std::string_view action);

// The actions allowed from `state`, in WSO2's wording.
std::vector<std::string> AllowedActions(v1::LifecycleState state);

// "CREATED", "PRE-RELEASED", "PUBLISHED", ...
std::string StateName(v1::LifecycleState state);

}  // namespace wsgate::agent
