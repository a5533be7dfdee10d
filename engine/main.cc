// File: engine/main.cc — wsgate-engine: flags, config file, signals; then Server + ControlServer.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/admin/admin_routes.h"
#include "engine/admin/admin_server.h"
#include "absl/strings/str_join.h"
#include "engine/common/flags.h"
#include "engine/common/log.h"
#include "engine/common/service.h"
#include "engine/config/check.h"
#include "engine/common/log_format.h"
#include "engine/config/snapshot_file.h"
#include "engine/control/control_service.h"
#include "engine/quota/store_url.h"
#include "engine/server/access_log.h"
#include "engine/server/server.h"
#include "engine/tls/crypto.h"
#include "engine/tls/ticket_keys.h"
#include "engine/tls/tls.h"

namespace {

using wsgate::common::FlagParser;

// --check-config FILE: parse and compile it as --config would, print every error with its field
// path, open no socket. 0: valid, 1: not.
int CheckConfig(const std::string& path, const wsgate::engine::config::TlsDefaults& tls) {
  auto snapshot = wsgate::engine::config::LoadSnapshotFile(path);
  if (!snapshot.ok()) {
    std::cerr << "wsgate-engine: " << snapshot.status().message() << "\n";
    std::cerr << "wsgate-engine: configuration file " << path << " test failed\n";
    return 1;
  }
  wsgate::engine::config::CheckResult r =
      wsgate::engine::config::CheckSnapshot(*snapshot, wsgate::engine::config::SystemResolver(), tls);
  for (const std::string& e : r.errors) std::cerr << path << ": " << e << "\n";
  if (r.truncated) std::cerr << path << ": stopped after " << r.errors.size() << " errors\n";
  if (!r.errors.empty()) {
    std::cerr << "wsgate-engine: configuration file " << path << " test failed: " << r.errors.size()
              << " error(s)\n";
    return 1;
  }
  std::cout << "wsgate-engine: configuration file " << path << " is ok (version " << snapshot->version() << ": "
            << snapshot->apis_size() << " API(s) on " << snapshot->vhosts_size() << " vhost(s), "
            << snapshot->applications_size() << " application(s), " << snapshot->consumer_keys_size()
            << " consumer key(s))\n";
  return 0;
}


}  // namespace

