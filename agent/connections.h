// File: agent/connections.h
//
// The connection registry across engines: the Admin API's ListConnections / GetConnection /
// SendToConnection / CloseConnection, fanned out to the engines' control APIs
// (engine.proto, "the connection registry"). A connection id names its engine
// ("<engine id>-<shard>-<slot>-<generation>", engine/common/conn_id.h): a send or close goes to
// the one engine whose GetStatus reports that engine id (remembered; asked again on a miss, so an
// engine that restarted is found under its new id).
//
// Listing walks the engines in the order given, each from its own page token; the agent's page
// token is "<engine index>:<that engine's token>", so pages are bounded and every engine's
// connections are seen once. An engine that does not answer is reported in
// unreachable_engines, never silently left out.
//
//   ConnectionFanout fanout(catalog, {{"unix:/run/wsgate/engine.sock", "Default"}});
//   auto page = fanout.List(request);          // filters: api, app by name or id, topic, ...
//   fanout.Close({id, 4000, "bye"});
//
// Thread-safe (gRPC calls it from its own threads).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "agent/catalog.h"
#include "agent/pusher.h"  // EngineTarget
#include "wsgate/v1/admin.pb.h"
#include "wsgate/v1/engine.grpc.pb.h"

namespace wsgate::agent {

// One engine the agent serves, and the gateway environment it belongs to.

// The agent's page token, "<engine index>:<engine token>".
struct FanoutCursor {
  size_t engine = 0;
  std::string engine_token;
};
std::string FormatFanoutToken(const FanoutCursor& cursor);
// "" → the start. INVALID_ARGUMENT naming page_token when malformed or past `engines`.
absl::StatusOr<FanoutCursor> ParseFanoutToken(std::string_view token, size_t engines);

class ConnectionFanout {
 public:
  ConnectionFanout(Catalog& catalog, std::vector<EngineTarget> engines);
  ~ConnectionFanout();

  absl::StatusOr<v1::AdminListConnectionsResponse> List(const v1::AdminListConnectionsRequest& req);
  absl::StatusOr<v1::AdminConnection> Get(const std::string& id);
  absl::StatusOr<v1::SendToConnectionResponse> Send(const v1::AdminSendRequest& req);
  absl::Status Close(const v1::AdminCloseRequest& req);
  // Usage (agent/usage.cc): the application's windows on every engine, and summed.
  absl::StatusOr<v1::AdminUsageResponse> Usage(const v1::AdminUsageRequest& req);
  // Traffic (agent/traffic.cc): every engine of the environment ("" = all), its GetStats with
  // per-API counters now; an engine that does not answer has `error` set. NOT_FOUND naming
  // environment for one the catalog does not have.
  absl::StatusOr<v1::GetTrafficResponse> Traffic(const v1::GetTrafficRequest& req);

 private:
  struct Engine {
    EngineTarget where;
    std::unique_ptr<v1::EngineControl::Stub> stub;
  };
  // The engine filter (api and application names resolved to ids). NOT_FOUND naming the field
  // for an API, application or environment the catalog does not have.
  absl::StatusOr<v1::ConnectionFilter> EngineFilter(const v1::AdminConnectionFilter& f) const;
  // Whether engine `i` is one the filter's environment and engine fields select.
  bool Selected(size_t i, const v1::AdminConnectionFilter& f);
  // The engine id of engine `i` (GetStatus), "" when it does not answer.
  std::string EngineId(size_t i, bool refresh);
  // The index of the engine that gave `id`, or NOT_FOUND.
  absl::StatusOr<size_t> Owner(std::string_view id);
  v1::AdminConnection Wrap(size_t i, v1::ConnectionInfo info) const;

  Catalog& catalog_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::mutex mu_;
  std::vector<std::string> engine_ids_ ABSL_GUARDED_BY(mu_);  // by engine index, "" when unknown
};

}  // namespace wsgate::agent
