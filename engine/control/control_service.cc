// File: engine/control/control_service.cc
#include "engine/control/control_service.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/conn_id.h"
#include "engine/common/log.h"
#include "engine/common/status_macros.h"
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
  out->set_denied_frames(in.denied_frames);
}

server::ConnFilter ToFilter(const v1::ConnectionFilter& f) {
  return {f.api_id(), f.topic(), f.application_id(), f.subscription_id(), f.client_address_prefix()};
}

void Fill(const server::ConnRecord& r, const std::string& engine_id, v1::ConnectionInfo* out) {
  out->set_id(common::FormatConnId({engine_id, r.shard, r.slot, r.generation}));
  out->set_engine_id(engine_id);
  out->set_api_id(r.api_id);
  out->set_api_name(r.api_name);
  out->set_api_version(r.api_version);
  out->set_topic(r.topic);
  out->set_application_id(r.application_id);
  out->set_subscription_id(r.subscription_id);
  out->set_key_type(r.key_type);
  out->set_client_address(r.client_address);
  out->set_vhost(r.vhost);
  out->set_opened_unix_ms(r.opened_unix_s * 1000);
  Fill(r.client_to_backend, out->mutable_client_to_backend());
  Fill(r.backend_to_client, out->mutable_backend_to_client());
  out->set_shard(r.shard);
}

// An id this engine gave, as a shard location. NOT_FOUND for another engine's (or an earlier
// process's) id, INVALID_ARGUMENT for one that is not an id.
absl::StatusOr<server::ConnRef> ToRef(std::string_view text, const std::string& engine_id) {
  absl::StatusOr<common::ConnId> id = common::ParseConnId(text);
  if (!id.ok()) return id.status();
  if (id->engine_id != engine_id)
    return absl::NotFoundError(absl::StrCat("connection ", Sv(text), ": not on this engine (engine id ", engine_id,
                                            "; the id is from another engine or an earlier start of this one)"));
  return server::ConnRef{id->shard, id->slot, id->generation};
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
        a->set_refused_upgrades(c->refused_upgrades);
        a->set_error_closes(c->error_closes);
      }
    }
    return grpc::Status::OK;
  }

  // --- the connection registry (engine/server/registry.h)
  grpc::Status ListConnections(grpc::ServerContext*, const v1::ListConnectionsRequest* req,
                               v1::ListConnectionsResponse* resp) override {
    if (!req->filter().id().empty()) {  // one connection, from the shard that owns it
      auto ref = ToRef(req->filter().id(), engine_id_);
      if (!ref.ok()) return ToGrpc(ref.status());
      auto record = server_.GetConnection(*ref);
      if (!record.ok()) return ToGrpc(record.status());
      if (server::Matches(ToFilter(req->filter()), *record)) Fill(*record, engine_id_, resp->add_connections());
      return grpc::Status::OK;
    }
    auto page = server_.ListConnections(ToFilter(req->filter()), req->page_token(), req->page_size());
    if (!page.ok()) return ToGrpc(page.status());
    for (const auto& r : page->connections) Fill(r, engine_id_, resp->add_connections());
    resp->set_next_page_token(page->next_page_token);
    return grpc::Status::OK;
  }

  grpc::Status SendToConnection(grpc::ServerContext*, const v1::SendToConnectionRequest* req,
                                v1::SendToConnectionResponse* resp) override {
    auto ref = ToRef(req->id(), engine_id_);
    if (!ref.ok()) return ToGrpc(ref.status());
    if (req->payload_case() == v1::SendToConnectionRequest::PAYLOAD_NOT_SET)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "payload: set text or binary");
    bool binary = req->payload_case() == v1::SendToConnectionRequest::kBinary;
    auto queued = server_.SendToConnection(*ref, binary, binary ? req->binary() : req->text());
    if (!queued.ok()) return ToGrpc(queued.status());
    resp->set_queued_bytes(*queued);
    return grpc::Status::OK;
  }

  grpc::Status GetUsage(grpc::ServerContext*, const v1::GetUsageRequest* req, v1::GetUsageResponse* resp) override {
    server::UsageFilter f{req->subscription_id(), req->application_id(), req->api_id()};
    for (const server::UsageWindow& w : server_.Usage(f, NowUnixMs() / 1000)) {
      v1::UsageWindow* out = resp->add_windows();
      out->set_level(w.level);
      out->set_id(w.id);
      out->set_application_id(w.application_id);
      out->set_api_id(w.api_id);
      out->set_policy(w.policy);
      out->set_used(w.used);
      out->set_limit(w.limit);
      out->set_window_s(w.window_s);
      out->set_resets_unix_s(w.resets_unix_s);
    }
    return grpc::Status::OK;
  }

  grpc::Status CloseConnection(grpc::ServerContext*, const v1::CloseConnectionRequest* req,
                               v1::CloseConnectionResponse*) override {
    auto ref = ToRef(req->id(), engine_id_);
    if (!ref.ok()) return ToGrpc(ref.status());
    return ToGrpc(server_.CloseConnection(*ref, req->code(), req->reason()));
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

absl::Status ControlServer::Claim() {
  if (lock_fd_ >= 0) return absl::OkStatus();
  if (options_.unix_path.empty()) return absl::InvalidArgumentError("--control is required");
  const std::string& path = options_.unix_path;
  std::string lock_path = path + ".lock";
  std::string where = absl::StrCat("--control unix:", path);
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0)
    return absl::FailedPreconditionError(absl::StrCat(where, ": cannot open the lock file ", lock_path, ": ", strerror(errno)));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ReleaseSocketPath();
    if (err == EWOULDBLOCK)
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": another wsgate-engine is serving there (it holds ", lock_path,
          "); refusing to replace its socket. Stop that engine first, or give this one another --control path"));
    return absl::FailedPreconditionError(absl::StrCat(where, ": cannot lock ", lock_path, ": ", strerror(err)));
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    ReleaseSocketPath();
    return absl::FailedPreconditionError(absl::StrCat(where, ": ", path, " exists and is not a socket"));
  }
  // A socket file without a lock holder: live (a process that takes no lock) or stale (an engine
  // that crashed). Only a stale one is replaced.
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) {
    ReleaseSocketPath();
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), std::min(path.size(), sizeof(addr.sun_path) - 1));
  int rc = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  ::close(probe);
  if (rc == 0 || (err != ECONNREFUSED && err != ENOENT)) {
    ReleaseSocketPath();
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": another process is serving there (", rc == 0 ? "a live socket answered" : strerror(err),
        "); refusing to replace its socket. Stop it first, or give this engine another --control path"));
  }
  WSGATE_LOG(kInfo, "replacing the stale control socket %s (nothing listens on it)", path);
  return absl::OkStatus();  // Start() renames the new socket over it
}

