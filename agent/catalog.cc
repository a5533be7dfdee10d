// File: agent/catalog.cc
#include "agent/catalog.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/lifecycle.h"
#include "engine/common/base64.h"
#include "engine/common/status_macros.h"
#include "engine/config/syntax.h"

namespace wsgate::agent {
namespace {

constexpr int kSchemaVersion = 2;

// Schema v1. Entities whose shape may grow (API specs, policies) are stored as protobuf blobs next
// to the columns that are looked up or constrained; the SQL stays portable to PostgreSQL.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE apis (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, context TEXT NOT NULL,
  state INTEGER NOT NULL, spec BLOB NOT NULL, next_revision INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  UNIQUE (name, version), UNIQUE (context, version));
CREATE TABLE revisions (
  api_id TEXT NOT NULL REFERENCES apis(id) ON DELETE CASCADE, number INTEGER NOT NULL,
  description TEXT NOT NULL, spec BLOB NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (api_id, number));
CREATE TABLE deployments (
  api_id TEXT NOT NULL, revision INTEGER NOT NULL, environment TEXT NOT NULL, vhost TEXT NOT NULL,
  deployed_ms INTEGER NOT NULL, PRIMARY KEY (api_id, environment),
  FOREIGN KEY (api_id, revision) REFERENCES revisions(api_id, number));
CREATE TABLE applications (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL, owner TEXT NOT NULL,
  throttle_policy TEXT NOT NULL, blocked INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE subscriptions (
  id TEXT PRIMARY KEY, application_id TEXT NOT NULL REFERENCES applications(id),
  api_id TEXT NOT NULL REFERENCES apis(id), plan TEXT NOT NULL, state INTEGER NOT NULL,
  created_ms INTEGER NOT NULL, UNIQUE (application_id, api_id));
CREATE TABLE consumer_keys (
  application_id TEXT NOT NULL REFERENCES applications(id), key_type INTEGER NOT NULL,
  consumer_key TEXT NOT NULL UNIQUE, secret_sha256 BLOB NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY (application_id, key_type));
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY, algorithm INTEGER NOT NULL, private_pem TEXT NOT NULL, public_pem TEXT NOT NULL,
  active INTEGER NOT NULL, created_ms INTEGER NOT NULL, retire_after_s INTEGER NOT NULL);
CREATE TABLE issued_tokens (
  jti TEXT PRIMARY KEY, consumer_key TEXT NOT NULL, expires_s INTEGER NOT NULL);
CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, expires_s INTEGER NOT NULL);
CREATE TABLE policies (name TEXT PRIMARY KEY, level INTEGER NOT NULL, policy BLOB NOT NULL, builtin INTEGER NOT NULL);
)sql";

// v2: the scopes an admin granted each application (space-separated), the only ones its tokens
// may carry.
constexpr const char* kSchemaV2 = "ALTER TABLE applications ADD COLUMN scopes TEXT NOT NULL DEFAULT '';";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t NowS() { return NowMs() / 1000; }

std::string NewId() {
  std::string h = RandomHex(16);
  return absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-", h.substr(16, 4), "-", h.substr(20));
}

std::string Serialize(const google::protobuf::Message& m) { return m.SerializeAsString(); }

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string ApiRefText(const v1::ApiSpec& spec) { return absl::StrCat(spec.name(), ":", spec.version()); }

// RFC 6749 §3.3 scope-token: printable ASCII except space, '"' and '\\'.
absl::Status ValidScopes(const std::string& field, const google::protobuf::RepeatedPtrField<std::string>& scopes) {
  for (const auto& s : scopes)
    if (s.empty() || std::any_of(s.begin(), s.end(), [](char c) { return c <= ' ' || c > '~' || c == '"' || c == '\\'; }))
      return Invalid(field, absl::StrCat("bad scope '", s, "' (printable ASCII, no space, '\"' or '\\')"));
  return absl::OkStatus();
}

std::string KeyTypeName(v1::KeyType t) { return t == v1::SANDBOX ? "SANDBOX" : "PRODUCTION"; }

v1::ThrottlePolicy Builtin(const std::string& name, uint64_t events, const std::string& description) {
  v1::ThrottlePolicy p;
  p.set_name(name);
  p.set_level(v1::SUBSCRIPTION);
  p.set_events(events);
  p.set_unlimited(events == 0);
  p.set_unit(v1::DAY);
  p.set_unit_count(1);
  p.set_stop_on_quota_reach(true);
  p.set_description(description);
  return p;
}

// Payload of a JWT (no signature check): for revocation of a token this agent issued.
bool JwtJti(const std::string& token, std::string* jti) {
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  if (d1 == std::string::npos || d1 == d2) return false;
  std::string payload;
  if (!common::Base64UrlDecode(std::string_view(token).substr(d1 + 1, d2 - d1 - 1), &payload)) return false;
  Json claims = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object() || !claims.contains("jti") || !claims["jti"].is_string()) return false;
  *jti = claims["jti"].get<std::string>();
  return !jti->empty();
}

// Loads each of `ids` with `load`, in order; the first failure is returned.
template <typename T, typename Load>
absl::StatusOr<std::vector<T>> LoadEach(const std::vector<std::string>& ids, Load load) {
  std::vector<T> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    absl::StatusOr<T> item = load(id);
    if (!item.ok()) return item.status();
    out.push_back(*std::move(item));
  }
  return out;
}

