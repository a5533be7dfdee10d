// File: tools/wsgatectl/command.cc — the helpers every wsgatectl command shares.
#include "tools/wsgatectl/command.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/cli_config.h"
#include "tools/wsgatectl/output.h"

namespace wsgate::tools::ctl {

void AddGlobalFlags(common::FlagParser& f, Globals& g) {
  f.AddString("agent", &g.agent, "the agent's admin API", "ADDR:PORT");
  f.AddString("data-dir", &g.data_dir, "where the agent keeps admin.token (or set WSGATE_ADMIN_TOKEN)", "DIR");
  f.AddString("output", &g.output, "text, json or yaml (also -o json, -ojson)", "FORMAT");
  f.AddBool("no-wait", &g.no_wait, "do not wait for engines to apply a change");
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
    g.credential_file = (*context)->credential_file;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Connect(Ctx& ctx) {
  if (absl::Status s = ResolveAgent(ctx.globals); !s.ok()) return s;
  if (const char* env = std::getenv("WSGATE_ADMIN_TOKEN"); env && *env) {
    ctx.credential = env;
  } else if (!ctx.globals.credential_file.empty()) {
    std::ifstream f(ctx.globals.credential_file);
    std::string token;
    if (!f || !std::getline(f, token) || token.empty())
      return absl::PermissionDeniedError("cannot read the admin credential from " + ctx.globals.credential_file +
                                         " (the context's credential-file; wsgatectl context list)");
    ctx.credential = token;
  } else {
    absl::StatusOr<std::string> credential = agent::AdminCredential(ctx.globals.data_dir, /*create=*/false);
    if (!credential.ok()) return credential.status();
    ctx.credential = *credential;
  }
  ctx.stub = v1::Admin::NewStub(grpc::CreateChannel(ctx.globals.agent, grpc::InsecureChannelCredentials()));
  return absl::OkStatus();
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // gRPC's codes are absl's codes, value for value.
  auto code = static_cast<absl::StatusCode>(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE)
    return absl::Status(code, "cannot reach the agent (is wsgate-agent running? --agent): " + status.error_message());
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
      std::cerr << "wsgatectl: waiting for " << Pending(status) << "\n";
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
  std::cerr << "wsgatectl: " << status.message() << "\n";
  return 1;
}

}  // namespace wsgate::tools::ctl
