// File: tools/wsgatectl/commands/api.cc — `wsgatectl api ...`: create, list, show, edit and
// delete APIs, set their business plans, and move them through the lifecycle.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "agent/settings.h"
#include "tools/wsgatectl/commands/commands.h"
#include "tools/wsgatectl/invoke_urls.h"
#include "tools/wsgatectl/table.h"
#include "tools/wsgatectl/text.h"

namespace wsgate::tools::ctl {
namespace {

constexpr const char* kSecurityHelp =
    "security schemes, comma-separated: oauth2 (Bearer token or ?access_token=) and/or api_key (apikey header or "
    "?apikey=; keys from `wsgatectl apikey create`); default oauth2";

// --security "oauth2,api_key" into `spec`.
void SetSecurity(const std::string& text, v1::ApiSpec* spec) {
  spec->clear_security();
  for (absl::string_view scheme : absl::StrSplit(text, absl::ByAnyChar(", "), absl::SkipEmpty()))
    spec->add_security(std::string(scheme));
}
// Issue 14 item 7: the backend JWT and the client headers passed to the backend (create and update).
struct BackendFlags {
  bool jwt = false, no_jwt = false, clear_pass = false;
  std::string header, validity;
  std::vector<std::string> pass;
  void Register(common::FlagParser& f, bool update) {
    f.AddBool("backend-jwt", &jwt, "send the backend a signed JWT about the caller (WSO2's X-JWT-Assertion)");
    if (update) f.AddBool("no-backend-jwt", &no_jwt, "stop sending the backend JWT");
    f.AddString("backend-jwt-header", &header, "the backend JWT's header (default X-JWT-Assertion)", "NAME");
    f.AddString("backend-jwt-validity", &validity, "the backend JWT's validity, 1m..1h (default 15m)", "DURATION");
    f.AddList("pass-header", &pass,
              "a client header passed to the backend (repeatable; replaces the list; then only listed ones pass)",
              "NAME");
    if (update) f.AddBool("clear-pass-headers", &clear_pass, "forget the pass-header list (Origin and User-Agent pass)");
  }
  bool given() const { return jwt || no_jwt || clear_pass || !header.empty() || !validity.empty() || !pass.empty(); }
  // Onto `b` (the API's current settings on update).
  absl::Status Apply(v1::BackendIdentity* b) const {
    if (jwt && no_jwt) return absl::InvalidArgumentError("--backend-jwt and --no-backend-jwt: give one of them");
    if (clear_pass && !pass.empty()) return absl::InvalidArgumentError("--pass-header and --clear-pass-headers: give one");
    if (jwt || no_jwt) b->set_jwt(jwt);
    if (!header.empty()) b->set_jwt_header(header);
    if (!validity.empty()) {
      absl::Duration d;
      if (!absl::ParseDuration(validity, &d) || d < absl::Seconds(1) || d != absl::Trunc(d, absl::Seconds(1)))
        return absl::InvalidArgumentError(
            absl::StrCat("--backend-jwt-validity: '", validity, "' is not a duration in whole seconds (e.g. 15m)"));
      b->set_jwt_validity_s(static_cast<uint32_t>(absl::ToInt64Seconds(d)));
    }
    if (clear_pass || !pass.empty()) b->clear_pass_headers();
    for (const auto& p : pass) b->add_pass_headers(p);
    return absl::OkStatus();
  }
};

struct CreateFlags {
  std::string context, version, endpoint, sandbox, description, security;
  bool default_version = false;
  BackendFlags backend;
  void Register(common::FlagParser& f) {
    f.AddString("security", &security, kSecurityHelp, "SCHEMES");
    backend.Register(f, false);
    f.AddString("context", &context, "context, e.g. /chats", "/CTX");
    f.AddString("version", &version, "version, e.g. 1.0.0", "V");
    f.AddString("endpoint", &endpoint, "production endpoint, ws:// or wss://", "URL");
    f.AddString("sandbox-endpoint", &sandbox, "sandbox endpoint", "URL");
    f.AddString("description", &description, "free text", "TEXT");
    f.AddBool("default-version", &default_version, "also serve it without the version segment");
    f.MarkRequired("context");
    f.MarkRequired("version");
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
  SetSecurity(flags.security, s);
  if (!flags.endpoint.empty()) s->mutable_production_endpoint()->set_url(flags.endpoint);
  if (!flags.sandbox.empty()) s->mutable_sandbox_endpoint()->set_url(flags.sandbox);
  if (flags.backend.given())
    if (absl::Status st = flags.backend.Apply(s->mutable_backend()); !st.ok()) return st;
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
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : resp.apis()) {
    std::vector<std::string> revs;
    for (uint32_t r : a.deployed_revisions()) revs.push_back(std::to_string(r));
    rows.push_back({a.spec().name() + ":" + a.spec().version(), a.spec().context(), StateText(a.state()),
                    revs.empty() ? "-" : absl::StrJoin(revs, ","), a.id()});
  }
  std::string text = Table({"API", "CONTEXT", "STATE", "DEPLOYED", "ID"}, rows);
  if (rows.empty())
    text = flags.filter.empty() ? "No APIs yet (wsgatectl api create ...)"
                                : "No API name contains '" + flags.filter + "' (wsgatectl api list lists all)";
  Print(ctx, resp, text);
  return absl::OkStatus();
}

absl::Status Get(Ctx& ctx) {
  v1::ApiRef req;
  req.set_api(ctx.args[0]);
  v1::ApiInfo resp;
  if (absl::Status s = Call(ctx, &Stub::GetApi, req, resp); !s.ok()) return s;
  std::string text = ApiText(resp);
  if (!ctx.json()) {  // where clients connect, as the Developer Portal shows it (issue 17)
    v1::ListDeploymentsResponse deployments;
    v1::ListEnvironmentsResponse environments;
    if (absl::Status s = Call(ctx, &Stub::ListDeployments, req, deployments); !s.ok()) return s;
    if (absl::Status s = Call(ctx, &Stub::ListEnvironments, v1::Empty(), environments); !s.ok()) return s;
    std::vector<std::string> urls = InvokeUrls(resp.spec(), deployments, environments);
    absl::StrAppend(&text, "\n  invoke URLs:", urls.empty() ? " none (not deployed)" : "");
    for (const auto& url : urls) absl::StrAppend(&text, "\n    ", url);
  }
  Print(ctx, resp, text);
  return absl::OkStatus();
}

struct UpdateFlags {
  std::string endpoint, sandbox, description, policy, max_message_size, connect_timeout;
  std::string idle_timeout, max_lifetime, handshake_rate, handshake_burst, security;
  bool default_version = false, not_default_version = false, no_policy = false;
  BackendFlags backend;
  void Register(common::FlagParser& f) {
    f.AddString("security", &security, kSecurityHelp, "SCHEMES");
    backend.Register(f, true);
    f.AddString("policy", &policy, "attach an API-level throttle policy (policy create --level api)", "POLICY");
    f.AddBool("no-policy", &no_policy, "detach the API-level policy (unlimited)");
    f.AddString("max-message-size", &max_message_size,
                "largest message on this API, e.g. 1MiB ('default': the environment's max_message_bytes)", "SIZE");
    f.AddString("connect-timeout", &connect_timeout,
                "upstream connect timeout of both endpoints, e.g. 5s ('default': the environment's)", "DURATION");
    f.AddString("idle-timeout", &idle_timeout,
                "close 1001 a connection with no data frame for this long, e.g. 5m ('default': the environment's)",
                "DURATION");
    f.AddString("max-lifetime", &max_lifetime, "close 1001 connections this old, e.g. 24h ('default': the environment's)",
                "DURATION");
    f.AddString("handshake-rate", &handshake_rate, "new connections per second to this API per engine (429 beyond)", "N");
    f.AddString("handshake-burst", &handshake_burst, "the handshake rate's burst (default: the rate)", "N");
    f.AddString("endpoint", &endpoint, "production endpoint", "URL");
    f.AddString("sandbox-endpoint", &sandbox, "sandbox endpoint", "URL");
    f.AddString("description", &description, "free text", "TEXT");
    f.AddBool("default-version", &default_version, "serve it without the version segment too");
    f.AddBool("not-default-version", &not_default_version, "stop serving it without the version segment");
  }
};

// A setting's value as `settings set` reads it ('default' = 0), with the flag's name in errors.
absl::StatusOr<uint64_t> SettingFlag(const char* flag, const char* key, const std::string& text) {
  if (text == "default") return 0;
  absl::StatusOr<uint64_t> v = agent::settings::Parse(*agent::settings::Find(key), text);
  if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " (", v.status().message(), ")"));
  return v;
}

