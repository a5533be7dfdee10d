// File: tools/wsgatectl/commands/revision.cc — `wsgatectl revision ...`: snapshots of an API,
// and deploying them to gateway environments (what engines serve).
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/diagnose.h"
#include "tools/wsgatectl/text.h"

namespace wsgate::tools::ctl {
namespace {

struct CreateFlags {
  std::string description;
  void Register(common::FlagParser& f) { f.AddString("description", &description, "free text", "TEXT"); }
};

absl::Status Create(Ctx& ctx, const CreateFlags& flags) {
  v1::CreateRevisionRequest req;
  req.set_api(ctx.args[0]);
  req.set_description(flags.description);
  v1::Revision resp;
  if (absl::Status s = Call(ctx, &Stub::CreateRevision, req, resp); !s.ok()) return s;
  Print(ctx, resp, std::to_string(resp.number()));  // only the number: scripts read it
  return absl::OkStatus();
}

absl::Status List(Ctx& ctx) {
  v1::ApiRef req;
  req.set_api(ctx.args[0]);
  v1::ListRevisionsResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListRevisions, req, resp); !s.ok()) return s;
  std::string text = resp.revisions().empty() ? "no revisions" : "";
  for (const auto& r : resp.revisions()) {
    std::vector<std::string> where;
    for (const auto& d : r.deployments()) where.push_back(absl::StrCat(d.environment(), " (", d.vhost(), ")"));
    absl::StrAppend(&text, r.number(), "\t", where.empty() ? "not deployed" : "deployed to " + absl::StrJoin(where, ", "),
                    r.description().empty() ? "" : "\t" + r.description(), "\n");
  }
  Print(ctx, resp, text);
  return absl::OkStatus();
}

struct DeployFlags {
  std::string env, vhost;
  void Register(common::FlagParser& f) {
    f.AddString("env", &env, "gateway environment (default \"Production and Sandbox\")", "ENV");
    f.AddString("vhost", &vhost, "vhost (default: the environment's default vhost, e.g. localhost)", "VHOST");
  }
};

absl::Status Deploy(Ctx& ctx, const DeployFlags& flags) {
  v1::DeployRevisionRequest req;
  req.set_api(ctx.args[0]);
  absl::StatusOr<uint32_t> n = ParseRevision(ctx.args[1]);
  if (!n.ok()) return n.status();
  req.set_revision(*n);
  req.set_environment(flags.env);
  req.set_vhost(flags.vhost);
  v1::Deployment resp;
  if (absl::Status s = Call(ctx, &Stub::DeployRevision, req, resp); !s.ok()) return s;
  if (!resp.warning().empty()) Diagnose(common::LogLevel::kWarning, resp.warning());
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Deployed revision ", resp.revision(), " of ", ctx.args[0], " to \"",
                                resp.environment(), "\" (vhost ", resp.vhost(), ")"));
  return absl::OkStatus();
}

struct UndeployFlags {
  std::string env;
  void Register(common::FlagParser& f) { f.AddString("env", &env, "only from this environment", "ENV"); }
};

absl::Status Undeploy(Ctx& ctx, const UndeployFlags& flags) {
  v1::UndeployRevisionRequest req;
  req.set_api(ctx.args[0]);
  absl::StatusOr<uint32_t> n = ParseRevision(ctx.args[1]);
  if (!n.ok()) return n.status();
  req.set_revision(*n);
  req.set_environment(flags.env);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::UndeployRevision, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Undeployed revision ", *n, " of ", ctx.args[0]));
  return absl::OkStatus();
}

// `revision delete` and `revision restore` name a revision the same way: API REVISION.
absl::StatusOr<v1::RevisionRef> RevisionRef(const Ctx& ctx) {
  absl::StatusOr<uint32_t> n = ParseRevision(ctx.args[1]);
  if (!n.ok()) return n.status();
  v1::RevisionRef ref;
  ref.set_api(ctx.args[0]);
  ref.set_revision(*n);
  return ref;
}

absl::Status Delete(Ctx& ctx) {
  absl::StatusOr<v1::RevisionRef> req = RevisionRef(ctx);
  if (!req.ok()) return req.status();
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteRevision, *req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat("Deleted revision ", req->revision(), " of ", ctx.args[0]));
  return absl::OkStatus();
}

absl::Status Restore(Ctx& ctx) {
  absl::StatusOr<v1::RevisionRef> req = RevisionRef(ctx);
  if (!req.ok()) return req.status();
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::RestoreRevision, *req, resp); !s.ok()) return s;
  Print(ctx, resp, absl::StrCat("Restored revision ", req->revision(), " into the current ", ctx.args[0]));
  return absl::OkStatus();
}

}  // namespace

void AddRevisionCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("revision create", "API",
                                 "snapshot the current API as a new revision (prints its number)", 1, 1, &Create));
  commands.push_back(MakeCommand("revision list", "API", "list revisions and where they are deployed", 1, 1, &List));
  commands.push_back(MakeCommand("revision deploy", "API REVISION [--env ENV] [--vhost VHOST]",
                                 "deploy a revision to a gateway environment", 2, 2, &Deploy));
  commands.push_back(MakeCommand("revision undeploy", "API REVISION [--env ENV]", "undeploy a revision", 2, 2, &Undeploy));
  commands.push_back(MakeCommand("revision delete", "API REVISION", "delete an undeployed revision", 2, 2, &Delete));
  commands.push_back(
      MakeCommand("revision restore", "API REVISION", "copy a revision back into the current API", 2, 2, &Restore));
}

}  // namespace wsgate::tools::ctl
