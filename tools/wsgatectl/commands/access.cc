// File: tools/wsgatectl/commands/access.cc — `wsgatectl api access ...`: an API's Origin
// allow-list and client-address rules (deployed with its next revision).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

struct AccessFlags {
  std::vector<std::string> origins, ip_allow, ip_deny;
  bool require_origin = false, clear = false;
  void Register(common::FlagParser& f) {
    f.AddList("allow-origin", &origins,
              "an Origin that may connect: https://app.example.com, https://*.example.com, * or null", "ORIGIN");
    f.AddBool("require-origin", &require_origin, "refuse requests without an Origin header (non-browser clients)");
    f.AddList("ip-allow", &ip_allow, "only these client addresses may connect (CIDR or address, IPv4/IPv6)", "CIDR");
    f.AddList("ip-deny", &ip_deny, "these client addresses may not connect (beats --ip-allow)", "CIDR");
    f.AddBool("clear", &clear, "remove every rule (the environment's defaults apply)");
  }
  bool any() const { return !origins.empty() || !ip_allow.empty() || !ip_deny.empty() || require_origin; }
};

std::string AccessText(const std::string& api, const v1::AccessRules& a) {
  auto list = [](const auto& items) { return items.empty() ? std::string("(none)") : absl::StrJoin(items, ", "); };
  return absl::StrCat("Access rules of ", api, "\n",                                              //
                      "  allowed origins: ", a.allowed_origins().empty() ? "(any)" : list(a.allowed_origins()), "\n",
                      "  require origin:  ", a.require_origin() ? "yes" : "no", "\n",             //
                      "  ip allow:        ", a.ip_allow().empty() ? "(any)" : list(a.ip_allow()), "\n",
                      "  ip deny:         ", list(a.ip_deny()));
}

absl::Status Access(Ctx& ctx, const AccessFlags& flags) {
  if (flags.clear && flags.any()) return absl::InvalidArgumentError("--clear: give it alone, without other rules");
  if (!flags.clear && !flags.any()) {  // show
    v1::ApiRef req;
    req.set_api(ctx.args[0]);
    v1::ApiInfo resp;
    if (absl::Status s = Call(ctx, &Stub::GetApi, req, resp); !s.ok()) return s;
    Print(ctx, resp.spec().access(), AccessText(ctx.args[0], resp.spec().access()));
    return absl::OkStatus();
  }
  v1::UpdateApiRequest req;
  req.set_api(ctx.args[0]);
  req.add_update_fields("access");
  v1::AccessRules* a = req.mutable_spec()->mutable_access();
  for (const auto& o : flags.origins) a->add_allowed_origins(o);
  a->set_require_origin(flags.require_origin);
  for (const auto& c : flags.ip_allow) a->add_ip_allow(c);
  for (const auto& c : flags.ip_deny) a->add_ip_deny(c);
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateApi, req, resp); !s.ok()) return s;
  Print(ctx, resp.spec().access(),
        AccessText(ctx.args[0], resp.spec().access()) + "\n(deploy a new revision for engines to enforce it)");
  return absl::OkStatus();
}

}  // namespace

void AddAccessCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("api access",
                                 "API [--allow-origin O]... [--require-origin] [--ip-allow CIDR]... [--ip-deny CIDR]... "
                                 "[--clear]",
                                 "show, replace (any flag) or --clear an API's Origin and client-address rules "
                                 "(refused upgrades get 403)",
                                 1, 1, &Access));
}

}  // namespace wsgate::tools::ctl
