// File: agent/connections.cc
#include "agent/connections.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/conn_id.h"

namespace wsgate::agent {
namespace {

using common::Sv;

constexpr int kEngineDeadlineMs = 5000;

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(kEngineDeadlineMs));
}

}  // namespace

std::string FormatFanoutToken(const FanoutCursor& cursor) {
  return absl::StrCat(cursor.engine, ":", cursor.engine_token);
}

absl::StatusOr<FanoutCursor> ParseFanoutToken(std::string_view token, size_t engines) {
  FanoutCursor c;
  if (token.empty()) return c;
  size_t colon = token.find(':');
  if (colon == std::string_view::npos || !absl::SimpleAtoi(Sv(token.substr(0, colon)), &c.engine) ||
      c.engine >= engines)
    return absl::InvalidArgumentError(absl::StrCat("page_token: '", Sv(token.substr(0, 40)),
                                                   "' is not a token this agent gave (pass next_page_token back unchanged)"));
  c.engine_token = std::string(token.substr(colon + 1));
  return c;
}

ConnectionFanout::ConnectionFanout(Catalog& catalog, std::vector<EngineTarget> engines) : catalog_(catalog) {
  for (auto& t : engines) {
    auto e = std::make_unique<Engine>();
    e->stub = v1::EngineControl::NewStub(grpc::CreateChannel(t.target, grpc::InsecureChannelCredentials()));
    e->where = std::move(t);
    engines_.push_back(std::move(e));
  }
  engine_ids_.resize(engines_.size());
}

ConnectionFanout::~ConnectionFanout() = default;

absl::StatusOr<v1::ConnectionFilter> ConnectionFanout::EngineFilter(const v1::AdminConnectionFilter& f) const {
  v1::ConnectionFilter out;
  if (!f.api().empty()) {
    auto api = catalog_.GetApi(f.api());
    if (!api.ok()) return absl::Status(api.status().code(), absl::StrCat("filter.api: ", api.status().message()));
    out.set_api_id(api->id());
  }
  if (!f.application().empty()) {
    auto app = catalog_.GetApplication(f.application());
    if (!app.ok())
      return absl::Status(app.status().code(), absl::StrCat("filter.application: ", app.status().message()));
    out.set_application_id(app->id());
  }
  if (!f.environment().empty()) {
    bool known = false;
    auto envs = catalog_.ListEnvironments();
    if (!envs.ok()) return envs.status();
    for (const auto& env : *envs) known |= env.name() == f.environment();
    if (!known)
      return absl::NotFoundError(
          absl::StrCat("filter.environment: no environment named '", f.environment(), "' (see wsgatectl env ls)"));
  }
  out.set_topic(f.topic());
  out.set_subscription_id(f.subscription_id());
  out.set_client_address_prefix(f.client_address_prefix());
  return out;
}