// Column 0 of every row of `st`; a step error is returned, not taken for the end.
absl::StatusOr<std::vector<std::string>> Ids(Statement& st) {
  std::vector<std::string> ids;
  while (st.Next()) ids.push_back(st.Text(0));
  WSGATE_RETURN_IF_ERROR(st.status());
  return ids;
}

}  // namespace

bool SplitApiRef(const std::string& ref, std::string* name, std::string* version) {
  size_t colon = ref.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == ref.size()) return false;
  *name = ref.substr(0, colon);
  *version = ref.substr(colon + 1);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Opening, schema, seeding

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path, CatalogOptions options) {
  std::unique_ptr<Catalog> c(new Catalog(std::move(options)));
  std::lock_guard<std::mutex> lock(c->mu_);
  WSGATE_RETURN_IF_ERROR(c->db_.Open(path));
  WSGATE_RETURN_IF_ERROR(c->Migrate());
  WSGATE_RETURN_IF_ERROR(c->Seed());
  Statement st = c->db_.Prepare("SELECT value FROM meta WHERE key = 'agent_id'");
  if (st.Next()) c->agent_id_ = st.Text(0);
  return c;
}

absl::Status Catalog::Migrate() {
  Statement st = db_.Prepare("PRAGMA user_version");
  int64_t version = st.Next() ? st.Int(0) : 0;
  if (version > kSchemaVersion)
    return absl::FailedPreconditionError(absl::StrCat("the catalog has schema version ", version,
                                                      ", newer than this agent understands (", kSchemaVersion, ")"));
  if (version == kSchemaVersion) return absl::OkStatus();
  Transaction tx(db_);
  WSGATE_RETURN_IF_ERROR(tx.Begin());
  if (version < 1) WSGATE_RETURN_IF_ERROR(db_.Exec(kSchemaV1));
  if (version < 2) WSGATE_RETURN_IF_ERROR(db_.Exec(kSchemaV2));
  // Later migrations go here: if (version < 3) { ... }
  WSGATE_RETURN_IF_ERROR(db_.Exec(absl::StrCat("PRAGMA user_version = ", kSchemaVersion)));
  return tx.Commit();
}

absl::Status Catalog::Seed() {
  Statement has = db_.Prepare("SELECT COUNT(*) FROM meta WHERE key = 'agent_id'");
  if (has.Next() && has.Int(0) > 0) return absl::OkStatus();
  Transaction tx(db_);
  WSGATE_RETURN_IF_ERROR(tx.Begin());
  WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO meta VALUES('agent_id', ?)").Bind(1, NewId()).Run());
  WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO meta VALUES('config_version', '1')").Run());
  // WSO2's default subscription policies for streaming APIs, and an unlimited application policy.
  std::vector<v1::ThrottlePolicy> defaults = {
      Builtin("AsyncGold", 50000, "Allows 50000 events per day"),
      Builtin("AsyncSilver", 25000, "Allows 25000 events per day"),
      Builtin("AsyncBronze", 5000, "Allows 5000 events per day"),
      Builtin("AsyncUnlimited", 0, "Allows unlimited events"),
  };
  v1::ThrottlePolicy unlimited = Builtin("Unlimited", 0, "Allows unlimited events");
  unlimited.set_level(v1::APPLICATION);
  defaults.push_back(unlimited);
  for (const auto& p : defaults)
    WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO policies VALUES(?, ?, ?, 1)")
                               .Bind(1, p.name())
                               .Bind(2, static_cast<int64_t>(p.level()))
                               .BindBlob(3, Serialize(p))
                               .Run());
  WSGATE_ASSIGN_OR_RETURN(auto key, SigningKey::Generate(v1::RS256, RandomHex(8)));
  WSGATE_RETURN_IF_ERROR(InsertSigningKey(*key, true));
  return tx.Commit();
}

void Catalog::SetChangeListener(std::function<void(uint64_t)> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listener_ = std::move(listener);
}

std::string Catalog::agent_id() const { return agent_id_; }

uint64_t Catalog::config_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st = const_cast<Db&>(db_).Prepare("SELECT value FROM meta WHERE key = 'config_version'");
  return st.Next() ? std::stoull(st.Text(0)) : 0;
}

absl::Status Catalog::Mutate(bool data_plane, const std::function<absl::Status()>& fn) {
  uint64_t version = 0;
  std::function<void(uint64_t)> listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Transaction tx(db_);
    WSGATE_RETURN_IF_ERROR(tx.Begin());
    WSGATE_RETURN_IF_ERROR(fn());
    if (data_plane) {
      WSGATE_RETURN_IF_ERROR(
          db_.Prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'config_version'").Run());
      Statement st = db_.Prepare("SELECT value FROM meta WHERE key = 'config_version'");
      if (st.Next()) version = std::stoull(st.Text(0));
    }
    WSGATE_RETURN_IF_ERROR(tx.Commit());
    listener = listener_;
  }
  if (data_plane && listener) listener(version);
  return absl::OkStatus();
}

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
  }
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
  for (const auto& plan : spec.plans())
    if (!PolicyExists(plan, v1::SUBSCRIPTION))
      return Invalid("plans", absl::StrCat("unknown business plan '", plan, "' (see `wsgatectl policy list`)"));
  if (!spec.throttle_policy().empty() && !PolicyExists(spec.throttle_policy(), v1::API))
    return Invalid("throttle_policy", absl::StrCat("unknown API-level policy '", spec.throttle_policy(), "'"));
  if (spec.security().empty()) spec.add_security("oauth2");
  for (const auto& scheme : spec.security()) {
    std::string lower = absl::AsciiStrToLower(scheme);
    if (lower == "basic" || lower == "basic_auth")
      return Invalid("security", "Basic authentication does not work for WebSocket APIs; use oauth2");
    if (lower != "oauth2") return Invalid("security", absl::StrCat("unsupported scheme '", scheme, "' (oauth2 only)"));
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
  std::lock_guard<std::mutex> lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
  return Info(row);
}

