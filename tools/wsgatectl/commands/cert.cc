// File: tools/wsgatectl/commands/cert.cc — `wsgatectl cert set|list|delete`: the TLS
// certificate each vhost serves on wss (validated by the agent, pushed to the engines).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/diagnose.h"
#include "tools/wsgatectl/env_text.h"

namespace wsgate::tools::ctl {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": give a PEM file"));
  if (path == "-") return ValueOrStdin(path, "--" + flag, /*trim=*/false);  // a key need not touch the disk
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", path, ": cannot read it"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct SetFlags {
  std::string env = "Production and Sandbox", vhost, cert, key;
  void Register(common::FlagParser& f) {
    f.AddString("env", &env, "gateway environment", "ENV");
    f.AddString("vhost", &vhost, "the vhost (its name, e.g. gw.example.com or *.example.com)", "HOST");
    f.AddString("cert", &cert, "PEM certificate chain, leaf first", "FILE");
    f.AddString("key", &key, "PEM private key of the leaf (unencrypted); - reads it from stdin", "FILE");
  }
};

absl::Status Set(Ctx& ctx, const SetFlags& flags) {
  if (flags.vhost.empty()) return absl::InvalidArgumentError("--vhost: which vhost serves this certificate?");
  v1::SetCertificateRequest req;
  req.set_environment(flags.env);
  req.set_vhost(flags.vhost);
  absl::StatusOr<std::string> cert = ReadFile("cert", flags.cert);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile("key", flags.key);
  if (!key.ok()) return key.status();
  req.set_cert_pem(*cert);
  req.set_key_pem(*key);
  v1::CertificateInfo resp;
  if (absl::Status s = Call(ctx, &Stub::SetCertificate, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  for (const auto& w : resp.warnings()) Diagnose(common::LogLevel::kWarning, w);
  Print(ctx, resp, "Certificate set: " + CertificateText(resp));
  return absl::OkStatus();
}

struct ListFlags {
  std::string env;
  void Register(common::FlagParser& f) { f.AddString("env", &env, "only this environment", "ENV"); }
};

absl::Status List(Ctx& ctx, const ListFlags& flags) {
  v1::EnvironmentRef req;
  req.set_name(flags.env);
  v1::ListCertificatesResponse resp;
  if (absl::Status s = Call(ctx, &Stub::ListCertificates, req, resp); !s.ok()) return s;
  std::string text = resp.certificates().empty() ? "No vhost certificates (wsgatectl cert set ...)\n" : "";
  for (const auto& c : resp.certificates()) absl::StrAppend(&text, CertificateText(c), "\n");
  Print(ctx, resp, text);
  return absl::OkStatus();
}

struct DeleteFlags {
  std::string env = "Production and Sandbox", vhost;
  void Register(common::FlagParser& f) {
    f.AddString("env", &env, "gateway environment", "ENV");
    f.AddString("vhost", &vhost, "the vhost", "HOST");
  }
};

absl::Status Delete(Ctx& ctx, const DeleteFlags& flags) {
  v1::CertificateRef req;
  req.set_environment(flags.env);
  req.set_vhost(flags.vhost);
  v1::Empty resp;
  if (absl::Status s = Call(ctx, &Stub::DeleteCertificate, req, resp); !s.ok()) return s;
  WaitForEngines(ctx);
  Print(ctx, resp, absl::StrCat("Deleted the certificate of ", flags.vhost, " in ", flags.env));
  return absl::OkStatus();
}

}  // namespace

void AddCertCommands(std::vector<Command>& commands) {
  commands.push_back(MakeCommand("cert set", "--env ENV --vhost HOST --cert FILE --key FILE",
                                 "set the wss certificate of a vhost (checked: chain, key, expiry, name)", 0, 0, &Set));
  commands.push_back(MakeCommand("cert list", "[--env ENV]", "vhost certificates: subject, SANs, expiry", 0, 0, &List));
  commands.push_back(MakeCommand("cert delete", "--env ENV --vhost HOST",
                                 "remove a vhost's certificate (the engine's default one serves it)", 0, 0, &Delete));
}

}  // namespace wsgate::tools::ctl
