// File: engine/control/control_service.h
//
// The engine's gRPC control API (wsgate.v1.EngineControl), served with insecure credentials on a
// Unix socket only (mode 0600: the file's permissions are the authentication; there is no TCP
// listener, which any local user could reach). This process links grpc++_unsecure and
// BoringSSL; it never creates gRPC TLS credentials (DESIGN.md).
//
// One engine per socket path: Start() takes an exclusive flock on "<path>.lock" (kept, never
// unlinked, so two engines cannot lock different files), refuses a path where a live socket
// answers connect(), and replaces only a stale one (gRPC binds "<path>.new", renamed over it).
// Stop() unlinks the socket only if it is still the one this engine created (same inode), never
// a successor's.
//
//   ControlServer control(server, {.unix_path = "/run/wsgate/engine.sock"});
//   WSGATE_RETURN_IF_ERROR(control.Start());
//   ...
//   control.Stop();
//
// Thread-safe; gRPC calls arrive on gRPC's threads and go to Server's thread-safe methods.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "engine/server/server.h"

namespace grpc {
class Server;
}

namespace wsgate::engine::control {

struct ControlOptions {
  std::string unix_path;  // required
  std::string engine_id;  // reported by GetStatus
};

class ControlServer {
 public:
  ControlServer(server::Server& server, ControlOptions options);
  ~ControlServer();

  // Takes the socket path (the lock, the live/stale check) without serving yet, so a caller can
  // fail before binding anything else. FAILED_PRECONDITION naming the path when another engine
  // serves there. Start() calls it if the caller did not.
  absl::Status Claim();
  absl::Status Start();
  void Stop();

 private:
  class Service;
  void ReleaseSocketPath();

  server::Server& server_;
  ControlOptions options_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> grpc_;
  int lock_fd_ = -1;
  // The socket file this engine created, so Stop() removes only that one.
  bool created_socket_ = false;
  uint64_t socket_dev_ = 0, socket_ino_ = 0;
};

// Parses "unix:PATH" (or a bare absolute path) into PATH. INVALID_ARGUMENT naming --control.
absl::StatusOr<std::string> ParseControlTarget(std::string_view target);

}  // namespace wsgate::engine::control