absl::StatusOr<std::vector<v1::ApiInfo>> Catalog::ListApis(const std::string& name_filter) {
  std::lock_guard<std::mutex> lock(mu_);
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
  std::lock_guard<std::mutex> lock(mu_);
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

std::vector<v1::Environment> Catalog::ListEnvironments() const {
  v1::Environment env;
  env.set_name(options_.environment);
  v1::Vhost* vhost = env.add_vhosts();
  vhost->set_name(options_.vhost);
  vhost->set_environment(options_.environment);
  vhost->set_ws_port(options_.ws_port);
  vhost->set_wss_port(options_.wss_port);
  return {env};
}

absl::StatusOr<v1::Deployment> Catalog::DeployRevision(const std::string& ref, uint32_t number, std::string environment,
                                                       std::string vhost) {
  if (environment.empty()) environment = options_.environment;
  if (vhost.empty()) vhost = options_.vhost;
  if (environment != options_.environment)
    return Invalid("env", absl::StrCat("unknown gateway environment '", environment, "' (known: '",
                                       options_.environment, "')"));
  if (vhost != options_.vhost)
    return Invalid("vhost", absl::StrCat("environment '", environment, "' has no vhost '", vhost, "' (it has '",
                                         options_.vhost, "')"));
  v1::Deployment out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(ref));
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
    return db_.Prepare("INSERT OR REPLACE INTO deployments VALUES(?, ?, ?, ?, ?)")
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
  std::lock_guard<std::mutex> lock(mu_);
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

// ---------------------------------------------------------------------------------------------
// Applications, subscriptions, keys

absl::StatusOr<v1::ApplicationInfo> Catalog::LoadApplication(const std::string& ref) {
  Statement st = db_.Prepare(
      "SELECT id, name, description, owner, throttle_policy, blocked, created_ms, scopes FROM applications "
      "WHERE id = ?1 OR name = ?1");
  st.Bind(1, ref);
  if (!st.Next()) {
    WSGATE_RETURN_IF_ERROR(st.status());
    return absl::NotFoundError(absl::StrCat("application: no application '", ref, "' (see `wsgatectl app list`)"));
  }
  v1::ApplicationInfo a;
  a.set_id(st.Text(0));
  a.set_name(st.Text(1));
  a.set_description(st.Text(2));
  a.set_owner(st.Text(3));
  a.set_throttle_policy(st.Text(4));
  a.set_blocked(st.Int(5) != 0);
  a.set_created_unix_ms(st.Int(6));
  for (absl::string_view scope : absl::StrSplit(st.Text(7), ' ', absl::SkipEmpty())) a.add_scopes(std::string(scope));
  return a;
}

absl::StatusOr<v1::ApplicationInfo> Catalog::CreateApplication(const v1::CreateApplicationRequest& req) {
  if (req.name().empty() || req.name().size() > 70) return Invalid("name", "must be 1-70 characters");
  v1::ApplicationInfo a;
  a.set_id(NewId());
  a.set_name(req.name());
  a.set_description(req.description());
  a.set_owner(req.owner().empty() ? "admin" : req.owner());
  a.set_throttle_policy(req.throttle_policy().empty() ? "Unlimited" : req.throttle_policy());
  a.set_created_unix_ms(NowMs());
  WSGATE_RETURN_IF_ERROR(ValidScopes("scopes", req.scopes()));
  *a.mutable_scopes() = req.scopes();
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    if (!PolicyExists(a.throttle_policy(), v1::APPLICATION))
      return Invalid("throttle_policy", absl::StrCat("unknown application policy '", a.throttle_policy(), "'"));
    absl::Status s = db_.Prepare("INSERT INTO applications VALUES(?, ?, ?, ?, ?, 0, ?, ?)")
                         .Bind(1, a.id())
                         .Bind(2, a.name())
                         .Bind(3, a.description())
                         .Bind(4, a.owner())
                         .Bind(5, a.throttle_policy())
                         .Bind(6, a.created_unix_ms())
                         .Bind(7, absl::StrJoin(a.scopes(), " "))
                         .Run();
    if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat("an application named '", a.name(), "' already exists"));
    return s;
  }));
  return a;
}

absl::StatusOr<v1::ApplicationInfo> Catalog::GetApplication(const std::string& ref) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadApplication(ref);
}

absl::StatusOr<std::vector<v1::ApplicationInfo>> Catalog::ListApplications() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st = db_.Prepare("SELECT id FROM applications ORDER BY name");
  WSGATE_ASSIGN_OR_RETURN(std::vector<std::string> ids, Ids(st));
  return LoadEach<v1::ApplicationInfo>(ids, [&](const std::string& id) { return LoadApplication(id); });
}

