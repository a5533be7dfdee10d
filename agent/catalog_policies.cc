// File: agent/catalog_policies.cc — throttle policies: validation with WSO2's defaults, create,
// list, delete (refused while a subscription, application or API uses one).
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {

namespace catalog_internal {
absl::StatusOr<v1::ThrottlePolicy> NormalizedPolicy(const v1::ThrottlePolicy& in) {
  v1::ThrottlePolicy p = in;
  if (p.name().empty() || p.name().find_first_of(" /:") != std::string::npos)
    return Invalid("name", "must be non-empty without spaces, '/' or ':'");
  if (p.level() == v1::POLICY_LEVEL_UNSPECIFIED) p.set_level(v1::SUBSCRIPTION);
  // A connection-only policy (issue 15): --connections without --events counts no events.
  bool connections_only = !p.unlimited() && p.events() == 0 && p.max_connections() > 0;
  if (connections_only) {
    p.set_unlimited(true);
    if (p.unit() == v1::TIME_UNIT_UNSPECIFIED) p.set_unit(v1::DAY);
  }
  if (!p.unlimited() && p.events() == 0)
    return Invalid("events", "must be > 0 (or set unlimited, or connections for a connection-only policy)");
  if (p.unit() == v1::TIME_UNIT_UNSPECIFIED) return Invalid("unit", "must be SECOND, MINUTE, HOUR, DAY or MONTH");
  if (p.unit_count() == 0) p.set_unit_count(1);
  // Not given: a limit drops over quota (WSO2 default); an explicit false counts only.
  if (!in.has_stop_on_quota_reach() && !in.unlimited()) p.set_stop_on_quota_reach(true);
  if (p.description().empty())
    p.set_description(p.unlimited() ? "Allows unlimited events"
                                    : absl::StrCat("Allows ", p.events(), " events per ",
                                                   p.unit_count() == 1 ? "" : absl::StrCat(p.unit_count(), " "),
                                                   absl::AsciiStrToLower(v1::TimeUnit_Name(p.unit())),
                                                   p.unit_count() == 1 ? "" : "s"));
  if (in.description().empty() && p.max_connections() > 0)
    p.set_description(absl::StrCat(connections_only ? "Allows unlimited events" : p.description(), " and ",
                                   p.max_connections(), " concurrent connections"));
  return p;
}
}  // namespace catalog_internal

absl::StatusOr<v1::ThrottlePolicy> Catalog::CreatePolicy(const v1::ThrottlePolicy& in) {
  WSGATE_ASSIGN_OR_RETURN(v1::ThrottlePolicy p, catalog_internal::NormalizedPolicy(in));
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    absl::Status s = db_.Prepare("INSERT INTO policies VALUES(?, ?, ?, 0)")
                         .Bind(1, p.name())
                         .Bind(2, static_cast<int64_t>(p.level()))
                         .BindBlob(3, Serialize(p))
                         .Run();
    if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat("a policy named '", p.name(), "' already exists"));
    return s;
  }));
  return p;
}

absl::StatusOr<std::vector<v1::ThrottlePolicy>> Catalog::ListPolicies(v1::PolicyLevel level) {
  std::lock_guard lock(mu_);
  std::vector<v1::ThrottlePolicy> out;
  Statement st = db_.Prepare("SELECT policy FROM policies WHERE ?1 = 0 OR level = ?1 ORDER BY level, builtin DESC, name");
  st.Bind(1, static_cast<int64_t>(level));
  while (st.Next()) {
    v1::ThrottlePolicy p;
    p.ParseFromString(st.Text(0));
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status Catalog::DeletePolicy(const std::string& name) {
  return Mutate(true, [&]() -> absl::Status {
    Statement used = db_.Prepare(
        "SELECT 'subscription' FROM subscriptions WHERE plan = ?1 UNION ALL "
        "SELECT 'application' FROM applications WHERE throttle_policy = ?1 LIMIT 1");
    used.Bind(1, name);
    if (used.Next())
      return absl::FailedPreconditionError(absl::StrCat("policy '", name, "' is used by a ", used.Text(0)));
    // An API's offered plans are in its spec blob.
    Statement apis = db_.Prepare("SELECT spec FROM apis");
    while (apis.Next()) {
      v1::ApiSpec spec;
      spec.ParseFromString(apis.Text(0));
      if (std::find(spec.plans().begin(), spec.plans().end(), name) != spec.plans().end() || spec.throttle_policy() == name)
        return absl::FailedPreconditionError(absl::StrCat("policy '", name, "' is used by API ", ApiRefText(spec)));
    }
    Statement del = db_.Prepare("DELETE FROM policies WHERE name = ?");
    del.Bind(1, name);
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0) return absl::NotFoundError(absl::StrCat("policy: no policy '", name, "'"));
    return absl::OkStatus();
  });
}

}  // namespace wsgate::agent
