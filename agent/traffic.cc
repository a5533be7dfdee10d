// File: agent/traffic.cc — traffic across engines (the Admin API's GetTraffic, which
// `wsgatectl top` polls): each selected engine's GetStats with per-API counters, asked now, with
// the time of each reply and the engine id (a new id means its counters started again).
#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/connections.h"

namespace wsgate::agent {

absl::StatusOr<v1::GetTrafficResponse> ConnectionFanout::Traffic(const v1::GetTrafficRequest& req) {
  v1::AdminConnectionFilter f;
  f.set_environment(req.environment());
  // NOT_FOUND for an unknown environment; its message names "filter.environment", here "environment".
  absl::StatusOr<v1::ConnectionFilter> checked = EngineFilter(f);
  if (!checked.ok()) {
    absl::string_view message = checked.status().message();
    absl::ConsumePrefix(&message, "filter.");
    return absl::Status(checked.status().code(), message);
  }
  v1::GetTrafficResponse resp;
  v1::GetStatsRequest ask;
  ask.set_per_api(true);
  for (size_t i = 0; i < engines_.size(); ++i) {
    if (!Selected(i, f)) continue;
    v1::EngineTraffic* mine = resp.add_engines();
    mine->set_engine(engines_[i]->where.target);
    mine->set_environment(engines_[i]->where.environment);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status st = engines_[i]->stub->GetStats(&ctx, ask, mine->mutable_stats());
    if (!st.ok()) {
      mine->clear_stats();
      mine->set_error(st.error_message().empty() ? "unreachable" : st.error_message());
      continue;
    }
    mine->set_sampled_unix_ms(absl::ToUnixMillis(absl::Now()));
    mine->set_engine_id(EngineId(i, false));
  }
  return resp;
}

}  // namespace wsgate::agent