absl::StatusOr<v1::ApplicationInfo> Catalog::UpdateApplication(const v1::UpdateApplicationRequest& req) {
  v1::ApplicationInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(out, LoadApplication(req.application()));
    if (req.has_blocked()) out.set_blocked(req.blocked());
    if (req.has_description()) out.set_description(req.description());
    if (req.has_throttle_policy()) {
      if (!PolicyExists(req.throttle_policy(), v1::APPLICATION))
        return Invalid("throttle_policy", absl::StrCat("unknown application policy '", req.throttle_policy(), "'"));
      out.set_throttle_policy(req.throttle_policy());
    }
    if (req.has_scopes()) {
      WSGATE_RETURN_IF_ERROR(ValidScopes("scopes", req.scopes().scopes()));
      *out.mutable_scopes() = req.scopes().scopes();
    }
    return db_.Prepare("UPDATE applications SET description = ?, throttle_policy = ?, blocked = ?, scopes = ? WHERE id = ?")
        .Bind(1, out.description())
        .Bind(2, out.throttle_policy())
        .Bind(3, out.blocked() ? 1 : 0)
        .Bind(4, absl::StrJoin(out.scopes(), " "))
        .Bind(5, out.id())
        .Run();
  }));
  return out;
}

absl::Status Catalog::DeleteApplication(const std::string& ref) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(ref));
    // Its subscriptions, keys and tokens go with it (its live sockets close on the push).
    for (const char* sql : {"DELETE FROM issued_tokens WHERE consumer_key IN (SELECT consumer_key FROM consumer_keys WHERE application_id = ?)",
                            "DELETE FROM subscriptions WHERE application_id = ?",
                            "DELETE FROM consumer_keys WHERE application_id = ?", "DELETE FROM applications WHERE id = ?"})
      WSGATE_RETURN_IF_ERROR(db_.Prepare(sql).Bind(1, a.id()).Run());
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::SubscriptionInfo> Catalog::LoadSubscription(const std::string& id) {
  Statement st = db_.Prepare(
      "SELECT s.id, s.application_id, a.name, s.api_id, p.name || ':' || p.version, s.plan, s.state, s.created_ms "
      "FROM subscriptions s JOIN applications a ON a.id = s.application_id JOIN apis p ON p.id = s.api_id WHERE s.id = ?");
  st.Bind(1, id);
  if (!st.Next()) return absl::NotFoundError(absl::StrCat("subscription: no subscription '", id, "'"));
  v1::SubscriptionInfo s;
  s.set_id(st.Text(0));
  s.set_application_id(st.Text(1));
  s.set_application_name(st.Text(2));
  s.set_api_id(st.Text(3));
  s.set_api(st.Text(4));
  s.set_plan(st.Text(5));
  s.set_state(static_cast<v1::SubscriptionState>(st.Int(6)));
  s.set_created_unix_ms(st.Int(7));
  return s;
}

absl::StatusOr<v1::SubscriptionInfo> Catalog::CreateSubscription(const std::string& app, const std::string& api,
                                                                 const std::string& plan) {
  std::string id = NewId();
  v1::SubscriptionInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(api));
    if (row.state != v1::PUBLISHED && row.state != v1::PRE_RELEASED)
      return absl::FailedPreconditionError(absl::StrCat("API ", ApiRefText(row.spec), " is ", StateName(row.state),
                                                        "; only PUBLISHED APIs accept new subscriptions"));
    if (std::find(row.spec.plans().begin(), row.spec.plans().end(), plan) == row.spec.plans().end())
      return Invalid("plan", absl::StrCat("API ", ApiRefText(row.spec), " does not offer plan '", plan, "' (it offers: ",
                                          row.spec.plans().empty() ? "none" : absl::StrJoin(row.spec.plans(), ", "), ")"));
    absl::Status s = db_.Prepare("INSERT INTO subscriptions VALUES(?, ?, ?, ?, ?, ?)")
                         .Bind(1, id)
                         .Bind(2, a.id())
                         .Bind(3, row.id)
                         .Bind(4, plan)
                         .Bind(5, static_cast<int64_t>(v1::ACTIVE))
                         .Bind(6, NowMs())
                         .Run();
    if (absl::IsAlreadyExists(s))
      return absl::AlreadyExistsError(absl::StrCat("application '", a.name(), "' is already subscribed to ", ApiRefText(row.spec)));
    WSGATE_RETURN_IF_ERROR(s);
    WSGATE_ASSIGN_OR_RETURN(out, LoadSubscription(id));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::SubscriptionInfo>> Catalog::ListSubscriptions(const std::string& app, const std::string& api) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string app_id, api_id;
  if (!app.empty()) {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
    app_id = a.id();
  }
  if (!api.empty()) {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(api));
    api_id = row.id;
  }
  Statement st = db_.Prepare(
      "SELECT id FROM subscriptions WHERE (?1 = '' OR application_id = ?1) AND (?2 = '' OR api_id = ?2) ORDER BY created_ms");
  st.Bind(1, app_id).Bind(2, api_id);
  WSGATE_ASSIGN_OR_RETURN(std::vector<std::string> ids, Ids(st));
  return LoadEach<v1::SubscriptionInfo>(ids, [&](const std::string& id) { return LoadSubscription(id); });
}

absl::StatusOr<v1::SubscriptionInfo> Catalog::UpdateSubscription(const v1::UpdateSubscriptionRequest& req) {
  v1::SubscriptionInfo out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(out, LoadSubscription(req.subscription()));
    if (req.has_plan()) {
      WSGATE_ASSIGN_OR_RETURN(ApiRow row, LoadApi(out.api_id()));
      if (std::find(row.spec.plans().begin(), row.spec.plans().end(), req.plan()) == row.spec.plans().end())
        return Invalid("plan", absl::StrCat("API ", ApiRefText(row.spec), " does not offer plan '", req.plan(), "'"));
      out.set_plan(req.plan());
    }
    if (req.has_state()) {
      if (req.state() == v1::SUBSCRIPTION_STATE_UNSPECIFIED) return Invalid("state", "must be set");
      out.set_state(req.state());
    }
    return db_.Prepare("UPDATE subscriptions SET plan = ?, state = ? WHERE id = ?")
        .Bind(1, out.plan())
        .Bind(2, static_cast<int64_t>(out.state()))
        .Bind(3, out.id())
        .Run();
  }));
  return out;
}

