// File: tools/wsgatectl/commands/api.cc — `wsgatectl api ...`: create, list, show, edit and
// delete APIs, set their business plans, and move them through the lifecycle.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/text.h"

namespace wsgate::tools::ctl {
namespace {

struct CreateFlags {
  std::string context, version, endpoint, sandbox, description;
  bool default_version = false;
  void Register(common::FlagParser& f) {
    f.AddString("context", &context, "context, e.g. /chats", "/CTX");
    f.AddString("version", &version, "version, e.g. 1.0.0", "V");
    f.AddString("endpoint", &endpoint, "production endpoint, ws:// or wss://", "URL");
    f.AddString("sandbox-endpoint", &sandbox, "sandbox endpoint", "URL");
    f.AddString("description", &description, "free text", "TEXT");
    f.AddBool("default-version", &default_version, "also serve it without the version segment");
  }
};

absl::Status Create(Ctx& ctx, const CreateFlags& flags) {
  v1::CreateApiRequest req;
  v1::ApiSpec* s = req.mutable_spec();
  s->set_name(ctx.args[0]);
  s->set_context(flags.context);
  s->set_version(flags.version);
  s->set_description(flags.description);
  s->set_is_default_version(flags.default_version);
  if (!flags.endpoint.empty()) s->mutable_production_endpoint()->set_url(flags.endpoint);
  if (!flags.sandbox.empty()) s->mutable_sandbox_endpoint()->set_url(flags.sandbox);
  v1::ApiInfo resp;
  if (absl::Status st = Call(ctx, &Stub::CreateApi, req, resp); !st.ok()) return st;
  Print(ctx, resp, absl::StrCat("Created API ", resp.spec().name(), ":", resp.spec().version(), " (",
                                StateText(resp.state()), ", id ", resp.id(), ")"));
  return absl::OkStatus();
}

struct ListFlags {
  std::string filter;
  void Register(common::FlagParser& f) { f.AddString("filter", &filter, "name contains", "TEXT"); }
};

absl::Status List(Ctx& ctx, const ListFlags& flags) {
  v1::ListApisRequest req;
  req.set_name_filter(flags.filter);
  v1::ListApisResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListApis, req, resp); !s.ok()) return s;
  std::string text = resp.apis().empty() ? "No APIs yet (wsgatectl api create ...)" : "";
  for (const auto& a : resp.apis()) {
    std::vector<std::string> revs;
    for (uint32_t r : a.deployed_revisions()) revs.push_back(std::to_string(r));
    absl::StrAppend(&text, a.spec().name(), ":", a.spec().version(), "\t", a.spec().context(), "\t",
                    StateText(a.state()), "\tdeployed: ", revs.empty() ? "-" : absl::StrJoin(revs, ","), "\n");
  }
  Print(ctx, resp, text);
  return absl::OkStatus();
}

absl::Status Get(Ctx& ctx) {
  v1::ApiRef req;
  req.set_api(ctx.args[0]);
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::GetApi, req, resp); !s.ok()) return s;
  Print(ctx, resp, ApiText(resp));
  return absl::OkStatus();
}

struct UpdateFlags {
  std::string endpoint, sandbox, description;
  bool default_version = false, not_default_version = false;
  void Register(common::FlagParser& f) {
    f.AddString("endpoint", &endpoint, "production endpoint", "URL");
    f.AddString("sandbox-endpoint", &sandbox, "sandbox endpoint", "URL");
    f.AddString("description", &description, "free text", "TEXT");
    f.AddBool("default-version", &default_version, "serve it without the version segment too");
    f.AddBool("not-default-version", &not_default_version, "stop serving it without the version segment");
  }
};

absl::Status Update(Ctx& ctx, const UpdateFlags& flags) {
  v1::UpdateApiRequest req;
  req.set_api(ctx.args[0]);
  if (!flags.endpoint.empty()) {
    req.mutable_spec()->mutable_production_endpoint()->set_url(flags.endpoint);
    req.add_update_fields("production_endpoint");
  }
  if (!flags.sandbox.empty()) {
    req.mutable_spec()->mutable_sandbox_endpoint()->set_url(flags.sandbox);
    req.add_update_fields("sandbox_endpoint");
  }
  if (!flags.description.empty()) {
    req.mutable_spec()->set_description(flags.description);
    req.add_update_fields("description");
  }
  if (flags.default_version || flags.not_default_version) {
    req.mutable_spec()->set_is_default_version(flags.default_version);
    req.add_update_fields("is_default_version");
  }
  if (req.update_fields().empty()) return absl::InvalidArgumentError("nothing to update (see --help)");
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateApi, req, resp); !s.ok()) return s;
  Print(ctx, resp, ApiText(resp) + "\n(deploy a new revision for engines to serve it)");
  return absl::OkStatus();
}

absl::Status Delete(Ctx& ctx) {
  v1::ApiRef req;
  req.set_api(ctx.args[0]);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteApi, req, resp); !s.ok()) return s;
  Print(ctx, resp, "Deleted API " + ctx.args[0]);
  return absl::OkStatus();
}

absl::Status Plans(Ctx& ctx) {
  v1::SetPlansRequest req;
  req.set_api(ctx.args[0]);
  for (size_t i = 1; i < ctx.args.size(); ++i) req.add_plans(ctx.args[i]);
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::SetPlans, req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat("Business plans of ", ctx.args[0], ": ", absl::StrJoin(resp.spec().plans(), ", ")));
  return absl::OkStatus();
}

absl::Status Lifecycle(Ctx& ctx) {
  v1::ChangeLifecycleRequest req;
  req.set_api(ctx.args[0]);
  req.set_action(absl::StrJoin(ctx.args.begin() + 1, ctx.args.end(), " "));  // "Deploy as a Prototype" may come unquoted
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::ChangeLifecycle, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat(ctx.args[0], " is now ", StateText(resp.state())));
  return absl::OkStatus();
}

}  // namespace

void AddApiCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("api create", "NAME --context /CTX --version V --endpoint ws://HOST:PORT",
                                 "create a WebSocket API (state CREATED, default topic /*)", 1, 1, &Create));
  commands.push_back(MakeCommand("api list", "", "list APIs", 0, 0, &List));
  commands.push_back(MakeCommand("api get", "API", "show an API (API is Name:Version or an id)", 1, 1, &Get));
  commands.push_back(MakeCommand("api update",
                                 "API [--endpoint URL] [--sandbox-endpoint URL] [--description T] [--default-version]",
                                 "change an API's endpoints, description or default-version flag", 1, 1, &Update));
  commands.push_back(
      MakeCommand("api delete", "API", "delete an API (not while deployed or subscribed)", 1, 1, &Delete));
  commands.push_back(
      MakeCommand("api plans", "API PLAN...", "set the business plans an API offers (e.g. AsyncGold)", 2, -1, &Plans));
  commands.push_back(MakeCommand("api lifecycle", "API ACTION",
                                 "Publish, Deploy as a Prototype, Demote to Created, Block, Re-Publish, Deprecate, Retire",
                                 2, -1, &Lifecycle));
}

}  // namespace wsgate::tools::ctl
