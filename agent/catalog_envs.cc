// File: agent/catalog_envs.cc — the Catalog's gateway environments (issue 12): their vhosts,
// settings (agent/settings.h) and per-vhost certificates (agent/certificate.h), and what of them
// goes into an environment's snapshot.
#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "agent/certificate.h"
#include "agent/settings.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {
namespace {


bool IsHostChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_'; }

// A vhost name or alias: a host name (letters, digits, '-', '.', '_'), an IPv4 literal, an IPv6
// literal in brackets, or "*." followed by a host name.
absl::Status CheckHostName(const std::string& field, const std::string& name) {
  std::string rest = absl::StartsWith(name, "*.") ? name.substr(2) : name;
  bool ok = !rest.empty() && rest.size() <= 253;
  if (ok && rest.front() == '[') {
    ok = rest.back() == ']' && rest.size() > 2 && name == rest &&
         std::all_of(rest.begin() + 1, rest.end() - 1, [](char c) { return absl::ascii_isxdigit(c) || c == ':' || c == '.'; });
  } else {
    ok = ok && std::all_of(rest.begin(), rest.end(), IsHostChar) && rest.front() != '.' && rest.back() != '.';
  }
  if (!ok)
    return Invalid(field, absl::StrCat("'", name, "' is not a host name (e.g. gw.example.com, *.example.com, 127.0.0.1, [::1])"));
  return absl::OkStatus();
}

}  // namespace

namespace catalog_internal {

absl::Status CheckEnvironment(v1::Environment& env, uint32_t ws_port, uint32_t wss_port) {
  if (env.name().empty() || env.name() != absl::StripAsciiWhitespace(env.name()) ||
      env.name().find_first_of("@/") != std::string::npos)
    return Invalid("name", "must be non-empty, without '@' or '/' and without leading or trailing spaces");
  std::string type = absl::AsciiStrToLower(env.type().empty() ? "hybrid" : env.type());
  if (type != "production" && type != "sandbox" && type != "hybrid")
    return Invalid("type", absl::StrCat("'", env.type(), "' is not production, sandbox or hybrid"));
  env.set_type(type);
  if (env.vhosts().empty()) return Invalid("vhosts", "an environment needs at least one vhost");
  std::set<std::string> hosts;
  int defaults = 0;
  for (int i = 0; i < env.vhosts_size(); ++i) {
    v1::Vhost& v = *env.mutable_vhosts(i);
    std::string path = absl::StrCat("vhosts[", i, "]");
    if (v.has_tls())
      return Invalid(path + ".tls", "set a vhost's certificate with `wsgatectl cert set --env ENV --vhost HOST`");
    v.set_name(absl::AsciiStrToLower(v.name()));
    WSGATE_RETURN_IF_ERROR(CheckHostName(path + ".name", v.name()));
    v.set_environment(env.name());
    if (v.ws_port() == 0) v.set_ws_port(ws_port);
    if (v.wss_port() == 0) v.set_wss_port(wss_port);
    if (v.ws_port() > 65535) return Invalid(path + ".ws_port", "must be 1-65535");
    if (v.wss_port() > 65535) return Invalid(path + ".wss_port", "must be 1-65535");
    if (v.is_default() && ++defaults > 1)
      return Invalid(path + ".is_default", "an environment has at most one default vhost");
    if (!hosts.insert(v.name()).second)
      return Invalid(path + ".name", absl::StrCat("'", v.name(), "' is listed twice in this environment"));
    for (int j = 0; j < v.aliases_size(); ++j) {
      std::string alias = absl::AsciiStrToLower(v.aliases(j));
      WSGATE_RETURN_IF_ERROR(CheckHostName(absl::StrCat(path, ".aliases[", j, "]"), alias));
      if (!hosts.insert(alias).second)
        return Invalid(absl::StrCat(path, ".aliases[", j, "]"),
                       absl::StrCat("'", alias, "' is listed twice in this environment"));
      v.set_aliases(j, alias);
    }
  }
  return absl::OkStatus();
}

}  // namespace catalog_internal