absl::Status Catalog::DeleteSubscription(const std::string& id) {
  return Mutate(true, [&]() -> absl::Status {
    Statement del = db_.Prepare("DELETE FROM subscriptions WHERE id = ?");
    del.Bind(1, id);
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0) return absl::NotFoundError(absl::StrCat("subscription: no subscription '", id, "'"));
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::KeyPair> Catalog::GenerateKeys(const std::string& app, v1::KeyType type, bool regenerate) {
  if (type == v1::KEY_TYPE_UNSPECIFIED) type = v1::PRODUCTION;
  v1::KeyPair out;
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
    Statement existing = db_.Prepare("SELECT consumer_key FROM consumer_keys WHERE application_id = ? AND key_type = ?");
    existing.Bind(1, a.id()).Bind(2, static_cast<int64_t>(type));
    if (existing.Next()) {
      if (!regenerate)
        return absl::AlreadyExistsError(absl::StrCat("application '", a.name(), "' already has ", KeyTypeName(type),
                                                     " keys (consumer key ", existing.Text(0),
                                                     "); pass --regenerate to replace them"));
      std::string old = existing.Text(0);
      WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM issued_tokens WHERE consumer_key = ?").Bind(1, old).Run());
      WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM consumer_keys WHERE consumer_key = ?").Bind(1, old).Run());
    }
    out.set_application_id(a.id());
    out.set_key_type(type);
    out.set_consumer_key(RandomHex(14));
    out.set_consumer_secret(RandomHex(20));
    out.set_created_unix_ms(NowMs());
    // The secret is shown once and stored only as a hash (it is random, so SHA-256 suffices).
    return db_.Prepare("INSERT INTO consumer_keys VALUES(?, ?, ?, ?, ?)")
        .Bind(1, a.id())
        .Bind(2, static_cast<int64_t>(type))
        .Bind(3, out.consumer_key())
        .BindBlob(4, Sha256(out.consumer_secret()))
        .Bind(5, out.created_unix_ms())
        .Run();
  }));
  return out;
}

absl::StatusOr<std::vector<v1::KeyPair>> Catalog::ListKeys(const std::string& app) {
  std::lock_guard<std::mutex> lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
  std::vector<v1::KeyPair> out;
  Statement st = db_.Prepare("SELECT key_type, consumer_key, created_ms FROM consumer_keys WHERE application_id = ? ORDER BY key_type");
  st.Bind(1, a.id());
  while (st.Next()) {
    v1::KeyPair k;
    k.set_application_id(a.id());
    k.set_key_type(static_cast<v1::KeyType>(st.Int(0)));
    k.set_consumer_key(st.Text(1));
    k.set_created_unix_ms(st.Int(2));
    out.push_back(std::move(k));
  }
  return out;
}

absl::Status Catalog::DeleteKeys(const std::string& app, v1::KeyType type) {
  return Mutate(true, [&]() -> absl::Status {
    WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
    Statement del = db_.Prepare("DELETE FROM consumer_keys WHERE application_id = ? AND key_type = ?");
    del.Bind(1, a.id()).Bind(2, static_cast<int64_t>(type));
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0)
      return absl::NotFoundError(absl::StrCat("application '", a.name(), "' has no ", KeyTypeName(type), " keys"));
    return absl::OkStatus();
  });
}

absl::StatusOr<ClientIdentity> Catalog::AuthenticateClient(const std::string& consumer_key, const std::string& secret) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st = db_.Prepare("SELECT application_id, key_type, secret_sha256 FROM consumer_keys WHERE consumer_key = ?");
  st.Bind(1, consumer_key);
  std::string expected = st.Next() ? st.Text(2) : std::string(32, '\0');
  // Compare even for an unknown key, so timing does not tell which part was wrong.
  bool ok = SecureEquals(Sha256(secret), expected) && !st.Text(0).empty();
  if (!ok) return absl::UnauthenticatedError("invalid client credentials");
  return ClientIdentity{st.Text(0), static_cast<v1::KeyType>(st.Int(1))};
}

// ---------------------------------------------------------------------------------------------
// Tokens and signing keys

absl::Status Catalog::InsertSigningKey(const SigningKey& key, bool active) {
  if (active) WSGATE_RETURN_IF_ERROR(db_.Prepare("UPDATE signing_keys SET active = 0, retire_after_s = ? WHERE active = 1")
                                         .Bind(1, NowS() + options_.max_token_ttl_s + 60)
                                         .Run());
  return db_.Prepare("INSERT INTO signing_keys VALUES(?, ?, ?, ?, ?, ?, 0)")
      .Bind(1, key.kid())
      .Bind(2, static_cast<int64_t>(key.algorithm()))
      .Bind(3, key.PrivatePem())
      .Bind(4, key.PublicPem())
      .Bind(5, active ? 1 : 0)
      .Bind(6, NowMs())
      .Run();
}

