// File: tools/wsgatectl/commands/declarative.cc — `wsgatectl export`, `diff` and `apply`: the
// catalog as YAML files (tools/wsgatectl/yaml_doc.h; schema in docs/configuration.md) and making
// the catalog match them through the agent's ApplyCatalog (one transaction on the agent).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/yaml_doc.h"

namespace wsgate::tools::ctl {
namespace {

namespace fs = std::filesystem;

struct ExportFlags {
  std::string file;
  void Register(common::FlagParser& f) {
    f.AddString("file", &file,
                "a directory (one FILE per section: policies.yaml, apis.yaml, applications.yaml, "
                "subscriptions.yaml) or a .yaml file (every section in it); default: stdout (also -f)",
                "DIR|FILE");
  }
};

absl::Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::PermissionDeniedError(absl::StrCat(path.string(), ": cannot be written"));
  return absl::OkStatus();
}

absl::Status Export(Ctx& ctx, const ExportFlags& flags) {
  v1::CatalogDocument doc;
  if (absl::Status s = Call(ctx, &Stub::ExportCatalog, v1::Empty(), doc); !s.ok()) return s;
  if (flags.file.empty() || ctx.json()) {
    Print(ctx, doc, EmitDocument(doc, ""));
    return absl::OkStatus();
  }
  std::error_code ec;
  bool one_file = absl::EndsWith(flags.file, ".yaml") || absl::EndsWith(flags.file, ".yml");
  if (one_file) {
    if (absl::Status s = WriteFile(flags.file, EmitDocument(doc, "")); !s.ok()) return s;
    std::cout << "wrote " << flags.file << "\n";
    return absl::OkStatus();
  }
  fs::create_directories(flags.file, ec);
  if (!fs::is_directory(flags.file, ec))
    return absl::InvalidArgumentError(absl::StrCat("--file ", flags.file, ": not a directory and cannot be created (",
                                                   ec.message(), ")"));
  for (const std::string& section : SectionNames()) {
    fs::path path = fs::path(flags.file) / (section + ".yaml");
    if (absl::Status s = WriteFile(path, EmitDocument(doc, section)); !s.ok()) return s;
  }
  std::cout << "wrote " << absl::StrJoin(SectionNames(), ".yaml, ") << ".yaml to " << flags.file << "\n";
  return absl::OkStatus();
}

struct ApplyFlags {
  std::string file;
  bool dry_run = false;
  bool prune = false;
  void Register(common::FlagParser& f) {
    f.AddString("file", &file, "a YAML file or a directory of them, as export writes (also -f); required", "PATH");
    f.AddBool("prune", &prune,
              "also delete what the files do not declare (subscriptions, applications, APIs, non-built-in policies)");
    f.AddBool("dry-run", &dry_run, "show what would change, change nothing");
  }
};

// Loads -f, asks the agent (dry run or not) and maps its errors back to file:line.
absl::StatusOr<v1::ApplyCatalogResponse> Run(Ctx& ctx, const ApplyFlags& flags, bool dry_run) {
  if (flags.file.empty()) return absl::InvalidArgumentError("--file: required (-f FILE or -f DIR)");
  SourceMap where;
  absl::StatusOr<v1::CatalogDocument> doc = LoadDocument(flags.file, &where);
  if (!doc.ok()) return doc.status();
  v1::ApplyCatalogRequest req;
  *req.mutable_document() = *std::move(doc);
  req.set_dry_run(dry_run);
  req.set_prune(flags.prune);
  v1::ApplyCatalogResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ApplyCatalog, req, resp); !s.ok())
    return absl::Status(s.code(), absl::StrCat(where.Locate(std::string(s.message())), " (nothing was changed)"));
  return resp;
}

absl::Status Diff(Ctx& ctx, const ApplyFlags& flags) {
  absl::StatusOr<v1::ApplyCatalogResponse> resp = Run(ctx, flags, true);
  if (!resp.ok()) return resp.status();
  Print(ctx, *resp, resp->changes().empty() ? "no changes" : ChangesText(*resp));
  return absl::OkStatus();
}

absl::Status Apply(Ctx& ctx, const ApplyFlags& flags) {
  absl::StatusOr<v1::ApplyCatalogResponse> resp = Run(ctx, flags, flags.dry_run);
  if (!resp.ok()) return resp.status();
  std::string text = ChangesText(*resp);
  if (resp->changes().empty()) {
    text = "no changes: the catalog already matches";
  } else if (flags.dry_run) {
    absl::StrAppend(&text, "dry run: ", resp->changes_size(), " change(s) not applied");
  } else {
    absl::StrAppend(&text, "applied ", resp->changes_size(), " change(s); config version ", resp->config_version());
  }
  Print(ctx, *resp, text);
  if (resp->committed()) WaitForEngines(ctx);
  return absl::OkStatus();
}

}  // namespace

std::string ChangesText(const v1::ApplyCatalogResponse& resp) {
  std::string text;
  for (const auto& c : resp.changes()) {
    const char* sign = c.action() == "create" ? "+" : c.action() == "delete" ? "-" : "~";
    absl::StrAppend(&text, sign, " ", c.kind(), " ", c.name(), "\n");
    for (const auto& f : c.fields()) absl::StrAppend(&text, "    ", f, "\n");
  }
  return text;
}

void AddDeclarativeCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("export", "[-f DIR|FILE]",
                                 "the catalog as YAML (no secrets): one file per section in DIR, or one FILE", 0, 0,
                                 &Export));
  commands.push_back(MakeCommand("diff", "-f PATH [--prune]",
                                 "what `apply -f PATH` would change: + create, ~ update (field by field), - delete", 0,
                                 0, &Diff));
  commands.push_back(MakeCommand("apply", "-f PATH [--dry-run] [--prune]",
                                 "make the catalog match the YAML in PATH, in one transaction (idempotent)", 0, 0,
                                 &Apply));
}

}  // namespace wsgate::tools::ctl
