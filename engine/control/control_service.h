// File: engine/control/control_service.h
//
// The engine's gRPC control API (wsgate.v1.EngineControl), served with insecure credentials on a
// Unix socket (mode 0600) and/or a loopback TCP port only. This process links grpc++_unsecure
// and BoringSSL; it never creates gRPC TLS credentials (DESIGN.md).
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
  std::string unix_path;  // "" = none
  std::string tcp;        // "127.0.0.1:PORT" = loopback only; "" = none
  std::string engine_id;  // reported by GetStatus
};

class ControlServer {
 public:
  ControlServer(server::Server& server, ControlOptions options);
  ~ControlServer();

  absl::Status Start();
  void Stop();
  // The bound TCP port (when options.tcp ends in :0).
  int tcp_port() const { return tcp_port_; }

 private:
  class Service;
  server::Server& server_;
  ControlOptions options_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> grpc_;
  int tcp_port_ = 0;
};

// Parses "unix:PATH" (or a bare absolute path) into PATH. INVALID_ARGUMENT naming --control.
absl::StatusOr<std::string> ParseControlTarget(std::string_view target);

}  // namespace wsgate::engine::control