absl::StatusOr<std::unique_ptr<SigningKey>> Catalog::ActiveKey() {
  Statement st = db_.Prepare("SELECT kid, algorithm, private_pem FROM signing_keys WHERE active = 1");
  if (!st.Next()) return absl::InternalError("no active signing key");
  return SigningKey::FromPrivatePem(static_cast<v1::SigningAlgorithm>(st.Int(1)), st.Text(0), st.Text(2));
}

absl::StatusOr<v1::AccessToken> Catalog::IssueTokenLocked(const std::string& application_id,
                                                          const std::string& consumer_key, v1::KeyType type,
                                                          const std::vector<std::string>& scopes, uint32_t ttl_s) {
  if (ttl_s == 0) ttl_s = options_.default_token_ttl_s;
  if (ttl_s > options_.max_token_ttl_s)
    return Invalid("ttl", absl::StrCat(ttl_s, " s is longer than the maximum ", options_.max_token_ttl_s, " s"));
  WSGATE_ASSIGN_OR_RETURN(auto app, LoadApplication(application_id));
  // Only scopes an admin granted the application (never self-granted by the client).
  for (const auto& s : scopes)
    if (std::find(app.scopes().begin(), app.scopes().end(), s) == app.scopes().end())
      return Invalid("scope", absl::StrCat("application '", app.name(), "' was not granted scope '", s, "' (granted: ",
                                           app.scopes().empty() ? "none" : absl::StrJoin(app.scopes(), " "),
                                           "; an admin grants scopes with `wsgatectl app update ", app.name(),
                                           " --scope S`)"));
  WSGATE_ASSIGN_OR_RETURN(auto key, ActiveKey());
  int64_t now = NowS();
  std::string jti = NewId();
  std::string scope = absl::StrJoin(scopes, " ");
  Json payload = {{"iss", options_.issuer}, {"sub", app.owner()},      {"aud", "wsgate"},
                  {"iat", now},             {"nbf", now},              {"exp", now + ttl_s},
                  {"jti", jti},             {"client_id", consumer_key}, {"key_type", KeyTypeName(type)},
                  {"application", app.id()}, {"scope", scope}};
  WSGATE_ASSIGN_OR_RETURN(std::string token, key->SignJwt(payload));
  WSGATE_RETURN_IF_ERROR(db_.Prepare("INSERT INTO issued_tokens VALUES(?, ?, ?)")
                             .Bind(1, jti)
                             .Bind(2, consumer_key)
                             .Bind(3, now + ttl_s)
                             .Run());
  // Forget tokens that can no longer be used, so the table stays small.
  WSGATE_RETURN_IF_ERROR(db_.Prepare("DELETE FROM issued_tokens WHERE expires_s < ?").Bind(1, now - 60).Run());
  v1::AccessToken out;
  out.set_access_token(token);
  out.set_token_type("Bearer");
  out.set_expires_in(ttl_s);
  out.set_scope(scope);
  out.set_jti(jti);
  return out;
}

absl::StatusOr<v1::AccessToken> Catalog::IssueToken(const std::string& app, v1::KeyType type,
                                                    const std::vector<std::string>& scopes, uint32_t ttl_s) {
  if (type == v1::KEY_TYPE_UNSPECIFIED) type = v1::PRODUCTION;
  std::lock_guard<std::mutex> lock(mu_);
  WSGATE_ASSIGN_OR_RETURN(auto a, LoadApplication(app));
  Statement st = db_.Prepare("SELECT consumer_key FROM consumer_keys WHERE application_id = ? AND key_type = ?");
  st.Bind(1, a.id()).Bind(2, static_cast<int64_t>(type));
  if (!st.Next())
    return absl::FailedPreconditionError(absl::StrCat("application '", a.name(), "' has no ", KeyTypeName(type),
                                                      " keys; generate them first (wsgatectl keys generate ", a.name(),
                                                      " --type ", KeyTypeName(type), ")"));
  return IssueTokenLocked(a.id(), st.Text(0), type, scopes, ttl_s);
}

absl::StatusOr<v1::AccessToken> Catalog::IssueTokenForClient(const std::string& consumer_key,
                                                             const std::vector<std::string>& scopes) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st = db_.Prepare("SELECT application_id, key_type FROM consumer_keys WHERE consumer_key = ?");
  st.Bind(1, consumer_key);
  if (!st.Next()) return absl::UnauthenticatedError("invalid client credentials");
  return IssueTokenLocked(st.Text(0), consumer_key, static_cast<v1::KeyType>(st.Int(1)), scopes, 0);
}

absl::Status Catalog::RevokeTokenOfClient(const std::string& consumer_key, const std::string& token) {
  std::string jti;
  if (!JwtJti(token, &jti)) return absl::OkStatus();
  return Mutate(true, [&]() -> absl::Status {
    Statement st = db_.Prepare("SELECT expires_s FROM issued_tokens WHERE jti = ? AND consumer_key = ?");
    st.Bind(1, jti).Bind(2, consumer_key);
    if (!st.Next()) return absl::OkStatus();
    return db_.Prepare("INSERT OR REPLACE INTO revoked_tokens VALUES(?, ?)").Bind(1, jti).Bind(2, st.Int(0)).Run();
  });
}

absl::Status Catalog::RevokeToken(const std::string& token, const std::string& jti_in) {
  std::string jti = jti_in;
  if (jti.empty() && !JwtJti(token, &jti))
    return Invalid("token", "not a JWT issued by this agent (give the token or --jti)");
  return Mutate(true, [&]() -> absl::Status {
    Statement st = db_.Prepare("SELECT expires_s FROM issued_tokens WHERE jti = ?");
    st.Bind(1, jti);
    if (!st.Next()) return absl::NotFoundError(absl::StrCat("jti: no live token with jti '", jti, "' was issued by this agent"));
    return db_.Prepare("INSERT OR REPLACE INTO revoked_tokens VALUES(?, ?)").Bind(1, jti).Bind(2, st.Int(0)).Run();
  });
}

