// File: tools/wsgatectl/commands/import.cc — `wsgatectl import wso2 PATH`, `import asyncapi FILE`
// and `export wso2 API -f DIR`: WSO2 apictl projects and AsyncAPI documents (tools/wsgatectl/wso2.h)
// in and out. An import is an ApplyCatalog of one API (no prune), so it creates or updates the
// API, walks its lifecycle and keeps it deployed where it already is, in one transaction.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/diagnose.h"
#include "tools/wsgatectl/wso2.h"

namespace wsgate::tools::ctl {
namespace {

namespace fs = std::filesystem;

// Creates or updates `imported` through ApplyCatalog; warnings go to stderr first.
absl::Status ApplyImported(Ctx& ctx, ImportedApi imported, bool dry_run, const std::string& source) {
  for (const auto& w : imported.warnings) Diagnose(common::LogLevel::kWarning, w);
  const v1::ApiSpec& spec = imported.api.spec();
  // An API that exists stays deployed where it is (with the imported content).
  v1::ApiRef ref;
  ref.set_api(absl::StrCat(spec.name(), ":", spec.version()));
  v1::ListDeploymentsResponse deployed;
  if (Call(ctx, &Stub::ListDeployments, ref, deployed).ok())
    for (const auto& d : deployed.deployments()) {
      v1::DeclaredDeployment* out = imported.api.add_deployments();
      out->set_environment(d.environment());
      out->set_vhost(d.vhost());
    }
  v1::ApplyCatalogRequest req;
  *req.mutable_document()->add_apis() = imported.api;
  req.set_dry_run(dry_run);
  v1::ApplyCatalogResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ApplyCatalog, req, resp); !s.ok())
    return absl::Status(s.code(), absl::StrCat(source, ": ", absl::StrReplaceAll(s.message(), {{"apis[0].spec.", ""}, {"apis[0].", ""}}),
                                               " (nothing was changed)"));
  std::string text = ChangesText(resp);
  absl::StrAppend(&text, resp.changes().empty() ? "no changes: " : dry_run ? "dry run, not imported: " : "imported ",
                  ref.api(), " from ", source, imported.warnings.empty() ? "" : absl::StrCat(" (", imported.warnings.size(), " warning(s) above)"));
  Print(ctx, resp, text);
  if (resp.committed()) WaitForEngines(ctx);
  return absl::OkStatus();
}

struct ImportFlags {
  bool dry_run = false;
  void Register(common::FlagParser& f) { f.AddBool("dry-run", &dry_run, "show what would change, change nothing"); }
};

absl::Status ImportWso2(Ctx& ctx, const ImportFlags& flags) {
  absl::StatusOr<ProjectFiles> files = ReadWso2Project(ctx.args[0]);
  if (!files.ok()) return files.status();
  absl::StatusOr<ImportedApi> api = ParseWso2Project(*files);
  if (!api.ok()) return api.status();
  return ApplyImported(ctx, *std::move(api), flags.dry_run, ctx.args[0]);
}

struct AsyncApiFlags {
  AsyncApiOptions options;
  bool dry_run = false;
  void Register(common::FlagParser& f) {
    f.AddString("context", &options.context, "the API's context, e.g. /chats (required)", "PATH");
    f.AddString("endpoint", &options.endpoint, "backend URL; default: the document's servers (production, else the first)", "URL");
    f.AddString("version", &options.version, "API version; default: info.version", "V");
    f.AddString("name", &options.name, "API name; default: info.title", "NAME");
    f.AddBool("dry-run", &dry_run, "show what would change, change nothing");
  }
};

absl::Status ImportAsyncApi(Ctx& ctx, const AsyncApiFlags& flags) {
  std::ifstream in(ctx.args[0]);
  if (!in) return absl::NotFoundError(absl::StrCat(ctx.args[0], ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<ImportedApi> api = ParseAsyncApi(ctx.args[0], text.str(), flags.options);
  if (!api.ok()) return api.status();
  return ApplyImported(ctx, *std::move(api), flags.dry_run, ctx.args[0]);
}

struct ExportWso2Flags {
  std::string dir;
  void Register(common::FlagParser& f) { f.AddString("file", &dir, "the project directory to write (also -f); required", "DIR"); }
};

absl::Status ExportWso2(Ctx& ctx, const ExportWso2Flags& flags) {
  if (flags.dir.empty()) return absl::InvalidArgumentError("--file: required (-f DIR: the project directory to write)");
  v1::ApiRef ref;
  ref.set_api(ctx.args[0]);
  v1::ApiInfo info;
  if (absl::Status s = Call(ctx, &Stub::GetApi, ref, info); !s.ok()) return s;
  v1::DeclaredApi api;
  *api.mutable_spec() = info.spec();
  api.set_state(info.state());
  std::vector<std::string> warnings;
  ProjectFiles files = EmitWso2Project(api, &warnings);
  for (const auto& w : warnings) Diagnose(common::LogLevel::kWarning, w);
  std::error_code ec;
  fs::create_directories(fs::path(flags.dir) / "Definitions", ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(flags.dir, ": cannot create it (", ec.message(), ")"));
  for (auto [name, text] : {std::pair{&files.api_name, &files.api_text}, std::pair{&files.asyncapi_name, &files.asyncapi_text}}) {
    std::ofstream out(fs::path(flags.dir) / *name, std::ios::trunc);
    out << *text;
    out.close();
    if (!out) return absl::PermissionDeniedError(absl::StrCat(flags.dir, "/", *name, ": cannot be written"));
  }
  std::cout << "wrote " << flags.dir << "/" << files.api_name << " and " << flags.dir << "/" << files.asyncapi_name << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddImportCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("import wso2", "PATH [--dry-run]",
                                 "create or update an API from a WSO2 apictl project (directory or .zip)", 1, 1,
                                 &ImportWso2));
  commands.push_back(MakeCommand("import asyncapi", "FILE --context CTX [--endpoint URL] [--version V] [--name N]",
                                 "create or update an API from an AsyncAPI 2.x document", 1, 1, &ImportAsyncApi));
  commands.push_back(MakeCommand("export wso2", "API -f DIR", "write an API as a WSO2 apictl project", 1, 1, &ExportWso2));
}

}  // namespace wsgate::tools::ctl