std::string ConnectionFanout::EngineId(size_t i, bool refresh) {
  {
    std::lock_guard lock(mu_);
    if (!refresh && !engine_ids_[i].empty()) return engine_ids_[i];
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::EngineStatus status;
  if (!engines_[i]->stub->GetStatus(&ctx, {}, &status).ok()) return "";
  std::lock_guard lock(mu_);
  engine_ids_[i] = status.engine_id();
  return engine_ids_[i];
}

bool ConnectionFanout::Selected(size_t i, const v1::AdminConnectionFilter& f) {
  const EngineTarget& where = engines_[i]->where;
  if (!f.environment().empty() && where.environment != f.environment()) return false;
  if (f.engine().empty() || f.engine() == where.target) return true;
  return EngineId(i, false) == f.engine();
}

absl::StatusOr<size_t> ConnectionFanout::Owner(std::string_view id) {
  absl::StatusOr<common::ConnId> parsed = common::ParseConnId(id);
  if (!parsed.ok()) return parsed.status();
  for (bool refresh : {false, true}) {  // remembered ids first; then ask again (an engine restarted)
    for (size_t i = 0; i < engines_.size(); ++i) {
      if (EngineId(i, refresh) == parsed->engine_id) return i;
    }
  }
  return absl::NotFoundError(absl::StrCat("connection ", Sv(id), ": no engine of this agent has engine id ",
                                          parsed->engine_id, " (the engine restarted, so the connection is gone)"));
}

v1::AdminConnection ConnectionFanout::Wrap(size_t i, v1::ConnectionInfo info) const {
  v1::AdminConnection out;
  *out.mutable_connection() = std::move(info);
  out.set_engine(engines_[i]->where.target);
  out.set_environment(engines_[i]->where.environment);
  return out;
}

absl::StatusOr<v1::AdminListConnectionsResponse> ConnectionFanout::List(const v1::AdminListConnectionsRequest& req) {
  uint32_t page_size = req.page_size() == 0 ? 100 : req.page_size();
  if (page_size > 1000)
    return absl::InvalidArgumentError(absl::StrCat("page_size: ", page_size, " is over the maximum of 1000"));
  absl::StatusOr<v1::ConnectionFilter> filter = EngineFilter(req.filter());
  if (!filter.ok()) return filter.status();
  absl::StatusOr<FanoutCursor> cursor = ParseFanoutToken(req.page_token(), engines_.size());
  if (!cursor.ok()) return cursor.status();
  v1::AdminListConnectionsResponse resp;
  size_t i = cursor->engine;
  std::string token = cursor->engine_token;
  while (i < engines_.size()) {
    if (!Selected(i, req.filter())) {
      ++i;
      token.clear();
      continue;
    }
    v1::ListConnectionsRequest ask;
    *ask.mutable_filter() = *filter;
    ask.set_page_size(page_size - static_cast<uint32_t>(resp.connections_size()));
    ask.set_page_token(token);
    v1::ListConnectionsResponse part;
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    grpc::Status st = engines_[i]->stub->ListConnections(&ctx, ask, &part);
    if (!st.ok()) {
      resp.add_unreachable_engines(absl::StrCat(engines_[i]->where.target, ": ", st.error_message()));
      ++i;
      token.clear();
      continue;
    }
    for (auto& c : *part.mutable_connections()) *resp.add_connections() = Wrap(i, std::move(c));
    token = part.next_page_token();
    if (token.empty()) ++i;
    if (resp.connections_size() >= static_cast<int>(page_size)) break;
  }
  if (i < engines_.size()) resp.set_next_page_token(FormatFanoutToken({i, token}));
  return resp;
}

absl::StatusOr<v1::AdminConnection> ConnectionFanout::Get(const std::string& id) {
  absl::StatusOr<size_t> owner = Owner(id);
  if (!owner.ok()) return owner.status();
  v1::ListConnectionsRequest ask;
  ask.mutable_filter()->set_id(id);
  v1::ListConnectionsResponse part;
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  grpc::Status st = engines_[*owner]->stub->ListConnections(&ctx, ask, &part);
  if (!st.ok()) return FromGrpc(st);
  if (part.connections_size() != 1) return absl::NotFoundError(absl::StrCat("connection ", id, ": not found"));
  return Wrap(*owner, part.connections(0));
}

absl::StatusOr<v1::SendToConnectionResponse> ConnectionFanout::Send(const v1::AdminSendRequest& req) {
  absl::StatusOr<size_t> owner = Owner(req.id());
  if (!owner.ok()) return owner.status();
  v1::SendToConnectionRequest ask;
  ask.set_id(req.id());
  if (req.payload_case() == v1::AdminSendRequest::kText) ask.set_text(req.text());
  else if (req.payload_case() == v1::AdminSendRequest::kBinary) ask.set_binary(req.binary());
  else return absl::InvalidArgumentError("payload: set text or binary");
  v1::SendToConnectionResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  grpc::Status st = engines_[*owner]->stub->SendToConnection(&ctx, ask, &resp);
  if (!st.ok()) return FromGrpc(st);
  return resp;
}

absl::Status ConnectionFanout::Close(const v1::AdminCloseRequest& req) {
  absl::StatusOr<size_t> owner = Owner(req.id());
  if (!owner.ok()) return owner.status();
  v1::CloseConnectionRequest ask;
  ask.set_id(req.id());
  ask.set_code(req.code());
  ask.set_reason(req.reason());
  v1::CloseConnectionResponse resp;
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  return FromGrpc(engines_[*owner]->stub->CloseConnection(&ctx, ask, &resp));
}

}  // namespace wsgate::agent