absl::StatusOr<v1::SigningKeyInfo> Catalog::RotateSigningKey(v1::SigningAlgorithm alg) {
  if (alg == v1::SIGNING_ALGORITHM_UNSPECIFIED) alg = v1::RS256;
  WSGATE_ASSIGN_OR_RETURN(auto key, SigningKey::Generate(alg, RandomHex(8)));
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() { return InsertSigningKey(*key, true); }));
  v1::SigningKeyInfo info;
  info.set_kid(key->kid());
  info.set_algorithm(alg);
  info.set_public_key_pem(key->PublicPem());
  info.set_active(true);
  info.set_created_unix_ms(NowMs());
  return info;
}

absl::StatusOr<std::vector<v1::SigningKeyInfo>> Catalog::ListSigningKeys() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::SigningKeyInfo> out;
  Statement st = db_.Prepare(
      "SELECT kid, algorithm, public_pem, active, created_ms, retire_after_s FROM signing_keys "
      "WHERE active = 1 OR retire_after_s > ? ORDER BY created_ms");
  st.Bind(1, NowS());
  while (st.Next()) {
    v1::SigningKeyInfo k;
    k.set_kid(st.Text(0));
    k.set_algorithm(static_cast<v1::SigningAlgorithm>(st.Int(1)));
    k.set_public_key_pem(st.Text(2));
    k.set_active(st.Int(3) != 0);
    k.set_created_unix_ms(st.Int(4));
    k.set_retire_after_unix_s(st.Int(5));
    out.push_back(std::move(k));
  }
  return out;
}

absl::StatusOr<std::string> Catalog::Jwks() {
  std::lock_guard<std::mutex> lock(mu_);
  Json keys = Json::array();
  Statement st = db_.Prepare(
      "SELECT kid, algorithm, private_pem FROM signing_keys WHERE active = 1 OR retire_after_s > ? ORDER BY created_ms");
  st.Bind(1, NowS());
  while (st.Next()) {
    WSGATE_ASSIGN_OR_RETURN(auto key, SigningKey::FromPrivatePem(static_cast<v1::SigningAlgorithm>(st.Int(1)), st.Text(0), st.Text(2)));
    keys.push_back(key->Jwk());
  }
  return DumpJson({{"keys", std::move(keys)}});
}

// ---------------------------------------------------------------------------------------------
// Policies

absl::StatusOr<v1::ThrottlePolicy> Catalog::CreatePolicy(const v1::ThrottlePolicy& in) {
  v1::ThrottlePolicy p = in;
  if (p.name().empty() || p.name().find_first_of(" /:") != std::string::npos)
    return Invalid("name", "must be non-empty without spaces, '/' or ':'");
  if (p.level() == v1::POLICY_LEVEL_UNSPECIFIED) p.set_level(v1::SUBSCRIPTION);
  if (!p.unlimited() && p.events() == 0) return Invalid("events", "must be > 0 (or set unlimited)");
  if (p.unit() == v1::TIME_UNIT_UNSPECIFIED) return Invalid("unit", "must be SECOND, MINUTE, HOUR, DAY or MONTH");
  if (p.unit_count() == 0) p.set_unit_count(1);
  if (!in.stop_on_quota_reach() && !in.unlimited()) p.set_stop_on_quota_reach(true);
  if (p.description().empty())
    p.set_description(p.unlimited() ? "Allows unlimited events"
                                    : absl::StrCat("Allows ", p.events(), " events per ",
                                                   p.unit_count() == 1 ? "" : absl::StrCat(p.unit_count(), " "),
                                                   absl::AsciiStrToLower(v1::TimeUnit_Name(p.unit())),
                                                   p.unit_count() == 1 ? "" : "s"));
  WSGATE_RETURN_IF_ERROR(Mutate(true, [&]() -> absl::Status {
    absl::Status s = db_.Prepare("INSERT INTO policies VALUES(?, ?, ?, 0)")
                         .Bind(1, p.name())
                         .Bind(2, static_cast<int64_t>(p.level()))
                         .BindBlob(3, Serialize(p))
                         .Run();
    if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat("a policy named '", p.name(), "' already exists"));
    return s;
  }));
  return p;
}

