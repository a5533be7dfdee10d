// File: tools/wsgatectl/commands/token.cc — `wsgatectl token`: issue an access token for an
// application's key; `token revoke`: revoke one.
#include <string>
#include <vector>

#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/text.h"

namespace wsgate::tools::ctl {
namespace {

struct IssueFlags {
  std::string type = "PRODUCTION";
  std::vector<std::string> scopes;
  int64_t ttl = 0;
  bool opaque = false;
  void Register(common::FlagParser& f) {
    f.AddBool("opaque", &opaque, "an opaque token (the agent keeps only its hash) even for a jwt application");
    f.AddString("type", &type, "PRODUCTION or SANDBOX", "TYPE");
    f.AddList("scope", &scopes, "a scope to grant", "SCOPE");
    f.AddInt("ttl", &ttl, "lifetime in seconds (default 3600)", 0, 86400);
  }
};

absl::Status Issue(Ctx& ctx, const IssueFlags& flags) {
  absl::StatusOr<v1::KeyType> type = ParseKeyType(flags.type);
  if (!type.ok()) return type.status();
  v1::IssueTokenRequest req;
  req.set_application(ctx.args[0]);
  req.set_key_type(*type);
  for (const auto& s : flags.scopes) req.add_scopes(s);
  req.set_ttl_s(static_cast<uint32_t>(flags.ttl));
  req.set_opaque(flags.opaque);
  v1::AccessToken resp;
  if (absl::Status s = Call(ctx, &Stub::IssueToken, req, resp); !s.ok()) return s;
  // An opaque token works once the engines know its hash (a JWT works at once).
  if (resp.access_token().find('.') == std::string::npos) WaitForEngines(ctx);
  Print(ctx, resp, resp.access_token());  // only the token: TOKEN=$(wsgatectl token ...)
  return absl::OkStatus();
}

struct RevokeFlags {
  std::string jti;
  void Register(common::FlagParser& f) {
    f.AddString("jti", &jti, "the token's jti (an opaque token's: the jti `--json` printed) instead of the token", "JTI");
  }
};

absl::Status Revoke(Ctx& ctx, const RevokeFlags& flags) {
  v1::RevokeTokenRequest req;
  if (!ctx.args.empty()) {
    absl::StatusOr<std::string> token = ValueOrStdin(ctx.args[0], "TOKEN", /*trim=*/true);  // `-`: from stdin
    if (!token.ok()) return token.status();
    req.set_token(*token);
  }
  req.set_jti(flags.jti);
  if (req.token().empty() && req.jti().empty()) return absl::InvalidArgumentError("give the token or --jti");
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::RevokeToken, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, "Revoked");
  return absl::OkStatus();
}

}  // namespace

void AddTokenCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("token", "APP --type PRODUCTION|SANDBOX [--scope S]... [--ttl S] [--opaque]",
                                 "issue an access token (prints only the token)", 1, 1, &Issue));
  commands.push_back(MakeCommand("token revoke", "[TOKEN|-] [--jti JTI]",
                                 "revoke a token (- reads it from stdin); live sockets using it close with 4001", 0, 1, &Revoke));
}

}  // namespace wsgate::tools::ctl