namespace {

const v1::Vhost* FindVhost(const v1::Environment& env, const std::string& name) {
  for (const auto& v : env.vhosts())
    if (v.name() == absl::AsciiStrToLower(name)) return &v;
  return nullptr;
}

std::string VhostNames(const v1::Environment& env) {
  std::vector<std::string> names;
  for (const auto& v : env.vhosts()) names.push_back(v.name());
  return absl::StrJoin(names, ", ");
}

}  // namespace

absl::Status Catalog::MigrateEnvironments(const char* schema_v3) {
  WSGATE_RETURN_IF_ERROR(db_.Exec(schema_v3));
  // WSO2's default environment, as the agent served it before environments were objects: vhost
  // localhost (also for 127.0.0.1), now the default vhost, so it answers under any Host.
  v1::Environment env;
  env.set_name(options_.environment);
  env.set_type("hybrid");
  env.set_description("the default gateway environment");
  v1::Vhost* v = env.add_vhosts();
  v->set_name(options_.vhost);
  v->add_aliases("127.0.0.1");
  v->set_is_default(true);
  WSGATE_RETURN_IF_ERROR(CheckEnvironment(env, options_.ws_port, options_.wss_port));
  return db_.Prepare("INSERT INTO environments VALUES(?, ?, ?, ?)")
      .Bind(1, env.name())
      .BindBlob(2, Serialize(env))
      .BindBlob(3, "")
      .Bind(4, NowMs())
      .Run();
}

absl::StatusOr<v1::Environment> Catalog::LoadEnvironment(const std::string& name) {
  Statement st = db_.Prepare("SELECT env FROM environments WHERE name = ?");
  st.Bind(1, name);
  if (!st.Next()) {
    WSGATE_RETURN_IF_ERROR(st.status());
    std::vector<std::string> names;
    Statement all = db_.Prepare("SELECT name FROM environments ORDER BY name");
    while (all.Next()) names.push_back(absl::StrCat("'", all.Text(0), "'"));
    return absl::NotFoundError(absl::StrCat("env: unknown gateway environment '", name, "' (known: ",
                                            names.empty() ? "none" : absl::StrJoin(names, ", "),
                                            "; create one with `wsgatectl env create`)"));
  }
  v1::Environment env;
  env.ParseFromString(st.Text(0));
  return env;
}

absl::StatusOr<v1::Environment> Catalog::CreateEnvironment(v1::Environment env) {
  WSGATE_RETURN_IF_ERROR(CheckEnvironment(env, options_.ws_port, options_.wss_port));
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    absl::Status s = db_.Prepare("INSERT INTO environments VALUES(?, ?, ?, ?)")
                         .Bind(1, env.name())
                         .BindBlob(2, Serialize(env))
                         .BindBlob(3, "")
                         .Bind(4, NowMs())
                         .Run();
    if (absl::IsAlreadyExists(s))
      return absl::AlreadyExistsError(absl::StrCat("an environment named '", env.name(), "' already exists"));
    return s;
  }));
  return env;
}

absl::StatusOr<v1::Environment> Catalog::GetEnvironment(const std::string& name) {
  std::lock_guard lock(mu_);
  return LoadEnvironment(name);
}