// --policy/--no-policy, --max-message-size and --connect-timeout into `req`. The connect timeout
// lives on each endpoint, so the current endpoints are read first (unless --endpoint replaced them).
absl::Status AddOverrides(const Ctx& ctx, const UpdateFlags& flags, v1::UpdateApiRequest& req) {
  if (!flags.policy.empty() && flags.no_policy)
    return absl::InvalidArgumentError("--policy and --no-policy: give one of them");
  if (!flags.policy.empty() || flags.no_policy) {
    req.mutable_spec()->set_throttle_policy(flags.policy);
    req.add_update_fields("throttle_policy");
  }
  if (!flags.max_message_size.empty()) {
    absl::StatusOr<uint64_t> v = SettingFlag("max-message-size", "max_message_bytes", flags.max_message_size);
    if (!v.ok()) return v.status();
    req.mutable_spec()->set_max_message_bytes(*v);
    req.add_update_fields("max_message_bytes");
  }
  // Admission overrides (issue 15): each in the units and range of the setting it overrides.
  using Setter = void (v1::ApiSpec::*)(uint32_t);
  for (auto [text, flag, key, field, set] :
       {std::tuple{&flags.idle_timeout, "idle-timeout", "idle_timeout", "idle_timeout_ms", Setter{&v1::ApiSpec::set_idle_timeout_ms}},
        std::tuple{&flags.max_lifetime, "max-lifetime", "max_lifetime", "max_lifetime_ms", Setter{&v1::ApiSpec::set_max_lifetime_ms}},
        std::tuple{&flags.handshake_rate, "handshake-rate", "handshake_rate_per_api", "handshake_rate",
                   Setter{&v1::ApiSpec::set_handshake_rate}},
        std::tuple{&flags.handshake_burst, "handshake-burst", "handshake_burst_per_api", "handshake_burst",
                   Setter{&v1::ApiSpec::set_handshake_burst}}}) {
    if (text->empty()) continue;
    absl::StatusOr<uint64_t> v = SettingFlag(flag, key, *text);
    if (!v.ok()) return v.status();
    (req.mutable_spec()->*set)(static_cast<uint32_t>(*v));
    req.add_update_fields(field);
  }
  if (flags.connect_timeout.empty()) return absl::OkStatus();
  absl::StatusOr<uint64_t> ms = SettingFlag("connect-timeout", "connect_timeout", flags.connect_timeout);
  if (!ms.ok()) return ms.status();
  v1::ApiRef ref;
  ref.set_api(req.api());
  v1::ApiInfo current;
  if (absl::Status s = Call(ctx, &Stub::GetApi, ref, current); !s.ok()) return s;
  v1::ApiSpec* spec = req.mutable_spec();
  if (flags.endpoint.empty()) *spec->mutable_production_endpoint() = current.spec().production_endpoint();
  if (flags.sandbox.empty()) *spec->mutable_sandbox_endpoint() = current.spec().sandbox_endpoint();
  for (auto [field, ep] : {std::pair{"production_endpoint", spec->mutable_production_endpoint()},
                           std::pair{"sandbox_endpoint", spec->mutable_sandbox_endpoint()}}) {
    if (ep->url().empty()) continue;
    ep->set_connect_timeout_ms(static_cast<uint32_t>(*ms));
    if (std::find(req.update_fields().begin(), req.update_fields().end(), field) == req.update_fields().end())
      req.add_update_fields(field);
  }
  return absl::OkStatus();
}

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
  if (!flags.security.empty()) {
    SetSecurity(flags.security, req.mutable_spec());
    req.add_update_fields("security");
  }
  if (absl::Status s = AddOverrides(ctx, flags, req); !s.ok()) return s;
  if (flags.backend.given()) {  // the whole BackendIdentity is replaced: start from the current one
    v1::ApiRef ref;
    ref.set_api(req.api());
    v1::ApiInfo current;
    if (absl::Status s = Call(ctx, &Stub::GetApi, ref, current); !s.ok()) return s;
    *req.mutable_spec()->mutable_backend() = current.spec().backend();
    if (absl::Status s = flags.backend.Apply(req.mutable_spec()->mutable_backend()); !s.ok()) return s;
    req.add_update_fields("backend");
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
                                 "API [--endpoint URL] [--sandbox-endpoint URL] [--description T] [--default-version] "
                                 "[--policy P | --no-policy] [--max-message-size SIZE] [--connect-timeout DURATION] "
                                 "[--idle-timeout DURATION] [--max-lifetime DURATION] [--handshake-rate N] "
                                 "[--handshake-burst N] [--backend-jwt | --no-backend-jwt] [--backend-jwt-header NAME] "
                                 "[--backend-jwt-validity DURATION] [--pass-header NAME]... [--clear-pass-headers]",
                                 "change an API's endpoints, description, default-version flag, API-level policy, "
                                 "limits or backend identity",
                                 1, 1, &Update));
  commands.push_back(
      MakeCommand("api delete", "API", "delete an API (not while deployed or subscribed)", 1, 1, &Delete));
  commands.push_back(
      MakeCommand("api plans", "API PLAN...", "set the business plans an API offers (e.g. AsyncGold)", 2, -1, &Plans));
  commands.push_back(MakeCommand("api lifecycle", "API ACTION",
                                 "Publish, Deploy as a Prototype, Demote to Created, Block, Re-Publish, Deprecate, Retire",
                                 2, -1, &Lifecycle));
}

}  // namespace wsgate::tools::ctl
