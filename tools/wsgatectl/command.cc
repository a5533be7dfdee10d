// File: tools/wsgatectl/command.cc — the helpers every wsgatectl command shares.
#include "tools/wsgatectl/command.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/log.h"
#include "engine/common/log_format.h"
#include "tools/wsgatectl/cli_config.h"
#include "tools/wsgatectl/diagnose.h"
#include "tools/wsgatectl/output.h"

namespace wsgate::tools::ctl {

void AddGlobalFlags(common::FlagParser& f, Globals& g) {
  f.AddString("agent", &g.agent, "the agent's admin API", "ADDR:PORT");
  f.AddString("data-dir", &g.data_dir, "where the agent keeps admin.token (or set WSGATE_ADMIN_TOKEN)", "DIR");
  f.AddString("output", &g.output, "text, json or yaml (also -o json, -ojson)", "FORMAT");
  f.AddBool("no-wait", &g.no_wait, "do not wait for engines to apply a change");
  AddLogFormatFlag(f);
  f.AddString("credential-file", &g.credential_file, "read the credential from this file (a user's, from `user create`)",
              "FILE");
  f.AddString("ca-file", &g.ca_file, "TLS to the agent, verifying it with this PEM CA (or set WSGATE_CA_FILE)", "FILE");
  f.AddInt("wait-timeout", &g.wait_timeout_s, "seconds to wait for engines to apply a change (then exit 3)", 1, 3600);
}

Command NewCommand(std::string path, std::string usage, std::string help, int min_args, int max_args,
                   std::function<Runner(common::FlagParser& parser)> bind) {
  Command c;
  c.path = std::move(path);
  c.usage = std::move(usage);
  c.help = std::move(help);
  c.min_args = min_args;
  c.max_args = max_args;
  c.bind = std::move(bind);
  return c;
}

namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": cannot read it"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Command MakeCommand(std::string path, std::string usage, std::string help, int min_args, int max_args,
                    absl::Status (*run)(Ctx&)) {
  return NewCommand(std::move(path), std::move(usage), std::move(help), min_args, max_args,
                    [run](common::FlagParser&) -> Runner { return run; });
}

namespace {

// --agent, else $WSGATE_AGENT, else the context's; the context's credential unless --data-dir.
absl::Status ResolveAgent(Globals& g) {
  absl::StatusOr<CliConfig> config = LoadConfig(ConfigPath());
  if (!config.ok()) return config.status();
  absl::StatusOr<const CliContext*> context = ActiveContext(*config);
  if (!context.ok()) return context.status();
  const char* env = std::getenv("WSGATE_AGENT");
  if (!g.agent_set && env && *env) g.agent = env;
  else if (!g.agent_set && *context && !(*context)->agent.empty()) g.agent = (*context)->agent;
  if (!g.data_dir_set && *context) {
    if (!(*context)->data_dir.empty()) g.data_dir = (*context)->data_dir;
    g.context_credential_file = (*context)->credential_file;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Connect(Ctx& ctx) {
  if (absl::Status s = ResolveAgent(ctx.globals); !s.ok()) return s;
  if (!ctx.globals.credential_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile("--credential-file", ctx.globals.credential_file);
    if (!text.ok()) return text.status();
    ctx.credential = std::string(absl::StripAsciiWhitespace(*text));
    if (ctx.credential.empty())
      return absl::InvalidArgumentError("--credential-file " + ctx.globals.credential_file + ": the file is empty");
  } else if (const char* env = std::getenv("WSGATE_ADMIN_TOKEN"); env && *env) {
    ctx.credential = env;
  } else if (!ctx.globals.context_credential_file.empty()) {
    std::ifstream f(ctx.globals.context_credential_file);
    std::string token;
    if (!f || !std::getline(f, token) || token.empty())
      return absl::PermissionDeniedError("cannot read the admin credential from " + ctx.globals.context_credential_file +
                                         " (the context's credential-file; wsgatectl context list)");
    ctx.credential = token;
  } else {
    absl::StatusOr<std::string> credential = agent::AdminCredential(ctx.globals.data_dir, /*create=*/false);
    if (!credential.ok()) return credential.status();
    ctx.credential = *credential;
  }
  std::string ca_file = ctx.globals.ca_file;
  if (const char* env = std::getenv("WSGATE_CA_FILE"); ca_file.empty() && env && *env) ca_file = env;
  std::shared_ptr<grpc::ChannelCredentials> channel = grpc::InsecureChannelCredentials();
  if (!ca_file.empty()) {  // OpenSSL through gRPC; the agent's name must match its certificate
    absl::StatusOr<std::string> ca = ReadFile("--ca-file", ca_file);
    if (!ca.ok()) return ca.status();
    if (ca->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      return absl::InvalidArgumentError("--ca-file " + ca_file + ": no PEM certificate in it");
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = *std::move(ca);
    channel = grpc::SslCredentials(ssl);
  }
  ctx.stub = v1::Admin::NewStub(grpc::CreateChannel(ctx.globals.agent, channel));
  return absl::OkStatus();
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // gRPC's codes are absl's codes, value for value.
  auto code = static_cast<absl::StatusCode>(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE)
    return absl::Status(code, "cannot reach the agent (is wsgate-agent running? --agent; one with --tls-cert needs --ca-file): " +
                                  status.error_message());
  return absl::Status(code, status.error_message());
}

std::unique_ptr<grpc::ClientContext> CallContext(const Ctx& ctx) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->AddMetadata("authorization", "Bearer " + ctx.credential);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return c;
}

void Print(const Ctx& ctx, const google::protobuf::Message& reply, const std::string& text) {
  if (ctx.json()) {
    std::cout << FormatReply(reply, ctx.globals.output);
  } else if (!text.empty()) {
    std::cout << text << (text.back() == '\n' ? "" : "\n");
  }
}

namespace {

// "1 engine: unix:/run/e.sock (connection refused)" for the engines behind `status`'s version.
std::string Pending(const v1::AgentStatus& status) {
  std::string names;
  int n = 0;
  for (const auto& e : status.engines()) {
    if (e.applied_version() >= status.config_version()) continue;
    ++n;
    absl::StrAppend(&names, names.empty() ? "" : ", ", e.target(), " (",
                    e.last_error().empty() ? (e.reachable() ? "applying" : "unreachable") : e.last_error(), ")");
  }
  return absl::StrCat(n, n == 1 ? " engine: " : " engines: ", names);
}

}  // namespace

void WaitForEngines(const Ctx& ctx) {
  if (ctx.globals.no_wait) return;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::seconds(ctx.globals.wait_timeout_s);
  auto next_progress = start + std::chrono::milliseconds(500);
  v1::AgentStatus status;
  while (true) {
    status.Clear();
    if (grpc::Status st = ctx.stub->GetStatus(CallContext(ctx).get(), v1::Empty(), &status); !st.ok()) {
      ctx.wait_failure = "cannot ask whether engines applied the change: " + std::string(FromGrpc(st).message());
      return;
    }
    bool done = true;
    for (const auto& e : status.engines())
      if (e.applied_version() < status.config_version()) done = false;
    if (done) return;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    if (now >= next_progress) {
      Diagnose(common::LogLevel::kInfo, absl::StrCat("waiting for ", Pending(status)));
      next_progress = now + std::chrono::seconds(2);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ctx.wait_failure = absl::StrCat("timed out after ", ctx.globals.wait_timeout_s, " s waiting for ", Pending(status),
                                  " to apply config version ", status.config_version(),
                                  " (the change is saved; --wait-timeout waits longer, `wsgatectl status` shows engines)");
}

absl::StatusOr<std::string> ValueOrStdin(const std::string& value, const std::string& what, bool trim) {
  if (value != "-") return value;
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (trim)
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return absl::InvalidArgumentError(what + " -: stdin was empty");
  return text;
}

int ExitCode(const absl::Status& status) {
  if (status.ok()) return 0;
  Diagnose(common::LogLevel::kError, std::string_view(status.message().data(), status.message().size()));
  return 1;
}

namespace {
std::string g_log_format = "text";  // --log-format: one per process, like the format it sets
}  // namespace

void AddLogFormatFlag(common::FlagParser& f) {
  f.AddString("log-format", &g_log_format, "how failures and warnings are written to stderr: text or json", "FORMAT");
}

absl::Status ApplyLogFormat() {
  common::LogFormat format;
  if (!common::ParseLogFormat(g_log_format, &format))
    return absl::InvalidArgumentError(absl::StrCat("--log-format: '", g_log_format, "' is not text or json"));
  common::SetLogFormat(format);
  common::SetLogTag("wsgatectl");
  return absl::OkStatus();
}

void Diagnose(common::LogLevel level, std::string_view message) {
  common::PrintDiagnostic(level, common::Sv(message));
}

}  // namespace wsgate::tools::ctl
