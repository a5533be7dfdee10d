// File: tools/wsgatectl/commands/app.cc — `wsgatectl app ...`: applications, the developer's
// side (they hold subscriptions and consumer keys).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

std::string Scopes(const v1::ApplicationInfo& app) {
  return app.scopes().empty() ? "none" : absl::StrJoin(app.scopes(), ",");
}

std::string FormatName(v1::TokenFormat f) { return f == v1::TOKEN_FORMAT_OPAQUE ? "opaque" : "jwt"; }

// --token-format (issue 14 item 5): what /oauth2/token and `wsgatectl token` issue to the app.
absl::StatusOr<v1::TokenFormat> ParseTokenFormat(const std::string& text) {
  if (text == "jwt") return v1::TOKEN_FORMAT_JWT;
  if (text == "opaque") return v1::TOKEN_FORMAT_OPAQUE;
  return absl::InvalidArgumentError(absl::StrCat("--token-format: '", text, "' is not jwt or opaque"));
}

constexpr const char* kTokenFormatHelp =
    "jwt (default) or opaque: the format of the tokens issued to it (opaque: the agent keeps only a hash)";

struct CreateFlags {
  std::string owner, policy, description;
  std::vector<std::string> scopes;
  std::string token_format = "jwt";
  void Register(common::FlagParser& f) {
    f.AddString("owner", &owner, "owner (default: the caller; only admin may name another user)", "NAME");
    f.AddString("token-format", &token_format, kTokenFormatHelp, "jwt|opaque");
    f.AddString("policy", &policy, "application throttle policy (default Unlimited)", "POLICY");
    f.AddString("description", &description, "free text", "TEXT");
    f.AddList("scope", &scopes, "a scope its tokens may carry (repeatable)", "SCOPE");
  }
};

absl::Status Create(Ctx& ctx, const CreateFlags& flags) {
  v1::CreateApplicationRequest req;
  for (const auto& scope : flags.scopes) req.add_scopes(scope);
  req.set_name(ctx.args[0]);
  req.set_owner(flags.owner);
  req.set_throttle_policy(flags.policy);
  req.set_description(flags.description);
  absl::StatusOr<v1::TokenFormat> format = ParseTokenFormat(flags.token_format);
  if (!format.ok()) return format.status();
  req.set_token_format(*format);
  v1::ApplicationInfo resp;
  if (absl::Status s = Call(ctx, &Stub::CreateApplication, req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat("Created application ", resp.name(), " (id ", resp.id(), ")"));
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ListApplicationsResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListApplications, v1::ListApplicationsRequest(), resp); !s.ok()) return s;
  std::string text = resp.applications().empty() ? "No applications yet (wsgatectl app create ...)" : "";
  for (const auto& a : resp.applications())
    absl::StrAppend(&text, a.name(), "\t", a.owner(), "\t", a.throttle_policy(), a.blocked() ? "\tBLOCKED" : "", "\t",
                    a.id(), "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

absl::Status Get(Ctx& ctx) {
  v1::ApplicationRef req;
  req.set_application(ctx.args[0]);
  v1::ApplicationInfo resp;
  if (absl::Status s = Call(ctx, &Stub::GetApplication, req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat(resp.name(), "  owner ", resp.owner(), "  policy ", resp.throttle_policy(),
                                resp.blocked() ? "  BLOCKED" : "", "  scopes ", Scopes(resp), "  tokens ",
                                FormatName(resp.token_format()), "  id ", resp.id()));
  return absl::OkStatus();
}

struct UpdateFlags {
  std::vector<std::string> scopes;
  std::string policy, token_format;
  void Register(common::FlagParser& f) {
    f.AddList("scope", &scopes, "a granted scope (repeatable; replaces the old ones)", "SCOPE");
    f.AddString("token-format", &token_format, kTokenFormatHelp, "jwt|opaque");
    f.AddString("policy", &policy, "the application-level throttle policy (e.g. Unlimited)", "POLICY");
  }
};

absl::Status Update(Ctx& ctx, const UpdateFlags& flags) {
  v1::UpdateApplicationRequest req;
  req.set_application(ctx.args[0]);
  // Scopes are replaced when --scope is given, or when nothing else is (`app update APP` revokes all).
  bool scopes = !flags.scopes.empty() || (flags.policy.empty() && flags.token_format.empty());
  if (scopes) req.mutable_scopes();  // present even when empty: revokes all
  for (const auto& scope : flags.scopes) req.mutable_scopes()->add_scopes(scope);
  if (!flags.policy.empty()) req.set_throttle_policy(flags.policy);
  if (!flags.token_format.empty()) {
    absl::StatusOr<v1::TokenFormat> format = ParseTokenFormat(flags.token_format);
    if (!format.ok()) return format.status();
    req.set_token_format(*format);
  }
  v1::ApplicationInfo resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateApplication, req, resp); !s.ok()) return s;
  if (!flags.policy.empty()) WaitForEngines(ctx);
  Print(ctx, resp,
        absl::StrCat(resp.name(), " scopes: ", Scopes(resp), "; policy ",
                     resp.throttle_policy().empty() ? "Unlimited" : resp.throttle_policy(), "; tokens ",
                     FormatName(resp.token_format())));
  return absl::OkStatus();
}

absl::Status Delete(Ctx& ctx) {
  v1::ApplicationRef req;
  req.set_application(ctx.args[0]);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteApplication, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, "Deleted application " + ctx.args[0]);
  return absl::OkStatus();
}

absl::Status SetBlocked(Ctx& ctx, bool blocked) {
  v1::UpdateApplicationRequest req;
  req.set_application(ctx.args[0]);
  req.set_blocked(blocked);
  v1::ApplicationInfo resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateApplication, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat(resp.name(), blocked ? " is blocked" : " is unblocked"));
  return absl::OkStatus();
}

absl::Status Block(Ctx& ctx) { return SetBlocked(ctx, true); }
absl::Status Unblock(Ctx& ctx) { return SetBlocked(ctx, false); }

}  // namespace

void AddAppCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("app create", "NAME", "create an application", 1, 1, &Create));
  commands.push_back(MakeCommand("app list", "", "list applications", 0, 0, &List));
  commands.push_back(MakeCommand("app get", "APP", "show an application", 1, 1, &Get));
  commands.push_back(MakeCommand("app update", "APP [--scope S]... [--policy POLICY] [--token-format jwt|opaque]",
                                 "set the scopes an admin grants it (no flag: revokes all), its throttle policy or its "
                                 "token format",
                                 1, 1, &Update));
  commands.push_back(
      MakeCommand("app delete", "APP", "delete an application with its subscriptions and keys", 1, 1, &Delete));
  commands.push_back(
      MakeCommand("app block", "APP", "refuse the application's tokens and close its sockets", 1, 1, &Block));
  commands.push_back(MakeCommand("app unblock", "APP", "allow it again", 1, 1, &Unblock));
}

}  // namespace wsgate::tools::ctl