void ControlServer::ReleaseSocketPath() {
  if (created_socket_) {
    struct stat st;
    if (::lstat(options_.unix_path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == socket_dev_ &&
        static_cast<uint64_t>(st.st_ino) == socket_ino_)
      ::unlink(options_.unix_path.c_str());
    created_socket_ = false;
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock; the lock file stays (see the header)
    lock_fd_ = -1;
  }
}

absl::Status ControlServer::Start() {
  WSGATE_RETURN_IF_ERROR(Claim());
  // gRPC unlinks the path it bound when it shuts down, whoever's socket sits there by then. So it
  // binds a private name, which is renamed into place (atomically replacing a stale socket); at
  // exit gRPC unlinks only the private name (long gone), and ReleaseSocketPath() the public one
  // if it is still this socket.
  std::string bind_path = options_.unix_path + ".new";
  ::unlink(bind_path.c_str());  // a leftover of a crashed engine; ours while we hold the lock
  grpc::ServerBuilder builder;
  // Every port really bound (issue 17: `wsgatectl status` and `env list` show them).
  std::vector<std::string> listeners;
  for (uint16_t port : server_.ws_ports()) listeners.push_back(absl::StrCat("ws port ", port));
  if (listeners.empty()) listeners.push_back(absl::StrCat("ws port ", server_.port()));
  for (uint16_t port : server_.wss_ports()) listeners.push_back(absl::StrCat("wss port ", port));
  builder.AddListeningPort("unix:" + bind_path, grpc::InsecureServerCredentials());
  listeners.push_back("control unix:" + options_.unix_path);
  service_ = std::make_unique<Service>(server_, options_.engine_id, listeners);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(256 << 20);  // 1M keys make a large snapshot
  // The socket file is created by gRPC: make it 0600 from the start, not after a window.
  mode_t old_mask = umask(0177);
  grpc_ = builder.BuildAndStart();
  umask(old_mask);
  if (!grpc_) {
    ReleaseSocketPath();
    return absl::UnavailableError(absl::StrCat("--control unix:", options_.unix_path, ": the control API could not listen"));
  }
  chmod(bind_path.c_str(), 0600);
  if (::rename(bind_path.c_str(), options_.unix_path.c_str()) != 0) {
    absl::Status error = absl::UnavailableError(absl::StrCat("--control unix:", options_.unix_path, ": cannot move the socket ",
                                                             bind_path, " into place: ", strerror(errno)));
    Stop();
    return error;
  }
  struct stat st;
  if (::lstat(options_.unix_path.c_str(), &st) == 0) {
    created_socket_ = true;
    socket_dev_ = static_cast<uint64_t>(st.st_dev);
    socket_ino_ = static_cast<uint64_t>(st.st_ino);
  }
  return absl::OkStatus();
}

void ControlServer::Stop() {
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    grpc_.reset();
  }
  ReleaseSocketPath();
}

}  // namespace wsgate::engine::control
