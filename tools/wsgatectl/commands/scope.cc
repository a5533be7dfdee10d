// File: tools/wsgatectl/commands/scope.cc — `wsgatectl api scope ...`: the scopes an API declares
// (issue 14 item 1), with their role bindings (WSO2's x-scopes-bindings). Topics may name only
// declared scopes (`topic add --scope`); tokens get a declared scope only through a subscription
// to the API, and only when the application's owner holds one of its roles (if it has any).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {
namespace {

std::string ScopesText(const std::string& api, const v1::ApiSpec& spec) {
  if (spec.scopes().empty()) return absl::StrCat(api, " declares no scopes (wsgatectl api scope add ", api, " NAME)");
  std::string text;
  for (const auto& s : spec.scopes())
    absl::StrAppend(&text, s.name(), "\troles: ", s.roles().empty() ? "(any)" : absl::StrJoin(s.roles(), ","),
                    s.description().empty() ? "" : "\t" + s.description(), "\n");
  return text;
}

absl::StatusOr<v1::ApiSpec> CurrentSpec(Ctx& ctx) {
  v1::ApiRef req;
  req.set_api(ctx.args[0]);
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::GetApi, req, resp); !s.ok()) return s;
  return resp.spec();
}

// Replaces the API's declarations with `spec`'s (the agent validates them and the topics).
absl::Status SaveScopes(Ctx& ctx, const v1::ApiSpec& spec, const std::string& done) {
  v1::UpdateApiRequest req;
  req.set_api(ctx.args[0]);
  req.add_update_fields("scopes");
  *req.mutable_spec()->mutable_scopes() = spec.scopes();
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateApi, req, resp); !s.ok()) return s;
  Print(ctx, resp.spec(), done);
  return absl::OkStatus();
}

struct AddFlags {
  std::string description;
  std::vector<std::string> roles;
  void Register(common::FlagParser& f) {
    f.AddString("description", &description, "free text", "TEXT");
    f.AddList("role", &roles,
              "only applications whose owner has this role get the scope (repeatable; none: any subscriber)", "ROLE");
  }
};

absl::Status Add(Ctx& ctx, const AddFlags& flags) {
  absl::StatusOr<v1::ApiSpec> spec = CurrentSpec(ctx);
  if (!spec.ok()) return spec.status();
  const std::string& name = ctx.args[1];
  if (std::any_of(spec->scopes().begin(), spec->scopes().end(), [&](const v1::ApiScope& s) { return s.name() == name; }))
    return absl::AlreadyExistsError(absl::StrCat(ctx.args[0], " already declares scope '", name,
                                                 "' (wsgatectl api scope delete it first to change it)"));
  v1::ApiScope* s = spec->add_scopes();
  s->set_name(name);
  s->set_description(flags.description);
  for (const auto& r : flags.roles) s->add_roles(r);
  return SaveScopes(ctx, *spec, absl::StrCat("Declared scope ", name, " on ", ctx.args[0],
                                             flags.roles.empty() ? "" : " for roles " + absl::StrJoin(flags.roles, ",")));
}

absl::Status Delete(Ctx& ctx) {
  absl::StatusOr<v1::ApiSpec> spec = CurrentSpec(ctx);
  if (!spec.ok()) return spec.status();
  auto* scopes = spec->mutable_scopes();
  auto it = std::find_if(scopes->begin(), scopes->end(), [&](const v1::ApiScope& s) { return s.name() == ctx.args[1]; });
  if (it == scopes->end())
    return absl::NotFoundError(absl::StrCat(ctx.args[0], " declares no scope '", ctx.args[1], "' (see wsgatectl api scope list ",
                                            ctx.args[0], ")"));
  scopes->erase(it);
  return SaveScopes(ctx, *spec, absl::StrCat("Deleted scope ", ctx.args[1], " from ", ctx.args[0]));
}

absl::Status List(Ctx& ctx) {
  absl::StatusOr<v1::ApiSpec> spec = CurrentSpec(ctx);
  if (!spec.ok()) return spec.status();
  Print(ctx, *spec, ScopesText(ctx.args[0], *spec));
  return absl::OkStatus();
}

}  // namespace

void AddScopeCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("api scope add", "API NAME [--description TEXT] [--role ROLE]...",
                                 "declare a scope topics may require; --role binds it to owner roles", 2, 2, &Add));
  commands.push_back(MakeCommand("api scope delete", "API NAME",
                                 "remove a scope declaration (refused while a topic names it)", 2, 2, &Delete));
  commands.push_back(MakeCommand("api scope list", "API", "list an API's scopes and their roles", 1, 1, &List));
}

}  // namespace wsgate::tools::ctl
