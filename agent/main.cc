// File: agent/main.cc — wsgate-agent: flags, data directory, signals; then Catalog, Pusher,
// the admin gRPC server and the OAuth2 endpoint.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/admin_audit.h"
#include "agent/admin_service.h"
#include "agent/metrics.h"
#include "agent/catalog.h"
#include "agent/console_server.h"
#include "agent/json_api.h"
#include "agent/jwks_fetcher.h"
#include "agent/listen_policy.h"
#include "agent/oauth_server.h"
#include "agent/paths.h"
#include "agent/pusher.h"
#include "engine/common/flags.h"
#include "engine/common/log.h"
#include "engine/common/service.h"
#include "engine/common/log_format.h"

int main(int argc, char** argv) {
  using namespace wsgate::agent;
  std::string data_dir = DefaultDataDir();
  std::string catalog_flag;  // "": <data-dir>/catalog.db
  std::vector<std::string> engines;
  std::string admin_listen = "127.0.0.1:9400";
  std::string token_listen = "127.0.0.1:9401";
  std::string issuer = "wsgate";
  OAuthLimits oauth_limits;
  int64_t max_failures_per_client = oauth_limits.max_failures_per_client;
  int64_t max_failures_per_address = oauth_limits.max_failures_per_address;
  std::string metrics_listen;  // "": no metrics listener
  std::string console_listen = "127.0.0.1:9443";
  bool metrics_allow_remote = false;
  std::string tls_cert, tls_key;
  bool insecure_listen = false;
  wsgate::common::FlagParser flags(
      "wsgate-agent",
      "The wsgate control plane: the catalog of APIs, applications, subscriptions, keys and policies\n"
      "(SQLite in --data-dir, or PostgreSQL with --catalog), the OAuth2 token endpoint, and the config pushed to every engine.\n\n"
      "  wsgate-agent --engine unix:/run/wsgate/engine.sock\n"
      "  wsgatectl api list            # talks to it with the admin credential in the data directory\n\n"
      "Signals: SIGTERM/SIGINT stop it cleanly; every acknowledged change is already on disk.");
  flags.AddString("data-dir", &data_dir, "state: catalog.db, admin.token, agent.lock (0600, one agent per dir); $WSGATE_HOME or ~/.local/state/wsgate",
                  "DIR");
  flags.AddString("catalog", &catalog_flag,
                  "where the catalog lives: sqlite:PATH (default: <data-dir>/catalog.db) or a PostgreSQL database, "
                  "postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=...] (docs/operations.md)",
                  "sqlite:PATH|postgres://...");
  flags.AddList("engine", &engines,
                "an engine's control socket (its --control) to keep up to date, and the gateway environment it serves "
                "(default: \"Production and Sandbox\"); without --engine, the engine's own default "
                "--control (unix:$WSGATE_RUN_DIR/engine.sock, else unix:$XDG_RUNTIME_DIR/wsgate-engine.sock, else "
                "unix:/tmp/wsgate-UID-engine.sock); --engine \"\": none",
                "unix:PATH[@ENV]");
  flags.AddString("admin-listen", &admin_listen, "admin gRPC API (with reflection)", "ADDR:PORT");
  flags.AddString("metrics-listen", &metrics_listen,
                  "Prometheus /metrics over HTTP, e.g. 127.0.0.1:9402 (loopback only; default: off)", "ADDR:PORT");
  flags.AddBool("metrics-allow-remote", &metrics_allow_remote, "allow --metrics-listen on a non-loopback address");
  flags.AddString("token-listen", &token_listen, "OAuth2 token endpoint (HTTP)", "ADDR:PORT");
  flags.AddString("console-listen", &console_listen,
                  "the web console and the HTTP/JSON admin API (HTTPS with --tls-cert; off loopback only with TLS or "
                  "--insecure-listen; \"off\" disables it)", "ADDR:PORT");
  flags.AddString("token-listen", &token_listen, "OAuth2 token endpoint (HTTP, or HTTPS with --tls-cert)", "ADDR:PORT");
  flags.AddString("tls-cert", &tls_cert,
                  "PEM certificate chain: the admin API and the token endpoint serve TLS with it (OpenSSL)", "FILE");
  flags.AddString("tls-key", &tls_key, "PEM private key of --tls-cert", "FILE");
  flags.AddBool("insecure-listen", &insecure_listen,
                "allow --admin-listen/--token-listen off loopback without TLS (only behind a TLS proxy on this host)");
  flags.AddString("issuer", &issuer, "the iss claim of issued tokens", "TEXT");
  JwksFetchOptions jwks;
  flags.AddInt("jwks-min-refresh", &jwks.bounds.min_refresh_s,
               "identity providers' JWKS: seconds an answer stays fresh at least, whatever its Cache-Control max-age",
               1, 86400);
  flags.AddInt("token-max-failures", &max_failures_per_client,
               "failed authentications of one client id per 60 s before the token endpoint answers 429", 1, 1000000);
  flags.AddInt("token-max-failures-per-address", &max_failures_per_address,
               "failed client authentications from one address per 60 s before it answers 429", 1, 1000000);
  if (int code = flags.ParseCommandLine(argc, argv); code >= 0) return code;
  // No --engine: the engine a plain `wsgate-engine` on this host serves; --engine "": none.
  if (engines.empty()) engines.push_back(wsgate::common::DefaultEngineControlTarget());
  std::erase(engines, std::string());

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Every file the agent creates (catalog.db and its -wal/-shm, admin.token, agent.lock) is 0600:
  // the catalog holds the private signing keys.
  umask(077);

  absl::StatusOr<std::string> catalog_target = CatalogTarget(catalog_flag, data_dir);
  if (!catalog_target.ok()) {
    std::cerr << "wsgate-agent: " << catalog_target.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<TlsFiles> tls = LoadTlsFiles(tls_cert, tls_key);
  absl::Status listen_ok = tls.status();
  if (listen_ok.ok()) listen_ok = CheckListen("--admin-listen", admin_listen, tls->enabled(), insecure_listen);
  if (listen_ok.ok()) listen_ok = CheckListen("--token-listen", token_listen, tls->enabled(), insecure_listen);
  if (listen_ok.ok() && console_listen != "off")
    listen_ok = CheckListen("--console-listen", console_listen, tls->enabled(), insecure_listen);
  if (!listen_ok.ok()) {
    std::cerr << "wsgate-agent: " << listen_ok.message() << "\n";
    return 2;
  }

  absl::Status dir = EnsurePrivateDir(data_dir);
  if (dir.ok()) dir = LockDataDir(data_dir);
  if (!dir.ok()) {
    wsgate::common::StartupError(dir.message());
    return 1;
  }
  auto credential = AdminCredential(data_dir, /*create=*/true);
  if (!credential.ok()) {
    wsgate::common::StartupError(credential.status().message());
    return 1;
  }
  CatalogOptions options;
  options.issuer = issuer;
  auto catalog = Catalog::Open(*catalog_target, options);
  if (!catalog.ok()) {
    wsgate::common::StartupError(CatalogOpenError(*catalog_target, catalog.status()));
    return 1;
  }
  std::vector<EngineTarget> targets;
  for (const auto& e : engines) {
    auto target = ParseEngineTarget(e, options.environment);
    if (!target.ok()) {
      wsgate::common::StartupError(target.status().message());
      return 2;
    }
    if (!(*catalog)->GetEnvironment(target->environment).ok())
      WSGATE_LOG(kWarning, "--engine %s: no gateway environment '%s' yet; it gets config once `wsgatectl env create` makes it",
                 target->target, target->environment);
    targets.push_back(*std::move(target));
  }
  jwks.bounds.first_retry_s = std::min(jwks.bounds.first_retry_s, jwks.bounds.min_refresh_s);
  Pusher pusher(**catalog, targets);
  JwksFetcher jwks_fetcher(**catalog, jwks);  // identity providers' keys (issue 14 item 6)
  (*catalog)->SetChangeListener([&pusher, &jwks_fetcher](uint64_t) {
    pusher.Notify();
    jwks_fetcher.Notify();
  });
  pusher.Start();
  jwks_fetcher.Start();

  ConnectionFanout connections(**catalog, targets);
  CallMethods call_methods;
  AdminService admin(**catalog, pusher, connections, *credential, call_methods);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int admin_port = 0;
  std::shared_ptr<grpc::ServerCredentials> admin_credentials = grpc::InsecureServerCredentials();
  if (tls->enabled()) {  // OpenSSL 3 through gRPC; the agent never links BoringSSL (DESIGN.md)
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_pem});
    admin_credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(admin_listen, admin_credentials, &admin_port);
  // gRPC sets SO_REUSEPORT by default: a second agent on the same address would start and take
  // every other wsgatectl call to its own catalog.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&admin);
  PairCounters rpc_counters;
  auto interceptors = AuditInterceptors(**catalog, &rpc_counters);  // audit, metrics
  interceptors.push_back(call_methods.Factory());                    // the RPC's name, for its roles
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || admin_port == 0) {
    wsgate::common::StartupError(
        absl::StrCat("--admin-listen ", admin_listen, ": cannot listen (address in use? another wsgate-agent?)"));
    pusher.Stop();
    return 1;
  }
  oauth_limits.max_failures_per_client = static_cast<int>(max_failures_per_client);
  oauth_limits.max_failures_per_address = static_cast<int>(max_failures_per_address);
  OAuthServer oauth(**catalog, oauth_limits);
  if (tls->enabled()) {
    if (absl::Status s = oauth.EnableTls(tls->cert_pem, tls->key_pem); !s.ok()) {
      std::cerr << "wsgate-agent: --tls-cert/--tls-key: " << s.message() << "\n";
      server->Shutdown();
      pusher.Stop();
      return 1;
    }
  }
  PairCounters oauth_counters;
  oauth.CountInto(&oauth_counters);
  if (absl::Status s = oauth.Start(token_listen); !s.ok()) {
    wsgate::common::StartupError(s.message());
    server->Shutdown();
    pusher.Stop();
    return 1;
  }
  WSGATE_LOG(kInfo, "admin API on %s (port %d)%s; token endpoint on %s://%s (port %d); data in %s; engines: %s",
             admin_listen, admin_port, tls->enabled() ? " with TLS" : "", tls->enabled() ? "https" : "http",
             token_listen, oauth.port(), data_dir,
             engines.empty() ? "none" : absl::StrJoin(engines, ", "));
  MetricsServer metrics(**catalog, pusher, rpc_counters, &oauth_counters);
  metrics.SetJwksFetcher(&jwks_fetcher);
  if (!metrics_listen.empty()) {
    if (absl::Status s = metrics.Start(metrics_listen, metrics_allow_remote); !s.ok()) {
      wsgate::common::StartupError(s.message());
      oauth.Stop();
      server->Shutdown();
      pusher.Stop();
      return 1;
    }
    WSGATE_LOG(kInfo, "metrics on http://%s/metrics (port %d)", metrics_listen, metrics.port());
  }

  // The console calls the admin API through the server's in-process channel: the same
  // authentication, roles, audit and metrics as wsgatectl.
  JsonApi json_api(server->InProcessChannel(grpc::ChannelArguments()));
  ConsoleServer console(json_api);
  if (console_listen != "off") {
    if (absl::Status s = console.Start(console_listen, tls_cert, tls_key); !s.ok()) {
      std::cerr << "wsgate-agent: " << s.message() << "\n";
      metrics.Stop();
      oauth.Stop();
      server->Shutdown();
      pusher.Stop();
      return 1;
    }
    WSGATE_LOG(kInfo, "console and HTTP/JSON admin API on %s://%s/ (port %d)", tls->enabled() ? "https" : "http",
               console_listen, console.port());
  }
  // systemd (Type=notify): ready once the admin API and the token endpoint accept calls.
  if (absl::Status s = wsgate::common::NotifyServiceManager(
          absl::StrCat("READY=1\nSTATUS=admin API on port ", admin_port, ", token endpoint on port ", oauth.port()));
      !s.ok())
    WSGATE_LOG(kWarning, "cannot tell the service manager we are ready: %s", std::string(s.message()));

  int sig = 0;
  sigwait(&signals, &sig);
  WSGATE_LOG(kInfo, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  console.Stop();
  (void)wsgate::common::NotifyServiceManager("STOPPING=1");
  metrics.Stop();
  oauth.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  (*catalog)->StopWatching();  // no more calls into the pusher from another agent's changes
  jwks_fetcher.Stop();
  pusher.Stop();
  WSGATE_LOG(kInfo, "stopped");
  return 0;
}
