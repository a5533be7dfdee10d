// File: tools/wsgatectl/command.h — what a wsgatectl command is made of, and what commands share.
//
// A command is a row of the table main.cc dispatches on (`Command`): its words, usage and help,
// how many positional arguments it takes, and a function that adds its flags to the parser and
// returns its run. The flags live in a struct of the command's own (no state shared between
// commands); its run gets the parsed arguments and a stub (`Ctx`), calls the agent with `Call`,
// prints with `Print`, and returns OK or the one-line error main prints (exit 1).
//
//   struct PlanFlags {
//     std::string plan;
//     void Register(common::FlagParser& f) { f.AddString("plan", &plan, "business plan", "PLAN"); }
//   };
//   absl::Status Subscribe(Ctx& ctx, const PlanFlags& flags) {
//     v1::CreateSubscriptionRequest req;
//     ...
//     v1::SubscriptionInfo resp;
//     if (absl::Status s = Call(ctx, &Stub::CreateSubscription, req, resp); !s.ok()) return s;
//     Print(ctx, resp, "Subscribed ...");
//     return absl::OkStatus();
//   }
//   commands.push_back(MakeCommand("subscription create", "APP API --plan PLAN", "...", 2, 2, &Subscribe));
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/paths.h"
#include "engine/common/flags.h"
#include "wsgate/v1/admin.grpc.pb.h"

namespace wsgate::tools::ctl {

namespace v1 = wsgate::v1;
using Stub = v1::Admin::Stub;  // Call(ctx, &Stub::GetApi, ...)

// Flags and settings every command understands.
// --agent/--data-dir may come from $WSGATE_AGENT or a named context (cli_config.h).
struct Globals {
  std::string agent = "127.0.0.1:9400";
  std::string data_dir = wsgate::agent::DefaultDataDir();
  std::string output = "text";
  bool no_wait = false;
  // The admin credential from this file instead of WSGATE_ADMIN_TOKEN / <data-dir>/admin.token.
  std::string credential_file;
  // TLS to the agent, verifying its certificate against this PEM CA bundle (or $WSGATE_CA_FILE).
  std::string ca_file;
  int64_t wait_timeout_s = 10;   // --wait-timeout
  bool agent_set = false;        // --agent was on the command line
  bool data_dir_set = false;     // --data-dir was on the command line
  std::string context_credential_file;  // from the context: a file holding the admin token
};

// Adds the globals' flags (before a command adds its own, so --help lists them first).
void AddGlobalFlags(common::FlagParser& parser, Globals& globals);

// What a command's run gets.
struct Ctx {
  Globals globals;
  std::vector<std::string> args;  // positional arguments after GROUP VERB
  std::unique_ptr<Stub> stub;
  std::string credential;
  // Set by WaitForEngines when engines did not apply the change in time (or could not be asked):
  // main prints it and exits 3 after the command's own output.
  mutable std::string wait_failure;
  // A document (-o json or -o yaml) rather than text: Print() writes the reply in that format.
  bool json() const { return globals.output == "json" || globals.output == "yaml"; }
};

// Runs a command whose flags are parsed: OK, or the error main prints as one line (exit 1).
using Runner = std::function<absl::Status(Ctx&)>;

struct Command {
  std::string path;   // "api create"
  std::string usage;  // "NAME --context CTX --version V --endpoint URL"
  std::string help;
  int min_args = 0, max_args = 0;  // positional arguments; max -1 = any
  // Adds the command's flags to `parser` (after the globals) and returns the run, which reads
  // the values Parse() stores in them. Call it before Parse(); each call has its own flags.
  // A flag the command cannot do without: parser.MarkRequired("version") after adding it, and
  // main says "--version is required" before any RPC.
  std::function<Runner(common::FlagParser& parser)> bind;
  // A command that needs no agent (context, completion): main does not Connect() first.
  bool local = false;
};

// A table row from its parts (what both MakeCommands build).
Command NewCommand(std::string path, std::string usage, std::string help, int min_args, int max_args,
                   std::function<Runner(common::FlagParser& parser)> bind);

// A command with flags: `Flags` is default-constructible with `void Register(FlagParser&)`. The
// run owns the flags' storage; the parser points into it, so keep the run while parsing.
template <typename Flags>
Command MakeCommand(std::string path, std::string usage, std::string help, int min_args, int max_args,
                    absl::Status (*run)(Ctx&, const Flags&)) {
  return NewCommand(std::move(path), std::move(usage), std::move(help), min_args, max_args,
                    [run](common::FlagParser& parser) -> Runner {
                      auto flags = std::make_shared<Flags>();
                      flags->Register(parser);
                      return [run, flags](Ctx& ctx) { return run(ctx, *flags); };
                    });
}

// A command with no flags of its own.
Command MakeCommand(std::string path, std::string usage, std::string help, int min_args, int max_args,
                    absl::Status (*run)(Ctx&));

// Resolves --agent ($WSGATE_AGENT, the context: cli_config.h), reads the credential
// (--credential-file, else WSGATE_ADMIN_TOKEN, else the context's credential file, else
// <data-dir>/admin.token) and opens the channel to --agent (gRPC connects on the first RPC): TLS
// verified against --ca-file / $WSGATE_CA_FILE when given, else plaintext.
absl::Status Connect(Ctx& ctx);

// A failed RPC as the CLI reports it: gRPC's code and message; UNAVAILABLE says to start the agent.
absl::Status FromGrpc(const grpc::Status& status);

// A call's context: the credential, and a 30 s deadline.
std::unique_ptr<grpc::ClientContext> CallContext(const Ctx& ctx);

// Calls one Admin RPC: Call(ctx, &Stub::GetApi, request, response).
template <typename Request, typename Response>
absl::Status Call(const Ctx& ctx,
                  grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request, Response& response) {
  return FromGrpc((ctx.stub.get()->*rpc)(CallContext(ctx).get(), request, &response));
}

// Prints a reply: with -o json|yaml the message in that format (output.h: every field, proto
// field names), else `text` with a
// final newline (nothing when `text` is empty).
void Print(const Ctx& ctx, const google::protobuf::Message& reply, const std::string& text);

// After a data-plane change: waits (up to --wait-timeout, 10 s; not with --no-wait) until every
// engine has applied the agent's config version, printing progress on stderr ("waiting for 1
// engine: unix:... connection refused"); when they do not, sets ctx.wait_failure (exit 3).
void WaitForEngines(const Ctx& ctx);

// A secret given as `-` is read from stdin (issue 17: secrets need not be on the command line):
// `value` itself otherwise. `trim`: drop the final newline (a token, not a PEM file). Errors name
// `what` ("TOKEN", "--key").
absl::StatusOr<std::string> ValueOrStdin(const std::string& value, const std::string& what, bool trim);

// Prints a failure as the one line `wsgatectl: <message>` on stderr. Returns the exit code: 0
// for OK, else 1 (2 is a usage mistake, 3 engines that did not apply a change in time).
int ExitCode(const absl::Status& status);

}  // namespace wsgate::tools::ctl
