// File: agent/lifecycle.cc
#include "agent/lifecycle.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace wsgate::agent {
namespace {

struct Transition {
  v1::LifecycleState from;
  const char* action;
  v1::LifecycleState to;
};

constexpr Transition kTransitions[] = {
    {v1::CREATED, "Publish", v1::PUBLISHED},
    {v1::CREATED, "Deploy as a Prototype", v1::PRE_RELEASED},
    {v1::PRE_RELEASED, "Publish", v1::PUBLISHED},
    {v1::PRE_RELEASED, "Demote to Created", v1::CREATED},
    {v1::PRE_RELEASED, "Deploy as a Prototype", v1::PRE_RELEASED},
    {v1::PUBLISHED, "Block", v1::BLOCKED},
    {v1::PUBLISHED, "Deprecate", v1::DEPRECATED},
    {v1::PUBLISHED, "Demote to Created", v1::CREATED},
    {v1::PUBLISHED, "Deploy as a Prototype", v1::PRE_RELEASED},
    {v1::PUBLISHED, "Publish", v1::PUBLISHED},
    {v1::BLOCKED, "Re-Publish", v1::PUBLISHED},
    {v1::BLOCKED, "Deprecate", v1::DEPRECATED},
    {v1::DEPRECATED, "Retire", v1::RETIRED},
};

std::string Normalize(std::string_view action) {
  std::string out;
  for (char c : action)
    if (c != ' ' && c != '-' && c != '_') out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  if (out == "prototype") out = "deployasaprototype";
  if (out == "demote") out = "demotetocreated";
  return out;
}

}  // namespace

std::string StateName(v1::LifecycleState state) {
  switch (state) {
    case v1::CREATED: return "CREATED";
    case v1::PRE_RELEASED: return "PRE-RELEASED";
    case v1::PUBLISHED: return "PUBLISHED";
    case v1::BLOCKED: return "BLOCKED";
    case v1::DEPRECATED: return "DEPRECATED";
    case v1::RETIRED: return "RETIRED";
    default: return "UNSPECIFIED";
  }
}

std::vector<std::string> AllowedActions(v1::LifecycleState state) {
  std::vector<std::string> out;
  for (const auto& t : kTransitions)
    if (t.from == state) out.emplace_back(t.action);
  return out;
}

absl::StatusOr<v1::LifecycleState> NextState(v1::LifecycleState current, std::string_view action) {
  std::string wanted = Normalize(action);
  bool known = false;
  for (const auto& t : kTransitions) {
    if (Normalize(t.action) != wanted) continue;
    known = true;
    if (t.from == current) return t.to;
  }
  if (!known)
    return absl::InvalidArgumentError(absl::StrCat(
        "action: '", std::string(action),
        "' is not a lifecycle action (Publish, Deploy as a Prototype, Demote to Created, Block, Re-Publish, "
        "Deprecate, Retire)"));
  std::vector<std::string> allowed = AllowedActions(current);
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot ", std::string(action), " an API in state ", StateName(current), "; allowed from ", StateName(current),
      ": ", allowed.empty() ? std::string("none (terminal state)") : absl::StrJoin(allowed, ", ")));
}

}  // namespace wsgate::agent
