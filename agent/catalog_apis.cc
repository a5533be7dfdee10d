// File: agent/catalog_apis.cc — the Catalog's APIs, revisions and deployments.
#include "agent/catalog.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/catalog_internal.h"
#include "engine/http/forward.h"
#include "agent/lifecycle.h"
#include "agent/settings.h"
#include "engine/common/base64.h"
#include "engine/common/status_macros.h"
#include "engine/config/syntax.h"
#include "engine/policy/address.h"
#include "engine/policy/origin.h"

namespace wsgate::agent {
namespace {

// An API's override of an environment setting must be inside the setting's range.
absl::Status CheckSettingRange(const char* key, uint64_t value, const std::string& field) {
  const settings::Key& k = *settings::Find(key);
  if (value < k.min || value > k.max)
    return Invalid(field, absl::StrCat(settings::Format(k, value), " is out of range [", settings::Format(k, k.min),
                                       ", ", settings::Format(k, k.max), "]"));
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// APIs

absl::StatusOr<Catalog::ApiRow> Catalog::LoadApi(const std::string& ref) {
  std::string name, version;
  Statement st = SplitApiRef(ref, &name, &version)
                     ? db_.Prepare("SELECT id, spec, state, created_ms, updated_ms, next_revision FROM apis "
                                   "WHERE (name = ?1 AND version = ?2) OR id = ?3")
                     : db_.Prepare("SELECT id, spec, state, created_ms, updated_ms, next_revision FROM apis WHERE id = ?3");
  if (!name.empty()) st.Bind(1, name).Bind(2, version);
  st.Bind(3, ref);
  if (!st.Next()) {
    WSGATE_RETURN_IF_ERROR(st.status());
    return absl::NotFoundError(absl::StrCat("api: no API '", ref, "' (use Name:Version or an id; see `wsgatectl api list`)"));
  }
  ApiRow row;
  row.id = st.Text(0);
  row.spec.ParseFromString(st.Text(1));
  row.state = static_cast<v1::LifecycleState>(st.Int(2));
  row.created_ms = st.Int(3);
  row.updated_ms = st.Int(4);
  row.next_revision = static_cast<uint32_t>(st.Int(5));
  return row;
}

absl::Status Catalog::SaveApi(const ApiRow& row) {
  Statement st = db_.Prepare(
      "INSERT INTO apis(id, name, version, context, state, spec, next_revision, created_ms, updated_ms) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(id) DO UPDATE SET name = ?2, version = ?3, context = ?4, "
      "state = ?5, spec = ?6, next_revision = ?7, updated_ms = ?9");
  st.Bind(1, row.id)
      .Bind(2, row.spec.name())
      .Bind(3, row.spec.version())
      .Bind(4, row.spec.context())
      .Bind(5, static_cast<int64_t>(row.state))
      .BindBlob(6, Serialize(row.spec))
      .Bind(7, static_cast<int64_t>(row.next_revision))
      .Bind(8, row.created_ms)
      .Bind(9, row.updated_ms);
  absl::Status s = st.Run();
  if (absl::IsAlreadyExists(s))
    return absl::AlreadyExistsError(absl::StrCat("an API named ", ApiRefText(row.spec), " or with context ",
                                                 row.spec.context(), " and version ", row.spec.version(),
                                                 " already exists"));
  return s;
}

absl::StatusOr<v1::ApiInfo> Catalog::Info(const ApiRow& row) {
  v1::ApiInfo info;
  info.set_id(row.id);
  *info.mutable_spec() = row.spec;
  info.set_state(row.state);
  info.set_created_unix_ms(row.created_ms);
  info.set_updated_unix_ms(row.updated_ms);
  Statement st = db_.Prepare("SELECT DISTINCT revision FROM deployments WHERE api_id = ? ORDER BY revision");
  st.Bind(1, row.id);
  while (st.Next()) info.add_deployed_revisions(static_cast<uint32_t>(st.Int(0)));
  WSGATE_RETURN_IF_ERROR(st.status());
  return info;
}

bool Catalog::PolicyExists(const std::string& name, v1::PolicyLevel level) {
  Statement st = db_.Prepare("SELECT 1 FROM policies WHERE name = ? AND level = ?");
  st.Bind(1, name).Bind(2, static_cast<int64_t>(level));
  return st.Next();
}

namespace {
// The API's declared scopes (issue 14 item 1): scope-tokens, each once, with role names; and
// every topic names only declared ones.
absl::Status CheckApiScopes(const v1::ApiSpec& spec) {
  std::vector<std::string> names;
  for (int i = 0; i < spec.scopes_size(); ++i) {
    const v1::ApiScope& scope = spec.scopes(i);
    std::string field = absl::StrCat("scopes[", i, "]");
    if (!ValidScopeToken(scope.name()))
      return Invalid(field + ".name", absl::StrCat("bad scope name '", scope.name(), "' (printable ASCII, no space, '\"' or '\\')"));
    if (std::find(names.begin(), names.end(), scope.name()) != names.end())
      return Invalid(field + ".name", absl::StrCat("scope '", scope.name(), "' is declared twice"));
    names.push_back(scope.name());
    for (const auto& role : scope.roles())
      if (role.empty() || role.find_first_of(" ,\t") != std::string::npos)
        return Invalid(field + ".roles", absl::StrCat("bad role '", role, "' (non-empty, no spaces or commas)"));
  }
  for (int i = 0; i < spec.topics_size(); ++i)
    for (const auto& s : spec.topics(i).scopes())
      if (std::find(names.begin(), names.end(), s) == names.end())
        return Invalid(absl::StrCat("topics[", i, "].scopes"),
                       absl::StrCat("topic ", spec.topics(i).name(), " names scope '", s, "', which API ", ApiRefText(spec),
                                    " does not declare (declared: ", names.empty() ? "none" : absl::StrJoin(names, ", "),
                                    "); declare it first: wsgatectl api scope add ", ApiRefText(spec), " ", s));
  return absl::OkStatus();
}

// The scopes a spec's topics name that it does not declare, declared (schema v5's migration).
bool DeclareTopicScopes(v1::ApiSpec& spec) {
  bool changed = false;
  for (const auto& t : spec.topics())
    for (const auto& s : t.scopes())
      if (std::none_of(spec.scopes().begin(), spec.scopes().end(), [&](const v1::ApiScope& d) { return d.name() == s; })) {
        v1::ApiScope* d = spec.add_scopes();
        d->set_name(s);
        d->set_description("declared on upgrade: a topic names it");
        changed = true;
      }
  return changed;
}
}  // namespace

absl::Status Catalog::MigrateScopes() {
  // Rows by their primary key (API id; revision api_id and number; apis.number is a constant 0).
  for (const char* table : {"apis", "revisions"}) {
    const bool revisions = std::string_view(table) == "revisions";
    Statement st = db_.Prepare(revisions ? "SELECT api_id, number, spec FROM revisions" : "SELECT id, 0, spec FROM apis");
    struct Update {
      std::string id;
      int64_t number;
      std::string blob;
    };
    std::vector<Update> updates;
    while (st.Next()) {
      v1::ApiSpec spec;
      spec.ParseFromString(st.Text(2));
      if (DeclareTopicScopes(spec)) updates.push_back({st.Text(0), st.Int(1), Serialize(spec)});
    }
    WSGATE_RETURN_IF_ERROR(st.status());
    for (const auto& u : updates)
      WSGATE_RETURN_IF_ERROR(db_.Prepare(revisions ? "UPDATE revisions SET spec = ?1 WHERE api_id = ?2 AND number = ?3"
                                                   : "UPDATE apis SET spec = ?1 WHERE id = ?2 AND ?3 = 0")
                                 .BindBlob(1, u.blob)
                                 .Bind(2, u.id)
                                 .Bind(3, u.number)
                                 .Run());
  }
  return absl::OkStatus();
}

absl::Status Catalog::ValidateSpec(v1::ApiSpec& spec) {
  const std::string& name = spec.name();
  if (name.empty() || name.size() > 60 || name.find(':') != std::string::npos || name.find('/') != std::string::npos)
    return Invalid("name", "must be 1-60 characters without ':' or '/'");
  if (spec.version().empty() || spec.version().find_first_of("/?#: ") != std::string::npos)
    return Invalid("version", "must be non-empty without '/', '?', '#', ':' or spaces");
  const std::string& ctx = spec.context();
  if (ctx.size() < 2 || ctx[0] != '/' || ctx.back() == '/' || ctx.find_first_of("?#: ") != std::string::npos ||
      ctx.find("//") != std::string::npos)
    return Invalid("context", "must start with '/', not end with '/', and hold no '?', '#', ':', '//' or spaces");
  if (spec.production_endpoint().url().empty() && spec.sandbox_endpoint().url().empty())
    return Invalid("endpoint", "a production or a sandbox endpoint (ws:// or wss://) is required");
  for (auto [field, ep] : {std::pair{"production_endpoint", &spec.production_endpoint()},
                           std::pair{"sandbox_endpoint", &spec.sandbox_endpoint()}}) {
    if (ep->url().empty()) continue;
    engine::config::Endpoint parsed;
    if (absl::Status s = engine::config::ParseEndpointUrl(ep->url(), &parsed); !s.ok())
      return Invalid(absl::StrCat(field, ".url"), std::string(s.message()));
    if (ep->connect_timeout_ms() != 0)
      WSGATE_RETURN_IF_ERROR(CheckSettingRange("connect_timeout", ep->connect_timeout_ms(),
                                               absl::StrCat(field, ".connect_timeout_ms")));
  }
  if (spec.max_message_bytes() != 0)
    WSGATE_RETURN_IF_ERROR(CheckSettingRange("max_message_bytes", spec.max_message_bytes(), "max_message_bytes"));
  // Admission overrides (issue 15), in the ranges of the environment settings they override.
  for (auto [key, value, field] : {std::tuple{"idle_timeout", spec.idle_timeout_ms(), "idle_timeout_ms"},
                                   std::tuple{"max_lifetime", spec.max_lifetime_ms(), "max_lifetime_ms"},
                                   std::tuple{"handshake_rate_per_api", spec.handshake_rate(), "handshake_rate"},
                                   std::tuple{"handshake_burst_per_api", spec.handshake_burst(), "handshake_burst"}})
    if (value != 0) WSGATE_RETURN_IF_ERROR(CheckSettingRange(key, value, field));
  std::vector<engine::config::Topic> parsed_topics;
  for (int i = 0; i < spec.topics_size(); ++i) {
    v1::Topic& t = *spec.mutable_topics(i);
    if (!t.publish() && !t.subscribe()) {  // WebSocket topics are always both (WSO2)
      t.set_publish(true);
      t.set_subscribe(true);
    }
    engine::config::Topic parsed;
    std::string field = absl::StrCat("topics[", i, "]");
    if (absl::Status s = engine::config::ParseTopicTemplate(t.name(), &parsed); !s.ok())
      return Invalid(field + ".name", absl::StrCat("'", t.name(), "': ", s.message()));
    parsed.url_mapping = t.url_mapping();
    if (absl::Status s = engine::config::CheckUrlMapping(parsed); !s.ok())
      return Invalid(field + ".url_mapping", std::string(s.message()));
    for (const auto& other : parsed_topics)
      if (engine::config::SameTemplate(other, parsed))
        return absl::AlreadyExistsError(absl::StrCat("topic: ", t.name(), " matches the same paths as ", other.name));
    parsed_topics.push_back(std::move(parsed));
  }
  WSGATE_RETURN_IF_ERROR(CheckApiScopes(spec));
  for (const auto& plan : spec.plans())
    if (!PolicyExists(plan, v1::SUBSCRIPTION))
      return Invalid("plans", absl::StrCat("unknown business plan '", plan, "' (see `wsgatectl policy list`)"));
  if (!spec.throttle_policy().empty() && !PolicyExists(spec.throttle_policy(), v1::API))
    return Invalid("throttle_policy", absl::StrCat("unknown API-level policy '", spec.throttle_policy(), "'"));
  {
    const v1::AccessRules& access = spec.access();
    std::vector<std::string> origins(access.allowed_origins().begin(), access.allowed_origins().end());
    std::vector<std::string> allow(access.ip_allow().begin(), access.ip_allow().end());
    std::vector<std::string> deny(access.ip_deny().begin(), access.ip_deny().end());
    // The engine's own rules check them, so a spec the agent takes is one every engine takes.
    if (auto o = engine::policy::OriginRules::Compile(origins, true); !o.ok())
      return absl::InvalidArgumentError(absl::StrCat("access.allowed_", o.status().message()));
    if (auto ip = engine::policy::IpRules::Compile(allow, deny); !ip.ok())
      return absl::InvalidArgumentError(absl::StrCat("access.ip_", ip.status().message()));
  }
  if (spec.has_backend()) {  // issue 14 item 7: the engine's own rules (engine/http/forward.h)
    v1::BackendIdentity& b = *spec.mutable_backend();
    std::vector<std::string> pass(b.pass_headers().begin(), b.pass_headers().end());
    if (std::string error = engine::http::CheckBackendIdentity(b.jwt(), b.jwt_header(), b.jwt_validity_s(), pass);
        !error.empty())
      return absl::InvalidArgumentError(error);
    if (b.jwt() && b.jwt_header().empty()) b.set_jwt_header(std::string(engine::http::kDefaultJwtHeader));
    if (b.jwt() && b.jwt_validity_s() == 0) b.set_jwt_validity_s(engine::http::kDefaultJwtValidityS);
  }
  if (spec.security().empty()) spec.add_security("oauth2");
  for (auto& scheme : *spec.mutable_security()) {
    std::string lower = absl::AsciiStrToLower(scheme);
    if (lower == "basic" || lower == "basic_auth")
      return Invalid("security", "Basic authentication does not work for WebSocket APIs; use oauth2 or api_key");
    if (lower == "apikey" || lower == "api-key") lower = "api_key";  // WSO2's spellings
    if (lower != "oauth2" && lower != "api_key")
      return Invalid("security", absl::StrCat("unsupported scheme '", scheme, "' (oauth2 or api_key)"));
    scheme = lower;
  }
  // One context belongs to one API name (its versions share it).
  Statement st = db_.Prepare("SELECT name FROM apis WHERE context = ? AND name <> ? LIMIT 1");
  st.Bind(1, ctx).Bind(2, name);
  if (st.Next())
    return absl::AlreadyExistsError(absl::StrCat("context: ", ctx, " is already used by API '", st.Text(0), "'"));
  return absl::OkStatus();
}

absl::StatusOr<v1::ApiInfo> Catalog::CreateApi(v1::ApiSpec spec) {
  if (spec.topics().empty()) {  // WSO2 creates the default "/*" topic; publishers may delete it
    v1::Topic* t = spec.add_topics();
    t->set_name("/*");
  }
  v1::ApiInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(false, [&]() -> absl::Status {
    WSGATE_RETURN_IF_ERROR(ValidateSpec(spec));
    ApiRow row;
    row.id = NewId();
    row.spec = spec;
    row.state = v1::CREATED;
    row.created_ms = row.updated_ms = NowMs();
    WSGATE_RETURN_IF_ERROR(SaveApi(row));
    WSGATE_ASSIGN_OR_RETURN(out, Info(row));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ApiInfo> Catalog::GetApi(const std::string& ref) {
  std::lock_guard lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
  return Info(row);
}

absl::StatusOr<std::vector<v1::ApiInfo>> Catalog::ListApis(const std::string& name_filter) {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  Statement st = db_.Prepare("SELECT id, name FROM apis ORDER BY name, version");
  std::string needle = absl::AsciiStrToLower(name_filter);
  while (st.Next())
    if (needle.empty() || absl::StrContains(absl::AsciiStrToLower(st.Text(1)), needle)) ids.push_back(st.Text(0));
  WSGATE_RETURN_IF_ERROR(st.status());
  return LoadEach<v1::ApiInfo>(ids, [&](const std::string& id) -> absl::StatusOr<v1::ApiInfo> {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(id));
    return Info(row);
  });
}

absl::StatusOr<v1::ApiInfo> Catalog::UpdateApi(const std::string& ref, const v1::ApiSpec& spec,
                                               const std::vector<std::string>& fields) {
  v1::ApiInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(false, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
    v1::ApiSpec next = row.spec;
    if (fields.empty()) {
      next = spec;
    } else {
      for (const std::string& f : fields) {
        const auto* field = v1::ApiSpec::descriptor()->FindFieldByName(f);
        if (field == nullptr) return Invalid("update_fields", absl::StrCat("'", f, "' is not a field of ApiSpec"));
        const auto* refl = next.GetReflection();
        refl->ClearField(&next, field);
        if (field->is_repeated()) {
          for (int i = 0; i < spec.GetReflection()->FieldSize(spec, field); ++i) {
            if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING)
              refl->AddString(&next, field, spec.GetReflection()->GetRepeatedString(spec, field, i));
            else
              refl->AddMessage(&next, field)->CopyFrom(spec.GetReflection()->GetRepeatedMessage(spec, field, i));
          }
        } else if (spec.GetReflection()->HasField(spec, field) ||
                   field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
          std::unique_ptr<v1::ApiSpec> tmp(spec.New());
          tmp->CopyFrom(spec);
          refl->SwapFields(&next, tmp.get(), {field});
        }
      }
    }
    WSGATE_RETURN_IF_ERROR(ValidateSpec(next));
    row.spec = next;
    row.updated_ms = NowMs();
    WSGATE_RETURN_IF_ERROR(SaveApi(row));
    WSGATE_ASSIGN_OR_RETURN(out, Info(row));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status Catalog::DeleteApi(const std::string& ref) {
  return Mutate(false, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
    Statement deployed = db_.Prepare("SELECT revision, environment FROM deployments WHERE api_id = ? LIMIT 1");
    deployed.Bind(1, row.id);
    if (deployed.Next())
      return absl::FailedPreconditionError(absl::StrCat("API ", ApiRefText(row.spec), " has revision ", deployed.Int(0),
                                                        " deployed to '", deployed.Text(1), "'; undeploy it first"));
    Statement subs = db_.Prepare("SELECT COUNT(*) FROM subscriptions WHERE api_id = ?");
    subs.Bind(1, row.id);
    if (subs.Next() && subs.Int(0) > 0)
      return absl::FailedPreconditionError(
          absl::StrCat("API ", ApiRefText(row.spec), " has ", subs.Int(0), " subscription(s); delete them first"));
    return db_.Prepare("DELETE FROM apis WHERE id = ?").Bind(1, row.id).Run();
  });
}

absl::StatusOr<v1::ApiInfo> Catalog::EditApi(const std::string& ref, bool data_plane, bool validate,
                                             const std::function<absl::Status(ApiRow&)>& edit) {
  v1::ApiInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(data_plane, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
    WSGATE_RETURN_IF_ERROR(edit(row));
    if (validate) WSGATE_RETURN_IF_ERROR(ValidateSpec(row.spec));
    row.updated_ms = NowMs();
    WSGATE_RETURN_IF_ERROR(SaveApi(row));
    WSGATE_ASSIGN_OR_RETURN(out, Info(row));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ApiInfo> Catalog::AddTopic(const std::string& ref, v1::Topic topic) {
  return EditApi(ref, false, true, [&](ApiRow& row) {
    *row.spec.add_topics() = topic;
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ApiInfo> Catalog::DeleteTopic(const std::string& ref, const std::string& topic) {
  return EditApi(ref, false, false, [&](ApiRow& row) -> absl::Status {
    auto* topics = row.spec.mutable_topics();
    auto it = std::find_if(topics->begin(), topics->end(), [&](const v1::Topic& t) { return t.name() == topic; });
    if (it == topics->end()) {
      std::vector<std::string> names;
      for (const auto& t : *topics) names.push_back(t.name());
      return absl::NotFoundError(absl::StrCat("topic: API ", ApiRefText(row.spec), " has no topic '", topic,
                                              "' (it has: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
    }
    topics->erase(it);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ApiInfo> Catalog::SetPlans(const std::string& ref, const std::vector<std::string>& plans) {
  return EditApi(ref, false, true, [&](ApiRow& row) {
    row.spec.clear_plans();
    for (const auto& p : plans) row.spec.add_plans(p);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ApiInfo> Catalog::ChangeLifecycle(const std::string& ref, const std::string& action) {
  return EditApi(ref, true, false, [&](ApiRow& row) -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(v1::LifecycleState next, NextState(row.state, action));
    if (next == v1::PUBLISHED && row.spec.plans().empty())
      return absl::FailedPreconditionError(absl::StrCat("API ", ApiRefText(row.spec),
                                                        " has no business plan; attach one first (wsgatectl api plans ",
                                                        ApiRefText(row.spec), " AsyncGold)"));
    row.state = next;
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// Revisions and deployments

absl::StatusOr<v1::Revision> Catalog::CreateRevision(const std::string& ref, const std::string& description) {
  v1::Revision out;
  WSGATE_RETURN_IF_ERROR(Mutate(false, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
    Statement count = db_.Prepare("SELECT COUNT(*) FROM revisions WHERE api_id = ?");
    count.Bind(1, row.id);
    if (count.Next() && count.Int(0) >= options_.max_revisions)
      return absl::ResourceExhaustedError(absl::StrCat("API ", ApiRefText(row.spec), " already has ",
                                                       options_.max_revisions,
                                                       " revisions; delete an undeployed one first"));
    out.set_api_id(row.id);
    out.set_number(row.next_revision);
    out.set_description(description);
    out.set_created_unix_ms(NowMs());
    *out.mutable_spec() = row.spec;
    WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO revisions VALUES(?, ?, ?, ?, ?)")
                               .Bind(1, row.id)
                               .Bind(2, static_cast<int64_t>(out.number()))
                               .Bind(3, description)
                               .BindBlob(4, Serialize(row.spec))
                               .Bind(5, out.created_unix_ms())
                               .Run());
    ++row.next_revision;  // numbers are never reused
    return SaveApi(row);
  }));
  return out;
}

absl::StatusOr<std::vector<v1::Revision>> Catalog::ListRevisions(const std::string& ref) {
  std::lock_guard lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
  std::vector<v1::Revision> out;
  Statement st = db_.Prepare("SELECT number, description, spec, created_ms FROM revisions WHERE api_id = ? ORDER BY number");
  st.Bind(1, row.id);
  while (st.Next()) {
    v1::Revision r;
    r.set_api_id(row.id);
    r.set_number(static_cast<uint32_t>(st.Int(0)));
    r.set_description(st.Text(1));
    r.mutable_spec()->ParseFromString(st.Text(2));
    r.set_created_unix_ms(st.Int(3));
    out.push_back(std::move(r));
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  for (auto& r : out) {
    Statement d = db_.Prepare("SELECT environment, vhost, deployed_ms FROM deployments WHERE api_id = ? AND revision = ?");
    d.Bind(1, row.id).Bind(2, static_cast<int64_t>(r.number()));
    while (d.Next()) {
      v1::Deployment* dep = r.add_deployments();
      dep->set_api_id(row.id);
      dep->set_revision(r.number());
      dep->set_environment(d.Text(0));
      dep->set_vhost(d.Text(1));
      dep->set_deployed_unix_ms(d.Int(2));
    }
  }
  return out;
}

absl::Status Catalog::DeleteRevision(const std::string& ref, uint32_t number) {
  return Mutate(false, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
    Statement d = db_.Prepare("SELECT environment FROM deployments WHERE api_id = ? AND revision = ?");
    d.Bind(1, row.id).Bind(2, static_cast<int64_t>(number));
    if (d.Next())
      return absl::FailedPreconditionError(absl::StrCat("revision ", number, " of ", ApiRefText(row.spec),
                                                        " is deployed to '", d.Text(0), "'; undeploy it first"));
    Statement del = db_.Prepare("DELETE FROM revisions WHERE api_id = ? AND number = ?");
    del.Bind(1, row.id).Bind(2, static_cast<int64_t>(number));
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0)
      return absl::NotFoundError(absl::StrCat("revision: ", ApiRefText(row.spec), " has no revision ", number));
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ApiInfo> Catalog::RestoreRevision(const std::string& ref, uint32_t number) {
  return EditApi(ref, false, false, [&](ApiRow& row) -> absl::Status {
    Statement st = db_.Prepare("SELECT spec FROM revisions WHERE api_id = ? AND number = ?");
    st.Bind(1, row.id).Bind(2, static_cast<int64_t>(number));
    if (!st.Next()) return absl::NotFoundError(absl::StrCat("revision: ", ApiRefText(row.spec), " has no revision ", number));
    row.spec.ParseFromString(st.Text(0));
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Deployment> Catalog::DeployRevision(const std::string& ref, uint32_t number, std::string environment,
                                                       std::string vhost) {
  if (environment.empty()) environment = options_.environment;
  v1::Deployment out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
    absl::StatusOr<v1::Environment> found = LoadEnvironment(environment);
    if (absl::IsNotFound(found.status())) return absl::InvalidArgumentError(found.status().message());
    WSGATE_ASSIGN_OR_RETURN(v1::Environment env, std::move(found));
    // No --vhost: the environment's default vhost, else its only one.
    for (const auto& v : env.vhosts())
      if (vhost.empty() && v.is_default()) vhost = v.name();
    if (vhost.empty() && env.vhosts_size() == 1) vhost = env.vhosts(0).name();
    if (vhost.empty())
      return Invalid("vhost", absl::StrCat("environment '", environment,
                                           "' has several vhosts and no default one: give --vhost"));
    vhost = absl::AsciiStrToLower(vhost);
    std::vector<std::string> names;
    for (const auto& v : env.vhosts()) names.push_back(v.name());
    if (std::find(names.begin(), names.end(), vhost) == names.end())
      return Invalid("vhost", absl::StrCat("environment '", environment, "' has no vhost '", vhost, "' (it has: ",
                                           absl::StrJoin(names, ", "), ")"));
    Statement st = db_.Prepare("SELECT 1 FROM revisions WHERE api_id = ? AND number = ?");
    st.Bind(1, row.id).Bind(2, static_cast<int64_t>(number));
    if (!st.Next())
      return absl::NotFoundError(absl::StrCat("revision: ", ApiRefText(row.spec), " has no revision ", number,
                                              " (create one with `wsgatectl revision create ", ApiRefText(row.spec), "`)"));
    out.set_api_id(row.id);
    out.set_revision(number);
    out.set_environment(environment);
    out.set_vhost(vhost);
    out.set_deployed_unix_ms(NowMs());
    // One revision per environment: deploying another replaces it (WSO2).
    return db_.Prepare("INSERT INTO deployments VALUES(?, ?, ?, ?, ?) ON CONFLICT (api_id, environment) DO UPDATE SET "
                       "revision = excluded.revision, vhost = excluded.vhost, deployed_ms = excluded.deployed_ms")
        .Bind(1, row.id)
        .Bind(2, static_cast<int64_t>(number))
        .Bind(3, environment)
        .Bind(4, vhost)
        .Bind(5, out.deployed_unix_ms())
        .Run();
  }));
  return out;
}

absl::Status Catalog::UndeployRevision(const std::string& ref, uint32_t number, const std::string& environment) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
    Statement del = environment.empty()
                        ? db_.Prepare("DELETE FROM deployments WHERE api_id = ?1 AND revision = ?2")
                        : db_.Prepare("DELETE FROM deployments WHERE api_id = ?1 AND revision = ?2 AND environment = ?3");
    del.Bind(1, row.id).Bind(2, static_cast<int64_t>(number));
    if (!environment.empty()) del.Bind(3, environment);
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0)
      return absl::NotFoundError(absl::StrCat("revision ", number, " of ", ApiRefText(row.spec), " is not deployed",
                                              environment.empty() ? "" : absl::StrCat(" to '", environment, "'")));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<v1::Deployment>> Catalog::ListDeployments(const std::string& ref) {
  std::lock_guard lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
  std::vector<v1::Deployment> out;
  Statement st = db_.Prepare("SELECT revision, environment, vhost, deployed_ms FROM deployments WHERE api_id = ?");
  st.Bind(1, row.id);
  while (st.Next()) {
    v1::Deployment d;
    d.set_api_id(row.id);
    d.set_revision(static_cast<uint32_t>(st.Int(0)));
    d.set_environment(st.Text(1));
    d.set_vhost(st.Text(2));
    d.set_deployed_unix_ms(st.Int(3));
    out.push_back(std::move(d));
  }
  WSGATE_RETURN_IF_ERROR(st.status());
  return out;
}

}  // namespace wsgate::agent
