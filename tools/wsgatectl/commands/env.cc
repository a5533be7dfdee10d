// File: tools/wsgatectl/commands/env.cc — `wsgatectl env ...`: the gateway environments
// revisions deploy to (issue 12): their type, description and vhosts (exact or "*." names, ports,
// aliases, one default vhost that serves any other Host).
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/env_text.h"
#include "tools/wsgatectl/status_text.h"
#include "tools/wsgatectl/table.h"

namespace wsgate::tools::ctl {
namespace {

constexpr const char* kVhostHelp =
    "a vhost: NAME[,default][,ws=PORT][,wss=PORT][,alias=HOST]... (NAME exact or *.domain; repeatable)";

// A table of every vhost with its configured ports and the ports the environment's engines really
// listen on (issue 17: the configured ports are what invoke URLs use, not a bind).
absl::Status List(Ctx& ctx) {
  v1::ListEnvironmentsResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListEnvironments, v1::Empty(), resp); !s.ok()) return s;
  v1::AgentStatus status;
  if (absl::Status s = Call(ctx, &Stub::GetStatus, v1::Empty(), status); !s.ok()) return s;
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : resp.environments())
    for (const auto& v : e.vhosts())
      rows.push_back({e.name(), v.name() + (v.is_default() ? " (default)" : ""), absl::StrCat(v.ws_port()),
                      absl::StrCat(v.wss_port()), ListeningText(status, e.name())});
  Print(ctx, resp, Table({"ENVIRONMENT", "VHOST", "WS", "WSS", "ENGINES LISTEN ON"}, rows));
  return absl::OkStatus();
}

absl::StatusOr<v1::Environment> Fetch(const Ctx& ctx, const std::string& name) {
  v1::EnvironmentRef req;
  req.set_name(name);
  v1::Environment resp;
  if (absl::Status s = Call(ctx, &Stub::GetEnvironment, req, resp); !s.ok()) return s;
  return resp;
}

absl::Status Get(Ctx& ctx) {
  absl::StatusOr<v1::Environment> env = Fetch(ctx, ctx.args[0]);
  if (!env.ok()) return env.status();
  Print(ctx, *env, EnvironmentText(*env));
  return absl::OkStatus();
}

struct CreateFlags {
  std::string type = "hybrid", description;
  std::vector<std::string> vhosts;
  void Register(common::FlagParser& f) {
    f.AddString("type", &type, "production, sandbox or hybrid", "TYPE");
    f.AddString("description", &description, "free text", "TEXT");
    f.AddList("vhost", &vhosts, kVhostHelp, "SPEC");
  }
};

absl::Status AddVhosts(const std::vector<std::string>& specs, v1::Environment& env) {
  for (const auto& spec : specs) {
    absl::StatusOr<v1::Vhost> v = ParseVhostSpec(spec);
    if (!v.ok()) return v.status();
    *env.add_vhosts() = *std::move(v);
  }
  return absl::OkStatus();
}

absl::Status Create(Ctx& ctx, const CreateFlags& flags) {
  v1::Environment env;
  env.set_name(ctx.args[0]);
  env.set_type(flags.type);
  env.set_description(flags.description);
  if (flags.vhosts.empty()) return absl::InvalidArgumentError("--vhost: give at least one (e.g. --vhost gw.example.com,default)");
  if (absl::Status s = AddVhosts(flags.vhosts, env); !s.ok()) return s;
  v1::Environment resp;
  if (absl::Status s = Call(ctx, &Stub::CreateEnvironment, env, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, "Created environment " + EnvironmentText(resp));
  return absl::OkStatus();
}

struct UpdateFlags {
  std::string type, description, default_vhost;
  std::vector<std::string> vhosts, add, remove;
  void Register(common::FlagParser& f) {
    f.AddString("type", &type, "production, sandbox or hybrid", "TYPE");
    f.AddString("description", &description, "free text", "TEXT");
    f.AddList("vhost", &vhosts, "replace every vhost with these (same SPEC as env create)", "SPEC");
    f.AddList("add-vhost", &add, "add a vhost (SPEC)", "SPEC");
    f.AddList("remove-vhost", &remove, "remove the vhost NAME (not while a revision is deployed to it)", "NAME");
    f.AddString("default-vhost", &default_vhost, "make NAME the default vhost; 'none': no default (404)", "NAME");
  }
};

absl::Status Update(Ctx& ctx, const UpdateFlags& flags) {
  absl::StatusOr<v1::Environment> env = Fetch(ctx, ctx.args[0]);
  if (!env.ok()) return env.status();
  bool changed = false;
  if (!flags.type.empty()) env->set_type(flags.type), changed = true;
  if (!flags.description.empty()) env->set_description(flags.description), changed = true;
  if (!flags.vhosts.empty()) env->clear_vhosts(), changed = true;
  if (absl::Status s = AddVhosts(flags.vhosts, *env); !s.ok()) return s;
  if (absl::Status s = AddVhosts(flags.add, *env); !s.ok()) return s;
  changed = changed || !flags.add.empty();
  for (const auto& name : flags.remove) {
    auto* vs = env->mutable_vhosts();
    int before = vs->size();
    for (int i = vs->size() - 1; i >= 0; --i)
      if (vs->Get(i).name() == absl::AsciiStrToLower(name)) vs->DeleteSubrange(i, 1);
    if (vs->size() == before)
      return absl::NotFoundError(absl::StrCat("--remove-vhost: environment '", env->name(), "' has no vhost '", name, "'"));
    changed = true;
  }
  if (!flags.default_vhost.empty()) {
    bool found = flags.default_vhost == "none";
    for (auto& v : *env->mutable_vhosts()) {
      v.set_is_default(v.name() == absl::AsciiStrToLower(flags.default_vhost));
      found = found || v.is_default();
    }
    if (!found)
      return absl::NotFoundError(
          absl::StrCat("--default-vhost: environment '", env->name(), "' has no vhost '", flags.default_vhost, "'"));
    changed = true;
  }
  if (!changed) return absl::InvalidArgumentError("nothing to update (see --help)");
  v1::Environment resp;
  if (absl::Status s = Call(ctx, &Stub::UpdateEnvironment, *env, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, EnvironmentText(resp));
  return absl::OkStatus();
}

absl::Status Delete(Ctx& ctx) {
  v1::EnvironmentRef req;
  req.set_name(ctx.args[0]);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteEnvironment, req, resp); !s.ok()) return s;
  Print(ctx, resp, "Deleted environment " + ctx.args[0]);
  return absl::OkStatus();
}

}  // namespace

void AddEnvCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("env list", "", "list gateway environments and vhosts", 0, 0, &List));
  commands.push_back(MakeCommand("env get", "ENV", "show an environment", 1, 1, &Get));
  commands.push_back(MakeCommand("env create", "ENV --vhost NAME[,default][,ws=P][,wss=P][,alias=H]... [--type T]",
                                 "create a gateway environment (type hybrid by default)", 1, 1, &Create));
  commands.push_back(MakeCommand("env update",
                                 "ENV [--type T] [--description D] [--vhost SPEC]... [--add-vhost SPEC]... "
                                 "[--remove-vhost NAME]... [--default-vhost NAME|none]",
                                 "change an environment", 1, 1, &Update));
  commands.push_back(
      MakeCommand("env delete", "ENV", "delete an environment (not while a revision is deployed to it)", 1, 1, &Delete));
}

}  // namespace wsgate::tools::ctl