absl::StatusOr<std::vector<v1::Environment>> Catalog::ListEnvironments() {
  std::lock_guard lock(mu_);
  std::vector<v1::Environment> out;
  Statement st = db_.Prepare("SELECT env FROM environments ORDER BY created_ms, name");
  while (st.Next()) out.emplace_back().ParseFromString(st.Text(0));
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

absl::StatusOr<v1::Environment> Catalog::UpdateEnvironment(v1::Environment env) {
  WSGATE_RETURN_IF_ERROR(CheckEnvironment(env, options_.ws_port, options_.wss_port));
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_RETURN_IF_ERROR(LoadEnvironment(env.name()).status());
    Statement deployed = db_.Prepare(
        "SELECT d.vhost, a.name, a.version, d.revision FROM deployments d JOIN apis a ON a.id = d.api_id "
        "WHERE d.environment = ?");
    deployed.Bind(1, env.name());
    while (deployed.Next())
      if (FindVhost(env, deployed.Text(0)) == nullptr)
        return absl::FailedPreconditionError(absl::StrCat(
            "vhosts: '", deployed.Text(0), "' serves revision ", deployed.Int(3), " of ", deployed.Text(1), ":",
            deployed.Text(2), "; undeploy it (or deploy it to another vhost) before removing the vhost"));
    WSGATE_RETURN_IF_ERROR(deployed.status());
    Statement certs = db_.Prepare("SELECT vhost FROM certificates WHERE environment = ?");
    certs.Bind(1, env.name());
    std::vector<std::string> orphaned;
    while (certs.Next())
      if (FindVhost(env, certs.Text(0)) == nullptr) orphaned.push_back(certs.Text(0));
    for (const auto& vhost : orphaned)
      WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM certificates WHERE environment = ? AND vhost = ?")
                                 .Bind(1, env.name())
                                 .Bind(2, vhost)
                                 .Run());
    return db_.Prepare("UPDATE environments SET env = ? WHERE name = ?")
        .BindBlob(1, Serialize(env))
        .Bind(2, env.name())
        .Run();
  }));
  return env;
}

absl::Status Catalog::DeleteEnvironment(const std::string& name) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_RETURN_IF_ERROR(LoadEnvironment(name).status());
    Statement deployed = db_.Prepare(
        "SELECT a.name, a.version, d.revision FROM deployments d JOIN apis a ON a.id = d.api_id "
        "WHERE d.environment = ? LIMIT 1");
    deployed.Bind(1, name);
    if (deployed.Next())
      return absl::FailedPreconditionError(absl::StrCat("environment '", name, "' serves revision ", deployed.Int(2),
                                                        " of ", deployed.Text(0), ":", deployed.Text(1),
                                                        "; undeploy every revision from it first"));
    WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM certificates WHERE environment = ?").Bind(1, name).Run());
    return db_.Prepare("DELETE FROM environments WHERE name = ?").Bind(1, name).Run();
  });
}

// ---------------------------------------------------------------------------------------------
// Settings

absl::StatusOr<v1::EnvironmentSettings> Catalog::LoadSettings(const std::string& name) {
  WSGATE_RETURN_IF_ERROR(LoadEnvironment(name).status());
  Statement st = db_.Prepare("SELECT settings FROM environments WHERE name = ?");
  st.Bind(1, name);
  v1::EnvironmentSettings s;
  if (st.Next()) s.ParseFromString(st.Text(0));
  s.set_environment(name);
  return s;
}

absl::Status Catalog::SaveSettings(const std::string& name, v1::EnvironmentSettings& s) {
  WSGATE_RETURN_IF_ERROR(settings::Validate(s));
  v1::EnvironmentSettings stored;
  *stored.mutable_settings() = s.settings();
  stored.set_clock_skew_s(s.clock_skew_s());
  WSGATE_RETURN_IF_ERROR(db_.Prepare("UPDATE environments SET settings = ? WHERE name = ?")
                             .BindBlob(1, Serialize(stored))
                             .Bind(2, name)
                             .Run());
  s.set_environment(name);
  settings::Describe(s);
  return absl::OkStatus();
}

absl::StatusOr<v1::EnvironmentSettings> Catalog::GetSettings(const std::string& environment) {
  std::lock_guard lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(v1::EnvironmentSettings s, LoadSettings(environment));
  settings::Describe(s);
  return s;
}

absl::StatusOr<v1::EnvironmentSettings> Catalog::SetSettings(const std::string& environment,
                                                             const std::vector<std::string>& assignments) {
  if (assignments.empty())
    return Invalid("assignments", "give at least one key=value (see `wsgatectl settings get --env ENV`)");
  v1::EnvironmentSettings out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(out, LoadSettings(environment));
    for (const auto& a : assignments) WSGATE_RETURN_IF_ERROR(settings::Assign(a, out));
    return SaveSettings(environment, out);
  }));
  return out;
}

absl::StatusOr<v1::EnvironmentSettings> Catalog::PutSettings(const std::string& environment,
                                                             const v1::EnvironmentSettings& in) {
  v1::EnvironmentSettings out = in;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_RETURN_IF_ERROR(LoadEnvironment(environment).status());
    return SaveSettings(environment, out);
  }));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Certificates

