// File: agent/usage.cc — usage across engines (the Admin API's GetUsage): each engine's current
// throttle windows for an application (its subscriptions' plans and its own policy), and the
// sum over the engines.
#include <map>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "agent/connections.h"

namespace wsgate::agent {

absl::StatusOr<v1::AdminUsageResponse> ConnectionFanout::Usage(const v1::AdminUsageRequest& req) {
  if (req.application().empty()) return absl::InvalidArgumentError("application: required (an id or a name)");
  v1::AdminConnectionFilter f;
  f.set_application(req.application());
  f.set_api(req.api());
  absl::StatusOr<v1::ConnectionFilter> ids = EngineFilter(f);  // names → ids, NOT_FOUND naming the field
  if (!ids.ok()) return ids.status();
  v1::GetUsageRequest ask;
  ask.set_application_id(ids->application_id());
  ask.set_api_id(ids->api_id());
  v1::AdminUsageResponse resp;
  std::map<std::pair<std::string, std::string>, v1::UsageWindow> total;  // (level, id), in order
  for (const auto& e : engines_) {
    v1::EngineUsage* mine = resp.add_engines();
    mine->set_engine(e->where.target);
    v1::GetUsageResponse part;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status st = e->stub->GetUsage(&ctx, ask, &part);
    if (!st.ok()) {
      mine->set_error(st.error_message().empty() ? "unreachable" : st.error_message());
      continue;
    }
    for (const v1::UsageWindow& w : part.windows()) {
      if (w.level() == "api") continue;  // an API's own policy is every application's, not this one's
      *mine->add_windows() = w;
      auto [it, inserted] = total.try_emplace({w.level(), w.id()}, w);
      if (!inserted) it->second.set_used(it->second.used() + w.used());
    }
  }
  for (auto& [key, w] : total) *resp.add_total() = std::move(w);
  return resp;
}

}  // namespace wsgate::agent
