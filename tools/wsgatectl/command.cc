// File: tools/wsgatectl/command.cc — the helpers every wsgatectl command shares.
#include "tools/wsgatectl/command.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "engine/common/log.h"
#include "engine/common/log_format.h"
#include "tools/wsgatectl/diagnose.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace wsgate::tools::ctl {

void AddGlobalFlags(common::FlagParser& f, Globals& g) {
  f.AddString("agent", &g.agent, "the agent's admin API", "ADDR:PORT");
  f.AddString("data-dir", &g.data_dir, "where the agent keeps admin.token (or set WSGATE_ADMIN_TOKEN)", "DIR");
  f.AddString("output", &g.output, "text or json (also -o json)", "FORMAT");
  f.AddBool("no-wait", &g.no_wait, "do not wait for engines to apply a change");
  AddLogFormatFlag(f);
  f.AddString("credential-file", &g.credential_file, "read the credential from this file (a user's, from `user create`)",
              "FILE");
  f.AddString("ca-file", &g.ca_file, "TLS to the agent, verifying it with this PEM CA (or set WSGATE_CA_FILE)", "FILE");
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
  return Command{std::move(path), std::move(usage), std::move(help), min_args, max_args,
                 [run](common::FlagParser&) -> Runner { return run; }};
}

absl::Status Connect(Ctx& ctx) {
  if (!ctx.globals.credential_file.empty()) {
    absl::StatusOr<std::string> text = ReadFile("--credential-file", ctx.globals.credential_file);
    if (!text.ok()) return text.status();
    ctx.credential = std::string(absl::StripAsciiWhitespace(*text));
    if (ctx.credential.empty())
      return absl::InvalidArgumentError("--credential-file " + ctx.globals.credential_file + ": the file is empty");
  } else if (const char* env = std::getenv("WSGATE_ADMIN_TOKEN"); env && *env) {
    ctx.credential = env;
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
    std::string out;
    google::protobuf::util::JsonPrintOptions o;
    o.add_whitespace = true;
    o.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(reply, &out, o);
    std::cout << out;
    if (out.empty() || out.back() != '\n') std::cout << "\n";
  } else if (!text.empty()) {
    std::cout << text << (text.back() == '\n' ? "" : "\n");
  }
}

void WaitForEngines(const Ctx& ctx) {
  if (ctx.globals.no_wait) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  v1::AgentStatus status;
  while (std::chrono::steady_clock::now() < deadline) {
    status.Clear();
    if (!ctx.stub->GetStatus(CallContext(ctx).get(), v1::Empty(), &status).ok()) return;
    bool done = true;
    for (const auto& e : status.engines())
      if (e.applied_version() < status.config_version()) done = false;
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (const auto& e : status.engines())
    if (e.applied_version() < status.config_version())
      Diagnose(common::LogLevel::kWarning,
               absl::StrCat("engine ", e.target(), " has not applied config version ", status.config_version(),
                            " yet (", e.last_error().empty() ? "pending" : e.last_error(), ")"));
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