absl::StatusOr<v1::CertificateInfo> Catalog::SetCertificate(const std::string& environment, const std::string& vhost,
                                                            const std::string& cert_pem, const std::string& key_pem) {
  v1::CertificateInfo info;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(v1::Environment env, LoadEnvironment(environment));
    const v1::Vhost* v = FindVhost(env, vhost);
    if (v == nullptr)
      return absl::NotFoundError(absl::StrCat("vhost: environment '", environment, "' has no vhost '", vhost,
                                              "' (it has: ", VhostNames(env), ")"));
    WSGATE_ASSIGN_OR_RETURN(info, InspectCertificate(cert_pem, key_pem, v->name(), NowS()));
    info.set_environment(environment);
    info.set_vhost(v->name());
    return db_.Prepare("INSERT INTO certificates VALUES(?, ?, ?, ?, ?) ON CONFLICT (environment, vhost) DO UPDATE SET "
                       "cert_pem = excluded.cert_pem, key_pem = excluded.key_pem, info = excluded.info")
        .Bind(1, environment)
        .Bind(2, v->name())
        .Bind(3, cert_pem)
        .Bind(4, key_pem)
        .BindBlob(5, Serialize(info))
        .Run();
  }));
  return info;
}

absl::StatusOr<std::vector<v1::CertificateInfo>> Catalog::ListCertificates(const std::string& environment) {
  std::lock_guard lock(mu_);
  if (!environment.empty()) WSGATE_RETURN_IF_ERROR(LoadEnvironment(environment).status());
  Statement st = db_.Prepare("SELECT info FROM certificates WHERE ?1 = '' OR environment = ?1 ORDER BY environment, vhost");
  st.Bind(1, environment);
  std::vector<v1::CertificateInfo> out;
  while (st.Next()) {
    v1::CertificateInfo& info = out.emplace_back();
    info.ParseFromString(st.Text(0));
    info.clear_warnings();
    int64_t days_left = (info.not_after_unix_s() - NowS()) / 86400;
    if (info.not_after_unix_s() <= NowS()) info.add_warnings("the certificate has EXPIRED");
    else if (days_left < 30) info.add_warnings(absl::StrCat("the certificate expires in ", days_left, " day(s)"));
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

absl::Status Catalog::DeleteCertificate(const std::string& environment, const std::string& vhost) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_RETURN_IF_ERROR(LoadEnvironment(environment).status());
    Statement del = db_.Prepare("DELETE FROM certificates WHERE environment = ? AND vhost = ?");
    del.Bind(1, environment).Bind(2, absl::AsciiStrToLower(vhost));
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0)
      return absl::NotFoundError(
          absl::StrCat("vhost '", vhost, "' of environment '", environment, "' has no certificate"));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// The environment's part of a snapshot

absl::Status Catalog::AddEnvironmentToSnapshot(const std::string& environment, v1::Snapshot& s) {
  WSGATE_ASSIGN_OR_RETURN(v1::Environment env, LoadEnvironment(environment));
  for (const auto& vhost : env.vhosts()) *s.add_vhosts() = vhost;
  Statement certs = db_.Prepare("SELECT vhost, cert_pem, key_pem FROM certificates WHERE environment = ?");
  certs.Bind(1, environment);
  while (certs.Next())
    for (auto& v : *s.mutable_vhosts())
      if (v.name() == certs.Text(0)) {
        v.mutable_tls()->set_cert_pem(certs.Text(1));
        v.mutable_tls()->set_key_pem(certs.Text(2));
      }
  WSGATE_RETURN_IF_ERROR(certs.status());
  WSGATE_ASSIGN_OR_RETURN(v1::EnvironmentSettings settings, LoadSettings(environment));
  *s.mutable_settings() = settings.settings();
  if (settings.clock_skew_s() != 0) s.mutable_token_validation()->set_clock_skew_s(settings.clock_skew_s());
  return absl::OkStatus();
}

}  // namespace wsgate::agent
