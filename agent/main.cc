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
#include "agent/listen_policy.h"
#include "agent/oauth_server.h"
#include "agent/paths.h"
#include "agent/pusher.h"
#include "engine/common/flags.h"
#include "engine/common/log.h"

int main(int argc, char** argv) {
  using namespace wsgate::agent;
  std::string data_dir = DefaultDataDir();
  std::vector<std::string> engines;
  std::string admin_listen = "127.0.0.1:9400";
  std::string token_listen = "127.0.0.1:9401";
  std::string issuer = "wsgate";
  OAuthLimits oauth_limits;
  int64_t max_failures_per_client = oauth_limits.max_failures_per_client;
  int64_t max_failures_per_address = oauth_limits.max_failures_per_address;
  std::string metrics_listen;  // "": no metrics listener
  bool metrics_allow_remote = false;
  std::string tls_cert, tls_key;
  bool insecure_listen = false;
  wsgate::common::FlagParser flags(
      "wsgate-agent",
      "The wsgate control plane: the catalog of APIs, applications, subscriptions, keys and policies\n"
      "(SQLite in --data-dir), the OAuth2 token endpoint, and the config pushed to every engine.\n\n"
      "  wsgate-agent --engine unix:/run/wsgate/engine.sock\n"
      "  wsgatectl api list            # talks to it with the admin credential in the data directory\n\n"
      "Signals: SIGTERM/SIGINT stop it cleanly; every acknowledged change is already on disk.");
  flags.AddString("data-dir", &data_dir, "state: catalog.db, admin.token, agent.lock (0600, one agent per dir); $WSGATE_HOME or ~/.local/state/wsgate",
                  "DIR");
  flags.AddList("engine", &engines,
                "an engine's control socket (its --control) to keep up to date, and the gateway environment it serves "
                "(default: \"Production and Sandbox\"); repeatable",
                "unix:PATH[@ENV]");
  flags.AddString("admin-listen", &admin_listen, "admin gRPC API (with reflection)", "ADDR:PORT");
  flags.AddString("metrics-listen", &metrics_listen,
                  "Prometheus /metrics over HTTP, e.g. 127.0.0.1:9402 (loopback only; default: off)", "ADDR:PORT");
  flags.AddBool("metrics-allow-remote", &metrics_allow_remote, "allow --metrics-listen on a non-loopback address");
  flags.AddString("token-listen", &token_listen, "OAuth2 token endpoint (HTTP, or HTTPS with --tls-cert)", "ADDR:PORT");
  flags.AddString("tls-cert", &tls_cert,
                  "PEM certificate chain: the admin API and the token endpoint serve TLS with it (OpenSSL)", "FILE");
  flags.AddString("tls-key", &tls_key, "PEM private key of --tls-cert", "FILE");
  flags.AddBool("insecure-listen", &insecure_listen,
                "allow --admin-listen/--token-listen off loopback without TLS (only behind a TLS proxy on this host)");
  flags.AddString("issuer", &issuer, "the iss claim of issued tokens", "TEXT");
  flags.AddInt("token-max-failures", &max_failures_per_client,
               "failed authentications of one client id per 60 s before the token endpoint answers 429", 1, 1000000);
  flags.AddInt("token-max-failures-per-address", &max_failures_per_address,
               "failed client authentications from one address per 60 s before it answers 429", 1, 1000000);
  if (int code = flags.ParseCommandLine(argc, argv); code >= 0) return code;

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Every file the agent creates (catalog.db and its -wal/-shm, admin.token, agent.lock) is 0600:
  // the catalog holds the private signing keys.
  umask(077);

  absl::StatusOr<TlsFiles> tls = LoadTlsFiles(tls_cert, tls_key);
  absl::Status listen_ok = tls.status();
  if (listen_ok.ok()) listen_ok = CheckListen("--admin-listen", admin_listen, tls->enabled(), insecure_listen);
  if (listen_ok.ok()) listen_ok = CheckListen("--token-listen", token_listen, tls->enabled(), insecure_listen);
  if (!listen_ok.ok()) {
    std::cerr << "wsgate-agent: " << listen_ok.message() << "\n";
    return 2;
  }

  absl::Status dir = EnsurePrivateDir(data_dir);
  if (dir.ok()) dir = LockDataDir(data_dir);
  if (!dir.ok()) {
    std::cerr << "wsgate-agent: " << dir.message() << "\n";
    return 1;
  }
  auto credential = AdminCredential(data_dir, /*create=*/true);
  if (!credential.ok()) {
    std::cerr << "wsgate-agent: " << credential.status().message() << "\n";
    return 1;
  }
  CatalogOptions options;
  options.issuer = issuer;
  auto catalog = Catalog::Open(data_dir + "/catalog.db", options);
  if (!catalog.ok()) {
    std::cerr << "wsgate-agent: " << catalog.status().message() << "\n";
    return 1;
  }
  std::vector<EngineTarget> targets;
  for (const auto& e : engines) {
    auto target = ParseEngineTarget(e, options.environment);
    if (!target.ok()) {
      std::cerr << "wsgate-agent: " << target.status().message() << "\n";
      return 2;
    }
    if (!(*catalog)->GetEnvironment(target->environment).ok())
      WSGATE_LOG(kWarning, "--engine %s: no gateway environment '%s' yet; it gets config once `wsgatectl env create` makes it",
                 target->target, target->environment);
    targets.push_back(*std::move(target));
  }
  Pusher pusher(**catalog, targets);
  (*catalog)->SetChangeListener([&pusher](uint64_t) { pusher.Notify(); });
  pusher.Start();

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
    std::cerr << "wsgate-agent: --admin-listen " << admin_listen << ": cannot listen (address in use? another wsgate-agent?)\n";
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
    std::cerr << "wsgate-agent: " << s.message() << "\n";
    server->Shutdown();
    pusher.Stop();
    return 1;
  }
  WSGATE_LOG(kInfo, "admin API on %s (port %d)%s; token endpoint on %s://%s (port %d); data in %s; engines: %s",
             admin_listen, admin_port, tls->enabled() ? " with TLS" : "", tls->enabled() ? "https" : "http",
             token_listen, oauth.port(), data_dir,
             engines.empty() ? "none" : absl::StrJoin(engines, ", "));
  MetricsServer metrics(**catalog, pusher, rpc_counters, &oauth_counters);
  if (!metrics_listen.empty()) {
    if (absl::Status s = metrics.Start(metrics_listen, metrics_allow_remote); !s.ok()) {
      std::cerr << "wsgate-agent: " << s.message() << "\n";
      oauth.Stop();
      server->Shutdown();
      pusher.Stop();
      return 1;
    }
    WSGATE_LOG(kInfo, "metrics on http://%s/metrics (port %d)", metrics_listen, metrics.port());
  }

  int sig = 0;
  sigwait(&signals, &sig);
  WSGATE_LOG(kInfo, "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  metrics.Stop();
  oauth.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  pusher.Stop();
  WSGATE_LOG(kInfo, "stopped");
  return 0;
}