absl::StatusOr<std::vector<v1::ThrottlePolicy>> Catalog::ListPolicies(v1::PolicyLevel level) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::ThrottlePolicy> out;
  Statement st = db_.Prepare("SELECT policy FROM policies WHERE ?1 = 0 OR level = ?1 ORDER BY level, builtin DESC, name");
  st.Bind(1, static_cast<int64_t>(level));
  while (st.Next()) {
    v1::ThrottlePolicy p;
    p.ParseFromString(st.Text(0));
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status Catalog::DeletePolicy(const std::string& name) {
  return Mutate(true, [&]() -> absl::Status {
    Statement used = db_.Prepare(
        "SELECT 'subscription' FROM subscriptions WHERE plan = ?1 UNION ALL "
        "SELECT 'application' FROM applications WHERE throttle_policy = ?1 LIMIT 1");
    used.Bind(1, name);
    if (used.Next())
      return absl::FailedPreconditionError(absl::StrCat("policy '", name, "' is used by a ", used.Text(0)));
    // An API's offered plans are in its spec blob.
    Statement apis = db_.Prepare("SELECT spec FROM apis");
    while (apis.Next()) {
      v1::ApiSpec spec;
      spec.ParseFromString(apis.Text(0));
      if (std::find(spec.plans().begin(), spec.plans().end(), name) != spec.plans().end() || spec.throttle_policy() == name)
        return absl::FailedPreconditionError(absl::StrCat("policy '", name, "' is used by API ", ApiRefText(spec)));
    }
    Statement del = db_.Prepare("DELETE FROM policies WHERE name = ?");
    del.Bind(1, name);
    WSGATE_RETURN_IF_ERROR(del.Run());
    if (del.changes() == 0) return absl::NotFoundError(absl::StrCat("policy: no policy '", name, "'"));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------
// The snapshot

absl::StatusOr<v1::Snapshot> Catalog::BuildSnapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  v1::Snapshot s;
  Statement version = db_.Prepare("SELECT value FROM meta WHERE key = 'config_version'");
  if (version.Next()) s.set_version(std::stoull(version.Text(0)));
  s.set_agent_id(agent_id_);
  s.set_created_unix_ms(NowMs());
  s.mutable_token_validation()->set_issuer(options_.issuer);
  for (const auto& env : ListEnvironments())
    for (const auto& vhost : env.vhosts()) {
      v1::Vhost* v = s.add_vhosts();
      *v = vhost;
      v->add_aliases("127.0.0.1");
    }

  // Deployed revisions of APIs in a serving (or blocked) state.
  Statement deployed = db_.Prepare(
      "SELECT a.id, a.state, d.revision, d.vhost, r.spec FROM deployments d JOIN apis a ON a.id = d.api_id "
      "JOIN revisions r ON r.api_id = d.api_id AND r.number = d.revision ORDER BY a.id");
  while (deployed.Next()) {
    auto state = static_cast<v1::LifecycleState>(deployed.Int(1));
    if (state == v1::CREATED || state == v1::RETIRED) continue;
    v1::ApiSpec spec;
    spec.ParseFromString(deployed.Text(4));
    v1::Api* api = s.add_apis();
    api->set_id(deployed.Text(0));
    api->set_name(spec.name());
    api->set_context(spec.context());
    api->set_version(spec.version());
    api->set_revision(static_cast<uint32_t>(deployed.Int(2)));
    api->set_is_default_version(spec.is_default_version());
    api->set_state(state);
    if (!spec.production_endpoint().url().empty()) *api->mutable_production_endpoint() = spec.production_endpoint();
    if (!spec.sandbox_endpoint().url().empty()) *api->mutable_sandbox_endpoint() = spec.sandbox_endpoint();
    *api->mutable_topics() = spec.topics();
    api->add_vhosts(deployed.Text(3));
    api->set_throttle_policy(spec.throttle_policy());
    *api->mutable_plans() = spec.plans();
  }
  WSGATE_RETURN_IF_ERROR(deployed.status());

  Statement apps = db_.Prepare("SELECT id, name, owner, blocked, throttle_policy FROM applications");
  while (apps.Next()) {
    v1::Application* a = s.add_applications();
    a->set_id(apps.Text(0));
    a->set_name(apps.Text(1));
    a->set_owner(apps.Text(2));
    a->set_blocked(apps.Int(3) != 0);
    a->set_throttle_policy(apps.Text(4));
  }
  Statement subs = db_.Prepare("SELECT id, application_id, api_id, plan, state FROM subscriptions");
  while (subs.Next()) {
    v1::Subscription* sub = s.add_subscriptions();
    sub->set_id(subs.Text(0));
    sub->set_application_id(subs.Text(1));
    sub->set_api_id(subs.Text(2));
    sub->set_plan(subs.Text(3));
    sub->set_state(static_cast<v1::SubscriptionState>(subs.Int(4)));
  }
  Statement keys = db_.Prepare("SELECT consumer_key, application_id, key_type FROM consumer_keys");
  while (keys.Next()) {
    v1::ConsumerKey* k = s.add_consumer_keys();
    k->set_client_id(keys.Text(0));
    k->set_application_id(keys.Text(1));
    k->set_key_type(static_cast<v1::KeyType>(keys.Int(2)));
  }
  int64_t now = NowS();
  Statement signing = db_.Prepare(
      "SELECT kid, algorithm, public_pem, retire_after_s FROM signing_keys WHERE active = 1 OR retire_after_s > ?");
  signing.Bind(1, now);
  while (signing.Next()) {
    v1::SigningKey* k = s.add_signing_keys();
    k->set_kid(signing.Text(0));
    k->set_algorithm(static_cast<v1::SigningAlgorithm>(signing.Int(1)));
    k->set_public_key_pem(signing.Text(2));
    k->set_retire_after_unix_s(signing.Int(3));
  }
  Statement revoked = db_.Prepare("SELECT jti, expires_s FROM revoked_tokens WHERE expires_s > ?");
  revoked.Bind(1, now - 60);
  while (revoked.Next()) {
    v1::RevokedToken* r = s.add_revoked_tokens();
    r->set_jti(revoked.Text(0));
    r->set_expires_unix_s(revoked.Int(1));
  }
  Statement policies = db_.Prepare("SELECT policy FROM policies");
  while (policies.Next()) s.add_throttle_policies()->ParseFromString(policies.Text(0));
  return s;
}

}  // namespace wsgate::agent
