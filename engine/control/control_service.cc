// File: engine/control/control_service.cc
#include "engine/control/control_service.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/log.h"
#include "wsgate/v1/engine.grpc.pb.h"

namespace wsgate::engine::control {
namespace {

using common::Sv;

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Fill(const server::DirectionCounters& in, v1::DirectionCounters* out) {
  out->set_frames(in.frames);
  out->set_bytes(in.bytes);
  out->set_throttled_frames(in.throttled_frames);
}

}  // namespace

absl::StatusOr<std::string> ParseControlTarget(std::string_view target) {
  std::string_view path = target;
  if (path.substr(0, 5) == "unix:") path.remove_prefix(5);
  if (path.empty() || path[0] != '/')
    return absl::InvalidArgumentError(
        absl::StrCat("--control: '", Sv(target), "' must be unix:/ABSOLUTE/PATH (a Unix socket)"));
  if (path.size() > 100) return absl::InvalidArgumentError("--control: socket path longer than 100 bytes");
  return std::string(path);
}

class ControlServer::Service final : public v1::EngineControl::Service {
 public:
  Service(server::Server& server, std::string engine_id, std::vector<std::string> listeners)
      : server_(server), engine_id_(std::move(engine_id)), listeners_(std::move(listeners)),
        started_ms_(NowUnixMs()) {}

  grpc::Status ApplySnapshot(grpc::ServerContext*, const v1::ApplySnapshotRequest* req, v1::ApplyResponse* resp) override {
    auto r = server_.Apply(req->snapshot());
    if (!r.ok()) {
      WSGATE_LOG(kWarning, "rejected config version %d: %s", static_cast<int64_t>(req->snapshot().version()),
                 std::string(r.status().message()));
      return ToGrpc(r.status());
    }
    resp->set_applied_version(r->applied_version);
    resp->set_connections_closed(r->connections_closed);
    return grpc::Status::OK;
  }

  grpc::Status ApplyDelta(grpc::ServerContext*, const v1::ApplyDeltaRequest* req, v1::ApplyResponse* resp) override {
    auto r = server_.ApplyDelta(*req);
    if (!r.ok()) return ToGrpc(r.status());
    resp->set_applied_version(r->applied_version);
    resp->set_connections_closed(r->connections_closed);
    return grpc::Status::OK;
  }

  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*, v1::EngineStatus* resp) override {
    resp->set_engine_id(engine_id_);
    resp->set_applied_version(server_.applied_version());
    resp->set_agent_id(server_.agent_id());
    resp->set_shards(static_cast<uint32_t>(server_.shard_count()));
    resp->set_started_unix_ms(started_ms_);
    resp->set_draining(server_.draining());
    for (const auto& l : listeners_) resp->add_listeners(l);
    resp->set_version(WSGATE_VERSION);
    return grpc::Status::OK;
  }

  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest* req, v1::EngineStats* resp) override {
    server::ShardStats s = server_.CollectStats();
    resp->set_active_connections(s.active_connections);
    resp->set_total_connections(s.total_connections);
    Fill(s.client_to_backend, resp->mutable_client_to_backend());
    Fill(s.backend_to_client, resp->mutable_backend_to_client());
    for (const auto& [status, n] : s.handshake_failures) (*resp->mutable_handshake_failures())[std::to_string(status)] = n;
    for (const auto& [code, n] : s.closes) (*resp->mutable_closes())[std::to_string(code)] = n;
    s.ForEachCounter([&](const char* name, const char*, uint64_t v) { (*resp->mutable_counters())[name] = v; });
    if (req->per_api()) {
      for (const auto& [id, c] : s.apis) {
        auto* a = resp->add_apis();
        a->set_api_id(id);
        a->set_name(c->name);
        a->set_version(c->version);
        a->set_active_connections(c->active);
        a->set_total_connections(c->total);
        Fill(c->client_to_backend, a->mutable_client_to_backend());
        Fill(c->backend_to_client, a->mutable_backend_to_client());
      }
    }
    return grpc::Status::OK;
  }

 private:
  server::Server& server_;
  std::string engine_id_;
  std::vector<std::string> listeners_;
  int64_t started_ms_;
};

ControlServer::ControlServer(server::Server& server, ControlOptions options)
    : server_(server), options_(std::move(options)) {}

ControlServer::~ControlServer() { Stop(); }

absl::Status ControlServer::Start() {
  if (options_.unix_path.empty() && options_.tcp.empty())
    return absl::InvalidArgumentError("--control or --control-tcp is required");
  grpc::ServerBuilder builder;
  std::vector<std::string> listeners{absl::StrCat("ws port ", server_.port())};
  if (!options_.unix_path.empty()) {
    // Replace a stale socket from an earlier run, but never some other file.
    struct stat st;
    if (lstat(options_.unix_path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode))
        return absl::FailedPreconditionError(absl::StrCat("--control: ", options_.unix_path, " exists and is not a socket"));
      unlink(options_.unix_path.c_str());
    }
    builder.AddListeningPort("unix:" + options_.unix_path, grpc::InsecureServerCredentials());
    listeners.push_back("control unix:" + options_.unix_path);
  }
  if (!options_.tcp.empty()) {
    sockaddr_storage addr;
    socklen_t len;
    if (absl::Status s = server::ParseListenAddress(options_.tcp, "control-tcp", &addr, &len); !s.ok()) return s;
    bool loopback = addr.ss_family == AF_INET
                        ? (ntohl(reinterpret_cast<sockaddr_in*>(&addr)->sin_addr.s_addr) >> 24) == 127
                        : IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr);
    if (!loopback)
      return absl::InvalidArgumentError(absl::StrCat("--control-tcp: '", options_.tcp,
                                                     "' is not a loopback address (the control API is unauthenticated)"));
    builder.AddListeningPort(options_.tcp, grpc::InsecureServerCredentials(), &tcp_port_);
  }
  service_ = std::make_unique<Service>(server_, options_.engine_id, listeners);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(256 << 20);  // 1M keys make a large snapshot
  // The socket file is created by gRPC: make it 0600 from the start, not after a window.
  mode_t old_mask = umask(0177);
  grpc_ = builder.BuildAndStart();
  umask(old_mask);
  if (!grpc_) return absl::UnavailableError("the control API could not listen (is the socket path or port in use?)");
  if (!options_.unix_path.empty()) chmod(options_.unix_path.c_str(), 0600);
  if (!options_.tcp.empty() && tcp_port_ == 0) return absl::UnavailableError(absl::StrCat("--control-tcp: cannot listen on ", options_.tcp));
  return absl::OkStatus();
}

void ControlServer::Stop() {
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc_.reset();
  }
  if (!options_.unix_path.empty()) unlink(options_.unix_path.c_str());
}

}  // namespace wsgate::engine::control