int main(int argc, char** argv) {
  std::string control = wsgate::common::DefaultEngineControlTarget();
  std::string check_config_path;
  std::string control_tcp;  // removed; kept as a flag only to explain why
  bool reuse_port = false;
  std::vector<std::string> ws_listens, wss_listens;  // empty: [::]:9099 and [::]:8099
  std::string tls_cert, tls_key, tls_ticket_keys;
  bool tls_dev_cert = false;
  std::string config_path;
  std::string admin_listen = "127.0.0.1:9102", access_log_path;
  bool admin_listen_any = false, access_log_open = false;
  int64_t shards = 0, max_connections = 0, buffers = 4096, buffer_size = 16384, drain_timeout_ms = -1;
  wsgate::engine::quota::QuotaFlags quota_flags;  // cluster-wide quotas (issue 19)
  FlagParser flags("wsgate-engine",
                   "The wsgate data plane: terminates WebSocket clients, authenticates the upgrade, routes each topic\n"
                   "to its backend and relays frames both ways, on one io_uring shard per core. Its configuration\n"
                   "comes from wsgate-agent over the control socket, or from --config.\n\n"
                   "  wsgate-engine --control unix:/run/wsgate/engine.sock\n"
                   "  wsgate-engine --config chats.textproto --ws-listen 127.0.0.1:9099\n\n"
                   "Signals: SIGTERM/SIGINT drain (close clients with 1012, spread over the drain window; exit 0); SIGHUP\n"
                   "reloads --config and --tls-ticket-keys and reopens --access-log; SIGUSR1 reopens --access-log.");
  flags.AddString("control", &control,
                  "control API Unix socket, unix:/ABSOLUTE/PATH (created mode 0600; one engine per path, locked "
                  "through PATH.lock)",
                  "unix:PATH");
  flags.AddString("control-tcp", &control_tcp,
                  "removed: any local user could push config through it; use --control (a 0600 Unix socket)",
                  "ADDR:PORT");
  flags.AddList("ws-listen", &ws_listens,
                "address for ws:// clients; repeat for more (default [::]:9099: IPv6 and IPv4, or 0.0.0.0:9099 on a "
                "host without IPv6)",
                "ADDR:PORT");
  flags.AddBool("reuse-port", &reuse_port,
                "share --ws-listen/--wss-listen with an engine already listening there (a hitless restart: start the "
                "new engine with --reuse-port, then drain the old one); without it such an address is refused");
  flags.AddList("wss-listen", &wss_listens,
                "address for wss:// clients (needs --tls-cert and --tls-key); repeat for more (default [::]:8099); "
                "an empty value: no wss listener",
                "ADDR:PORT");
  flags.AddString("tls-cert", &tls_cert, "default certificate chain for wss (PEM); vhosts may add their own", "FILE");
  flags.AddString("tls-key", &tls_key, "its private key (PEM)", "FILE");
  flags.AddBool("tls-dev-cert", &tls_dev_cert,
                "create a self-signed certificate for localhost at --tls-cert/--tls-key if they do not exist "
                "(development only; clients need wscat -n or the file as their CA)");
  flags.AddString("tls-ticket-keys", &tls_ticket_keys,
                  "session-ticket keys for TLS resumption: one base64 key per line (openssl rand -base64 48), mode 0600; "
                  "the first encrypts, every line decrypts; re-read on SIGHUP. Give every engine behind one load "
                  "balancer the same file (default: a random key per process, rotated every 12 h)",
                  "FILE");
  flags.AddInt("shards", &shards, "relay threads, each with its own io_uring; 0 = one per CPU", 0, 1024);
  flags.AddString("check-config", &check_config_path,
                  "check FILE as --config would read it (syntax, every field, endpoint host names, certificate "
                  "files), print every error with its field path and exit: 0 valid, 1 not; opens no socket",
                  "FILE");
  flags.AddString("config", &config_path, "a snapshot to serve at start (text proto, or JSON if it starts with '{')", "FILE");
  flags.AddInt("max-connections", &max_connections,
               "client connections per shard; more get 503 at accept (0: what the descriptor limit allows)", 0, 10000000);
  flags.AddInt("buffers", &buffers, "receive buffers per shard (a power of two)", 16, 32768);
  flags.AddInt("buffer-size", &buffer_size, "bytes per receive buffer", 1024, 1 << 20);
  flags.AddInt("drain-timeout-ms", &drain_timeout_ms,
               "how long SIGTERM waits for clients to close (closes are spread over its first half); overrides "
               "EngineSettings.drain_timeout_ms (30000 by default) when given",
               -1, 3600000);
  flags.AddString("admin-listen", &admin_listen,
                  "admin HTTP listener: /metrics (Prometheus), /healthz, /readyz, /config_dump; \"\" turns it off; "
                  "loopback only unless --admin-listen-any",
                  "ADDR:PORT");
  flags.AddBool("admin-listen-any", &admin_listen_any,
                "allow --admin-listen on a non-loopback address (it shows the config and every API's metrics)");
  flags.AddString("access-log", &access_log_path,
                  "JSON access log, one line per connection at its end: a file (reopened on SIGHUP/SIGUSR1) or - for "
                  "stdout; \"\" = none",
                  "PATH|-");
  flags.AddBool("access-log-open", &access_log_open, "also write an access-log line when a connection's relay starts");
  // --- cluster-wide quotas (issue 19, redis)
  flags.AddString("quota-store", &quota_flags.store,
                  "where event quotas are counted: local (this engine only), or a Redis shared by every engine, "
                  "redis://HOST:PORT[/DB] or unix:///PATH[?db=N]; engines then take leases of events from it",
                  "URL");
  flags.AddString("quota-fallback", &quota_flags.fallback,
                  "when the quota store is unreachable: fail-local (each limit / --quota-engines on this engine), "
                  "fail-open (admit) or fail-closed (refuse with 4003)",
                  "MODE");
  flags.AddInt("quota-engines", &quota_flags.engines,
               "engines sharing --quota-store: sizes the leases and fail-local's share of each limit", 1, 10000);
  flags.AddInt("quota-max-lease", &quota_flags.max_lease,
               "events per lease at most; the cluster admits at most limit + engines x this per window", 1, 1000000);
  flags.AddInt("quota-timeout-ms", &quota_flags.timeout_ms, "quota store connect and command timeout", 10, 60000);
  if (int exit_code = flags.ParseCommandLine(argc, argv); exit_code >= 0) return exit_code;
  auto quota_options = wsgate::engine::quota::CompileQuotaFlags(quota_flags);
  if (!check_config_path.empty()) {
    int rc = CheckConfig(check_config_path, {tls_cert, tls_key});
    if (!quota_options.ok()) {
      std::cerr << "wsgate-engine: " << quota_options.status().message() << "\n";
      return 1;
    }
    return rc;
  }
  if (!quota_options.ok()) {
    wsgate::common::StartupError(quota_options.status().message());
    return 2;
  }
  if (access_log_open && access_log_path.empty()) {
    std::cerr << "wsgate-engine: --access-log-open needs --access-log PATH|-\n";
    return 2;
  }
  if (!admin_listen.empty()) {
    if (absl::Status s = wsgate::engine::admin::CheckAdminAddress(admin_listen, admin_listen_any); !s.ok()) {
      wsgate::common::StartupError(s.message());
      return 2;
    }
  }
  std::string ws_listen = ws_listens.empty() ? "[::]:9099" : absl::StrJoin(ws_listens, ",");
  std::string wss_listen = wss_listens.empty() ? "[::]:8099" : absl::StrJoin(wss_listens, ",");
  if (!control_tcp.empty()) {
    std::cerr << "wsgate-engine: --control-tcp was removed: the control API had no authentication, so any local "
                 "user could push a config through it. Serve it on the Unix socket (--control unix:PATH, mode 0600) "
                 "and point the agent there (wsgate-agent --engine unix:PATH)\n";
    return 2;
  }
  if ((buffers & (buffers - 1)) != 0) {
    std::cerr << "wsgate-engine: --buffers: " << buffers << " is not a power of two\n";
    return 2;
  }
  if (tls_cert.empty() != tls_key.empty()) {
    std::cerr << "wsgate-engine: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (!tls_ticket_keys.empty()) {
    auto keys = wsgate::engine::tls::LoadTicketKeyFile(tls_ticket_keys);
    if (!keys.ok()) wsgate::common::StartupError(absl::StrCat("--tls-ticket-keys: ", keys.status().message()));
    wsgate::engine::tls::InstallTicketKeys(*std::move(keys));
  }
  if (tls_dev_cert) {
    if (tls_cert.empty()) {
      std::cerr << "wsgate-engine: --tls-dev-cert needs --tls-cert and --tls-key (where to write them)\n";
      return 2;
    }
    if (access(tls_cert.c_str(), F_OK) != 0 || access(tls_key.c_str(), F_OK) != 0) {
      absl::Status s = wsgate::engine::tls::WriteSelfSignedCertificate(tls_cert, tls_key, {"localhost", "127.0.0.1", "::1"});
      if (!s.ok()) {
        wsgate::common::StartupError(absl::StrCat("--tls-dev-cert: ", s.message()));
        return 1;
      }
      WSGATE_LOG(kInfo, "created a self-signed development certificate for localhost: %s", tls_cert);
    }
  }
  auto control_path = wsgate::engine::control::ParseControlTarget(control);
  if (!control_path.ok()) {
    wsgate::common::StartupError(control_path.status().message());
    return 2;
  }

  // Signals are taken by sigwait on this thread; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  uint8_t id[8];
  wsgate::engine::tls::RandomBytes(id, sizeof(id));
  std::string engine_id;
  for (uint8_t b : id) absl::StrAppend(&engine_id, absl::Hex(b, absl::kZeroPad2));
  std::unique_ptr<wsgate::engine::server::AccessLog> access_log;
  if (!access_log_path.empty()) {
    access_log = std::make_unique<wsgate::engine::server::AccessLog>(
        wsgate::engine::server::AccessLogOptions{access_log_path, engine_id, access_log_open});
    if (absl::Status s = access_log->Start(); !s.ok()) {
      wsgate::common::StartupError(s.message());
      return 1;
    }
  }

  wsgate::engine::server::ServerOptions options;
  options.access_log = access_log.get();
  options.measure_busy = !admin_listen.empty();
  options.ws_listen = ws_listen;
  if (!tls_cert.empty()) {
    options.wss_listen = wss_listen;
    options.tls = {tls_cert, tls_key};
    WSGATE_LOG(kInfo, "TLS session tickets: %s", wsgate::engine::tls::DescribeTicketKeys());
  } else {
    WSGATE_LOG(kInfo, "wss is off: no --tls-cert/--tls-key");
  }
  options.shards = static_cast<int>(shards);
  options.reuse_port = reuse_port;
  options.max_connections_per_shard = static_cast<int>(max_connections);
  options.buffer_count = static_cast<unsigned>(buffers);
  options.buffer_size = static_cast<unsigned>(buffer_size);
  options.quota = *quota_options;
  wsgate::engine::server::Server server(options);
  if (!config_path.empty()) {
    auto snapshot = wsgate::engine::config::LoadSnapshotFile(config_path);
    if (!snapshot.ok()) {
      wsgate::common::StartupError(snapshot.status().message());
      return 2;
    }
    if (auto r = server.Apply(*snapshot); !r.ok()) {
      wsgate::common::StartupError(absl::StrCat("--config ", config_path, ": ", r.status().message()));
      return 2;
    }
  }
  wsgate::engine::control::ControlServer control_server(server, {*control_path, engine_id});
  // The control path first: an engine that would be refused there must not bind (and with
  // --reuse-port, briefly share) the client ports.
  if (absl::Status s = control_server.Claim(); !s.ok()) {
    wsgate::common::StartupError(s.message());
    return 1;
  }
  if (absl::Status s = server.Start(); !s.ok()) {
    wsgate::common::StartupError(s.message());
    return 1;
  }
  if (absl::Status s = control_server.Start(); !s.ok()) {
    wsgate::common::StartupError(s.message());
    server.Drain(0);
    server.Wait();
    return 1;
  }
  wsgate::engine::admin::AdminServer admin({admin_listen, admin_listen_any},
                                           wsgate::engine::admin::EngineAdminHandler(server));
  if (!admin_listen.empty()) {
    if (absl::Status s = admin.Start(); !s.ok()) {
      wsgate::common::StartupError(s.message());
      control_server.Stop();
      server.Drain(0);
      server.Wait();
      return 1;
    }
    // Not "(port N)": scripts and tests read the ws port from the first "(port " in the log.
    WSGATE_LOG(kInfo, "admin HTTP on %s (admin port %d): /metrics /healthz /readyz /config_dump", admin_listen,
               static_cast<int>(admin.port()));
  }
  WSGATE_LOG(kInfo, "listening for ws on %s (port %s)%s with %d shard(s)%s; control on unix:%s; %s",
             ws_listen, absl::StrJoin(server.ws_ports(), ","),
             options.wss_listen.empty()
                 ? ""
                 : absl::StrCat(" and wss on ", wss_listen, " (port ", absl::StrJoin(server.wss_ports(), ","), ")"),
             server.shard_count(), reuse_port ? " (--reuse-port: sharing the port)" : "", *control_path,
             config_path.empty() ? std::string("no config yet (upgrades answer 503 until the agent pushes one)")
                                 : absl::StrCat("config version ", server.applied_version()));

  // systemd (Type=notify): ready once the listeners are bound and the control socket serves.
  if (absl::Status s = wsgate::common::NotifyServiceManager(
          absl::StrCat("READY=1\nSTATUS=ws port ", absl::StrJoin(server.ws_ports(), ","), ", config version ",
                       server.applied_version()));
      !s.ok())
    WSGATE_LOG(kWarning, "cannot tell the service manager we are ready: %s", std::string(s.message()));

  while (true) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGUSR1 || sig == SIGHUP) {
      if (access_log) access_log->Reopen();
      if (sig == SIGUSR1) continue;
    }
    if (sig == SIGHUP && !tls_ticket_keys.empty()) {
      auto keys = wsgate::engine::tls::LoadTicketKeyFile(tls_ticket_keys);
      if (!keys.ok()) {
        WSGATE_LOG(kError, "SIGHUP: --tls-ticket-keys: %s; keeping the current keys", std::string(keys.status().message()));
      } else {
        wsgate::engine::tls::InstallTicketKeys(*std::move(keys));
        WSGATE_LOG(kInfo, "SIGHUP: TLS session tickets: %s", wsgate::engine::tls::DescribeTicketKeys());
      }
    }
    if (sig == SIGHUP) {
      if (config_path.empty()) {
        WSGATE_LOG(kInfo, "SIGHUP: no --config to reload");
        continue;
      }
      auto snapshot = wsgate::engine::config::LoadSnapshotFile(config_path);
      if (!snapshot.ok()) {
        WSGATE_LOG(kError, "SIGHUP: %s; keeping the current config", std::string(snapshot.status().message()));
        continue;
      }
      snapshot->set_version(server.applied_version() + 1);
      if (auto r = server.Apply(*snapshot); !r.ok())
        WSGATE_LOG(kError, "SIGHUP: %s; keeping the current config", std::string(r.status().message()));
      continue;
    }
    WSGATE_LOG(kInfo, "%s: draining (%s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
               drain_timeout_ms >= 0 ? absl::StrCat("up to ", drain_timeout_ms, " ms, --drain-timeout-ms")
                                     : std::string("up to settings.drain_timeout_ms"));
    break;
  }
  (void)wsgate::common::NotifyServiceManager("STOPPING=1");
  server.Drain(static_cast<int>(drain_timeout_ms));
  server.Wait();
  admin.Stop();
  control_server.Stop();
  if (access_log) access_log->Stop();  // after the shards: their last lines are written
  WSGATE_LOG(kInfo, "stopped");
  return 0;
}
