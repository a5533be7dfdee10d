// File: tools/wsgatectl/main.cc — wsgatectl, the admin CLI: a gRPC client of wsgate-agent's
// Admin API. Every command is `wsgatectl GROUP VERB ARGS [FLAGS]`; `-o json` prints the reply
// as JSON; failures print one line and exit non-zero. Commands that change what engines serve
// wait (up to 10 s, --no-wait skips) until every engine has applied the change, so a script can
// connect right after.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/paths.h"
#include "engine/common/flags.h"
#include "wsgate/v1/admin.grpc.pb.h"

namespace {

using wsgate::common::FlagParser;
namespace v1 = wsgate::v1;

// Flags and settings every command understands.
struct Globals {
  std::string agent = "127.0.0.1:9400";
  std::string data_dir = wsgate::agent::DefaultDataDir();
  std::string output = "text";
  bool no_wait = false;
};

struct Command;

// What a command's run function gets.
struct Ctx {
  const Command* command;
  Globals globals;
  std::vector<std::string> args;  // positional arguments after GROUP VERB
  std::unique_ptr<v1::Admin::Stub> stub;
  std::string credential;
  bool json() const { return globals.output == "json"; }
};

struct Command {
  std::string path;   // "api create"
  std::string usage;  // "NAME --context CTX --version V --endpoint URL"
  std::string help;
  int min_args = 0, max_args = 0;  // positional arguments; max -1 = any
  std::function<void(FlagParser&)> flags;
  std::function<int(Ctx&)> run;
};

int Fail(const std::string& message) {
  std::cerr << "wsgatectl: " << message << "\n";
  return 1;
}

int Fail(const grpc::Status& s) {
  std::string code;
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE: return Fail("cannot reach the agent (is wsgate-agent running? --agent): " + s.error_message());
    case grpc::StatusCode::UNAUTHENTICATED: return Fail(s.error_message());
    default: return Fail(s.error_message());
  }
}

void Print(const Ctx& ctx, const google::protobuf::Message& m, const std::string& text) {
  if (ctx.json()) {
    std::string out;
    google::protobuf::util::JsonPrintOptions o;
    o.add_whitespace = true;
    o.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(m, &out, o);
    std::cout << out;
    if (out.empty() || out.back() != '\n') std::cout << "\n";
  } else if (!text.empty()) {
    std::cout << text << (text.back() == '\n' ? "" : "\n");
  }
}

std::unique_ptr<grpc::ClientContext> Context(const Ctx& ctx) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->AddMetadata("authorization", "Bearer " + ctx.credential);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return c;
}

// Calls an RPC; on failure prints the one-line error. Usage: CALL(Rpc, request, response).
#define CALL(Rpc, req, resp)                                               \
  do {                                                                     \
    grpc::Status wsgatectl_status_ = ctx.stub->Rpc(Context(ctx).get(), req, &resp); \
    if (!wsgatectl_status_.ok()) return Fail(wsgatectl_status_);           \
  } while (0)

absl::StatusOr<v1::KeyType> ParseKeyType(const std::string& text) {
  std::string up = absl::AsciiStrToUpper(text);
  if (up == "PRODUCTION") return v1::PRODUCTION;
  if (up == "SANDBOX") return v1::SANDBOX;
  return absl::InvalidArgumentError("--type: '" + text + "' is not PRODUCTION or SANDBOX");
}

std::string State(v1::LifecycleState s) {
  return s == v1::PRE_RELEASED ? "PRE-RELEASED" : v1::LifecycleState_Name(s);
}

// After a data-plane change: wait until every reachable engine has applied the agent's version.
void WaitForEngines(Ctx& ctx) {
  if (ctx.globals.no_wait) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  v1::AgentStatus status;
  while (std::chrono::steady_clock::now() < deadline) {
    status.Clear();
    if (!ctx.stub->GetStatus(Context(ctx).get(), v1::Empty(), &status).ok()) return;
    bool done = true;
    for (const auto& e : status.engines())
      if (e.applied_version() < status.config_version()) done = false;
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (const auto& e : status.engines())
    if (e.applied_version() < status.config_version())
      std::cerr << "wsgatectl: warning: engine " << e.target() << " has not applied config version "
                << status.config_version() << " yet (" << (e.last_error().empty() ? "pending" : e.last_error()) << ")\n";
}

std::string ApiText(const v1::ApiInfo& a) {
  const v1::ApiSpec& s = a.spec();
  std::string out = absl::StrCat(s.name(), ":", s.version(), "  context ", s.context(), "  state ", State(a.state()),
                                 "  id ", a.id(), "\n");
  if (!s.production_endpoint().url().empty()) absl::StrAppend(&out, "  production endpoint ", s.production_endpoint().url(), "\n");
  if (!s.sandbox_endpoint().url().empty()) absl::StrAppend(&out, "  sandbox endpoint    ", s.sandbox_endpoint().url(), "\n");
  if (s.is_default_version()) absl::StrAppend(&out, "  default version (also at ", s.context(), "/...)\n");
  absl::StrAppend(&out, "  plans: ", s.plans().empty() ? "none" : absl::StrJoin(s.plans(), ", "), "\n");
  absl::StrAppend(&out, "  topics:", s.topics().empty() ? " none" : "", "\n");
  for (const auto& t : s.topics()) {
    absl::StrAppend(&out, "    ", t.name(), t.url_mapping().empty() ? "" : absl::StrCat("  ->  ", t.url_mapping()));
    if (!t.scopes().empty()) absl::StrAppend(&out, "  scopes: ", absl::StrJoin(t.scopes(), ","));
    if (t.unsecured()) absl::StrAppend(&out, "  (no token needed)");
    out += "\n";
  }
  std::vector<std::string> deployed;
  for (uint32_t r : a.deployed_revisions()) deployed.push_back(std::to_string(r));
  absl::StrAppend(&out, "  deployed revisions: ", deployed.empty() ? "none" : absl::StrJoin(deployed, ", "));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The commands

std::vector<Command> Commands() {
  static std::string context, version, endpoint, sandbox, description, mapping, env, vhost, owner, policy, plan,
      type = "PRODUCTION", jti, filter, alg = "RS256", unit, level, app_filter, api_filter;
  static std::vector<std::string> scopes;
  static bool default_version = false, unsecured = false, regenerate = false, production_only = false,
              unlimited = false, no_default_version = false;
  static int64_t ttl = 0, events = 0, unit_count = 1;
  std::vector<Command> c;

  // --- APIs
  c.push_back({"api create", "NAME --context /CTX --version V --endpoint ws://HOST:PORT", "create a WebSocket API (state CREATED, default topic /*)", 1, 1,
               [](FlagParser& f) {
                 f.AddString("context", &context, "context, e.g. /chats", "/CTX");
                 f.AddString("version", &version, "version, e.g. 1.0.0", "V");
                 f.AddString("endpoint", &endpoint, "production endpoint, ws:// or wss://", "URL");
                 f.AddString("sandbox-endpoint", &sandbox, "sandbox endpoint", "URL");
                 f.AddString("description", &description, "free text", "TEXT");
                 f.AddBool("default-version", &default_version, "also serve it without the version segment");
               },
               [](Ctx& ctx) {
                 v1::CreateApiRequest req;
                 v1::ApiSpec* s = req.mutable_spec();
                 s->set_name(ctx.args[0]);
                 s->set_context(context);
                 s->set_version(version);
                 s->set_description(description);
                 s->set_is_default_version(default_version);
                 if (!endpoint.empty()) s->mutable_production_endpoint()->set_url(endpoint);
                 if (!sandbox.empty()) s->mutable_sandbox_endpoint()->set_url(sandbox);
                 v1::ApiInfo resp;
                 CALL(CreateApi, req, resp);
                 Print(ctx, resp, absl::StrCat("Created API ", resp.spec().name(), ":", resp.spec().version(), " (",
                                               State(resp.state()), ", id ", resp.id(), ")"));
                 return 0;
               }});
  c.push_back({"api list", "", "list APIs", 0, 0, [](FlagParser& f) { f.AddString("filter", &filter, "name contains", "TEXT"); },
               [](Ctx& ctx) {
                 v1::ListApisRequest req;
                 req.set_name_filter(filter);
                 v1::ListApisResponse resp;
                 CALL(ListApis, req, resp);
                 std::string text = resp.apis().empty() ? "No APIs yet (wsgatectl api create ...)" : "";
                 for (const auto& a : resp.apis()) {
                   std::vector<std::string> revs;
                   for (uint32_t r : a.deployed_revisions()) revs.push_back(std::to_string(r));
                   absl::StrAppend(&text, a.spec().name(), ":", a.spec().version(), "\t", a.spec().context(), "\t",
                                   State(a.state()), "\tdeployed: ", revs.empty() ? "-" : absl::StrJoin(revs, ","), "\n");
                 }
                 Print(ctx, resp, text);
                 return 0;
               }});
  c.push_back({"api get", "API", "show an API (API is Name:Version or an id)", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::ApiRef req;
                 req.set_api(ctx.args[0]);
                 v1::ApiInfo resp;
                 CALL(GetApi, req, resp);
                 Print(ctx, resp, ApiText(resp));
                 return 0;
               }});
  c.push_back({"api update", "API [--endpoint URL] [--sandbox-endpoint URL] [--description T] [--default-version]",
               "change an API's endpoints, description or default-version flag", 1, 1,
               [](FlagParser& f) {
                 f.AddString("endpoint", &endpoint, "production endpoint", "URL");
                 f.AddString("sandbox-endpoint", &sandbox, "sandbox endpoint", "URL");
                 f.AddString("description", &description, "free text", "TEXT");
                 f.AddBool("default-version", &default_version, "serve it without the version segment too");
                 f.AddBool("not-default-version", &no_default_version, "stop serving it without the version segment");
               },
               [](Ctx& ctx) {
                 v1::UpdateApiRequest req;
                 req.set_api(ctx.args[0]);
                 if (!endpoint.empty()) {
                   req.mutable_spec()->mutable_production_endpoint()->set_url(endpoint);
                   req.add_update_fields("production_endpoint");
                 }
                 if (!sandbox.empty()) {
                   req.mutable_spec()->mutable_sandbox_endpoint()->set_url(sandbox);
                   req.add_update_fields("sandbox_endpoint");
                 }
                 if (!description.empty()) {
                   req.mutable_spec()->set_description(description);
                   req.add_update_fields("description");
                 }
                 if (default_version || no_default_version) {
                   req.mutable_spec()->set_is_default_version(default_version);
                   req.add_update_fields("is_default_version");
                 }
                 if (req.update_fields().empty()) return Fail("nothing to update (see --help)");
                 v1::ApiInfo resp;
                 CALL(UpdateApi, req, resp);
                 Print(ctx, resp, ApiText(resp) + "\n(deploy a new revision for engines to serve it)");
                 return 0;
               }});
  c.push_back({"api delete", "API", "delete an API (not while deployed or subscribed)", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::ApiRef req;
                 req.set_api(ctx.args[0]);
                 v1::Empty resp;
                 CALL(DeleteApi, req, resp);
                 Print(ctx, resp, "Deleted API " + ctx.args[0]);
                 return 0;
               }});
  c.push_back({"api plans", "API PLAN...", "set the business plans an API offers (e.g. AsyncGold)", 2, -1, nullptr,
               [](Ctx& ctx) {
                 v1::SetPlansRequest req;
                 req.set_api(ctx.args[0]);
                 for (size_t i = 1; i < ctx.args.size(); ++i) req.add_plans(ctx.args[i]);
                 v1::ApiInfo resp;
                 CALL(SetPlans, req, resp);
                 Print(ctx, resp, absl::StrCat("Business plans of ", ctx.args[0], ": ", absl::StrJoin(resp.spec().plans(), ", ")));
                 return 0;
               }});
  c.push_back({"api lifecycle", "API ACTION", "Publish, Deploy as a Prototype, Demote to Created, Block, Re-Publish, Deprecate, Retire", 2, -1,
               nullptr, [](Ctx& ctx) {
                 v1::ChangeLifecycleRequest req;
                 req.set_api(ctx.args[0]);
                 req.set_action(absl::StrJoin(std::vector<std::string>(ctx.args.begin() + 1, ctx.args.end()), " "));
                 v1::ApiInfo resp;
                 CALL(ChangeLifecycle, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, absl::StrCat(ctx.args[0], " is now ", State(resp.state())));
                 return 0;
               }});

  // --- Topics
  c.push_back({"topic add", "API TOPIC [--mapping URL_MAPPING]", "add a topic, e.g. '/rooms/{roomID}' --mapping '/rooms?room={uri.var.roomID}'", 2, 2,
               [](FlagParser& f) {
                 f.AddString("mapping", &mapping, "appended to the endpoint URL; {uri.var.NAME} takes {NAME}", "URL_MAPPING");
                 f.AddList("scope", &scopes, "a scope that may open this topic", "SCOPE");
                 f.AddBool("unsecured", &unsecured, "no token needed for this topic");
               },
               [](Ctx& ctx) {
                 v1::AddTopicRequest req;
                 req.set_api(ctx.args[0]);
                 v1::Topic* t = req.mutable_topic();
                 t->set_name(ctx.args[1]);
                 t->set_url_mapping(mapping);
                 t->set_publish(true);
                 t->set_subscribe(true);
                 t->set_unsecured(unsecured);
                 for (const auto& s : scopes) t->add_scopes(s);
                 v1::ApiInfo resp;
                 CALL(AddTopic, req, resp);
                 Print(ctx, resp, absl::StrCat("Added topic ", ctx.args[1], mapping.empty() ? "" : "  ->  " + mapping, " to ", ctx.args[0]));
                 return 0;
               }});
  c.push_back({"topic delete", "API TOPIC", "delete a topic (the default one is '/*')", 2, 2, nullptr, [](Ctx& ctx) {
                 v1::DeleteTopicRequest req;
                 req.set_api(ctx.args[0]);
                 req.set_topic(ctx.args[1]);
                 v1::ApiInfo resp;
                 CALL(DeleteTopic, req, resp);
                 Print(ctx, resp, absl::StrCat("Deleted topic ", ctx.args[1], " from ", ctx.args[0]));
                 return 0;
               }});
  c.push_back({"topic list", "API", "list an API's topics", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::ApiRef req;
                 req.set_api(ctx.args[0]);
                 v1::ApiInfo resp;
                 CALL(GetApi, req, resp);
                 std::string text;
                 for (const auto& t : resp.spec().topics())
                   absl::StrAppend(&text, t.name(), t.url_mapping().empty() ? "" : "\t" + t.url_mapping(), "\n");
                 Print(ctx, resp.spec(), text.empty() ? "no topics" : text);
                 return 0;
               }});

  // --- Revisions
  c.push_back({"revision create", "API", "snapshot the current API as a new revision (prints its number)", 1, 1,
               [](FlagParser& f) { f.AddString("description", &description, "free text", "TEXT"); },
               [](Ctx& ctx) {
                 v1::CreateRevisionRequest req;
                 req.set_api(ctx.args[0]);
                 req.set_description(description);
                 v1::Revision resp;
                 CALL(CreateRevision, req, resp);
                 Print(ctx, resp, std::to_string(resp.number()));
                 return 0;
               }});
  c.push_back({"revision list", "API", "list revisions and where they are deployed", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::ApiRef req;
                 req.set_api(ctx.args[0]);
                 v1::ListRevisionsResponse resp;
                 CALL(ListRevisions, req, resp);
                 std::string text = resp.revisions().empty() ? "no revisions" : "";
                 for (const auto& r : resp.revisions()) {
                   std::vector<std::string> where;
                   for (const auto& d : r.deployments()) where.push_back(absl::StrCat(d.environment(), " (", d.vhost(), ")"));
                   absl::StrAppend(&text, r.number(), "\t", where.empty() ? "not deployed" : "deployed to " + absl::StrJoin(where, ", "),
                                   r.description().empty() ? "" : "\t" + r.description(), "\n");
                 }
                 Print(ctx, resp, text);
                 return 0;
               }});
  c.push_back({"revision deploy", "API REVISION [--env ENV] [--vhost VHOST]", "deploy a revision to a gateway environment", 2, 2,
               [](FlagParser& f) {
                 f.AddString("env", &env, "gateway environment (default \"Production and Sandbox\")", "ENV");
                 f.AddString("vhost", &vhost, "vhost (default localhost)", "VHOST");
               },
               [](Ctx& ctx) {
                 v1::DeployRevisionRequest req;
                 req.set_api(ctx.args[0]);
                 uint32_t n;
                 if (!absl::SimpleAtoi(ctx.args[1], &n)) return Fail("REVISION: '" + ctx.args[1] + "' is not a number");
                 req.set_revision(n);
                 req.set_environment(env);
                 req.set_vhost(vhost);
                 v1::Deployment resp;
                 CALL(DeployRevision, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, absl::StrCat("Deployed revision ", resp.revision(), " of ", ctx.args[0], " to \"",
                                               resp.environment(), "\" (vhost ", resp.vhost(), ")"));
                 return 0;
               }});
  c.push_back({"revision undeploy", "API REVISION [--env ENV]", "undeploy a revision", 2, 2,
               [](FlagParser& f) { f.AddString("env", &env, "only from this environment", "ENV"); },
               [](Ctx& ctx) {
                 v1::UndeployRevisionRequest req;
                 req.set_api(ctx.args[0]);
                 uint32_t n;
                 if (!absl::SimpleAtoi(ctx.args[1], &n)) return Fail("REVISION: '" + ctx.args[1] + "' is not a number");
                 req.set_revision(n);
                 req.set_environment(env);
                 v1::Empty resp;
                 CALL(UndeployRevision, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, absl::StrCat("Undeployed revision ", n, " of ", ctx.args[0]));
                 return 0;
               }});
  for (std::string verb : {"delete", "restore"}) {
    c.push_back({"revision " + verb, "API REVISION", verb == "delete" ? "delete an undeployed revision" : "copy a revision back into the current API", 2, 2, nullptr,
                 [verb](Ctx& ctx) {
                   v1::RevisionRef req;
                   req.set_api(ctx.args[0]);
                   uint32_t n;
                   if (!absl::SimpleAtoi(ctx.args[1], &n)) return Fail("REVISION: '" + ctx.args[1] + "' is not a number");
                   req.set_revision(n);
                   if (verb == "delete") {
                     v1::Empty resp;
                     CALL(DeleteRevision, req, resp);
                     Print(ctx, resp, absl::StrCat("Deleted revision ", n, " of ", ctx.args[0]));
                   } else {
                     v1::ApiInfo resp;
                     CALL(RestoreRevision, req, resp);
                     Print(ctx, resp, absl::StrCat("Restored revision ", n, " into the current ", ctx.args[0]));
                   }
                   return 0;
                 }});
  }

  // --- Applications
  c.push_back({"app create", "NAME", "create an application", 1, 1,
               [](FlagParser& f) {
                 f.AddString("owner", &owner, "owner (default admin)", "NAME");
                 f.AddString("policy", &policy, "application throttle policy (default Unlimited)", "POLICY");
                 f.AddString("description", &description, "free text", "TEXT");
                 f.AddList("scope", &scopes, "a scope its tokens may carry (repeatable)", "SCOPE");
               },
               [](Ctx& ctx) {
                 v1::CreateApplicationRequest req;
                 for (const auto& s : scopes) req.add_scopes(s);
                 req.set_name(ctx.args[0]);
                 req.set_owner(owner);
                 req.set_throttle_policy(policy);
                 req.set_description(description);
                 v1::ApplicationInfo resp;
                 CALL(CreateApplication, req, resp);
                 Print(ctx, resp, absl::StrCat("Created application ", resp.name(), " (id ", resp.id(), ")"));
                 return 0;
               }});
  c.push_back({"app list", "", "list applications", 0, 0, nullptr, [](Ctx& ctx) {
                 v1::ListApplicationsResponse resp;
                 CALL(ListApplications, v1::ListApplicationsRequest(), resp);
                 std::string text = resp.applications().empty() ? "No applications yet (wsgatectl app create ...)" : "";
                 for (const auto& a : resp.applications())
                   absl::StrAppend(&text, a.name(), "\t", a.owner(), "\t", a.throttle_policy(), a.blocked() ? "\tBLOCKED" : "",
                                   "\t", a.id(), "\n");
                 Print(ctx, resp, text);
                 return 0;
               }});
  c.push_back({"app get", "APP", "show an application", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::ApplicationRef req;
                 req.set_application(ctx.args[0]);
                 v1::ApplicationInfo resp;
                 CALL(GetApplication, req, resp);
                 Print(ctx, resp, absl::StrCat(resp.name(), "  owner ", resp.owner(), "  policy ", resp.throttle_policy(),
                                               resp.blocked() ? "  BLOCKED" : "", "  scopes ",
                                               resp.scopes().empty() ? "none" : absl::StrJoin(resp.scopes(), ","), "  id ", resp.id()));
                 return 0;
               }});
  c.push_back({"app update", "APP [--scope S]...", "set the scopes its tokens may carry (none given: revokes all)", 1, 1,
               [](FlagParser& f) { f.AddList("scope", &scopes, "a granted scope (repeatable; replaces the old ones)", "SCOPE"); },
               [](Ctx& ctx) {
                 v1::UpdateApplicationRequest req;
                 req.set_application(ctx.args[0]);
                 for (const auto& s : scopes) req.mutable_scopes()->add_scopes(s);
                 req.mutable_scopes();  // present even when empty: revokes all
                 v1::ApplicationInfo resp;
                 CALL(UpdateApplication, req, resp);
                 Print(ctx, resp, absl::StrCat(resp.name(), " scopes: ", resp.scopes().empty() ? "none" : absl::StrJoin(resp.scopes(), ",")));
                 return 0;
               }});
  c.push_back({"app delete", "APP", "delete an application with its subscriptions and keys", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::ApplicationRef req;
                 req.set_application(ctx.args[0]);
                 v1::Empty resp;
                 CALL(DeleteApplication, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, "Deleted application " + ctx.args[0]);
                 return 0;
               }});
  for (bool block : {true, false}) {
    c.push_back({block ? "app block" : "app unblock", "APP", block ? "refuse the application's tokens and close its sockets" : "allow it again", 1, 1, nullptr,
                 [block](Ctx& ctx) {
                   v1::UpdateApplicationRequest req;
                   req.set_application(ctx.args[0]);
                   req.set_blocked(block);
                   v1::ApplicationInfo resp;
                   CALL(UpdateApplication, req, resp);
                   WaitForEngines(ctx);
                   Print(ctx, resp, absl::StrCat(resp.name(), block ? " is blocked" : " is unblocked"));
                   return 0;
                 }});
  }

  // --- Subscriptions
  c.push_back({"subscription create", "APP API --plan PLAN", "subscribe an application to a published API", 2, 2,
               [](FlagParser& f) { f.AddString("plan", &plan, "business plan the API offers, e.g. AsyncGold", "PLAN"); },
               [](Ctx& ctx) {
                 v1::CreateSubscriptionRequest req;
                 req.set_application(ctx.args[0]);
                 req.set_api(ctx.args[1]);
                 req.set_plan(plan);
                 v1::SubscriptionInfo resp;
                 CALL(CreateSubscription, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, absl::StrCat("Subscribed ", resp.application_name(), " to ", resp.api(), " on ", resp.plan(),
                                               " (id ", resp.id(), ")"));
                 return 0;
               }});
  c.push_back({"subscription list", "", "list subscriptions", 0, 0,
               [](FlagParser& f) {
                 f.AddString("app", &app_filter, "only this application", "APP");
                 f.AddString("api", &api_filter, "only this API", "API");
               },
               [](Ctx& ctx) {
                 v1::ListSubscriptionsRequest req;
                 req.set_application(app_filter);
                 req.set_api(api_filter);
                 v1::ListSubscriptionsResponse resp;
                 CALL(ListSubscriptions, req, resp);
                 std::string text = resp.subscriptions().empty() ? "no subscriptions" : "";
                 for (const auto& s : resp.subscriptions())
                   absl::StrAppend(&text, s.application_name(), "\t", s.api(), "\t", s.plan(), "\t",
                                   v1::SubscriptionState_Name(s.state()), "\t", s.id(), "\n");
                 Print(ctx, resp, text);
                 return 0;
               }});
  c.push_back({"subscription delete", "ID", "delete a subscription (its sockets close)", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::SubscriptionRef req;
                 req.set_subscription(ctx.args[0]);
                 v1::Empty resp;
                 CALL(DeleteSubscription, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, "Deleted subscription " + ctx.args[0]);
                 return 0;
               }});
  for (bool block : {true, false}) {
    c.push_back({block ? "subscription block" : "subscription unblock", "ID", block ? "block a subscription (--production-only keeps sandbox)" : "make it active again", 1, 1,
                 [block](FlagParser& f) {
                   if (block) f.AddBool("production-only", &production_only, "block production keys only");
                 },
                 [block](Ctx& ctx) {
                   v1::UpdateSubscriptionRequest req;
                   req.set_subscription(ctx.args[0]);
                   req.set_state(!block ? v1::ACTIVE : production_only ? v1::BLOCKED_PRODUCTION : v1::BLOCKED_ALL);
                   v1::SubscriptionInfo resp;
                   CALL(UpdateSubscription, req, resp);
                   WaitForEngines(ctx);
                   Print(ctx, resp, absl::StrCat("Subscription ", resp.id(), " is ", v1::SubscriptionState_Name(resp.state())));
                   return 0;
                 }});
  }

  // --- Keys and tokens
  c.push_back({"keys generate", "APP --type PRODUCTION|SANDBOX", "create the consumer key and secret (the secret is shown once)", 1, 1,
               [](FlagParser& f) {
                 f.AddString("type", &type, "PRODUCTION or SANDBOX", "TYPE");
                 f.AddBool("regenerate", &regenerate, "replace existing keys (their tokens stop working)");
               },
               [](Ctx& ctx) {
                 auto kt = ParseKeyType(type);
                 if (!kt.ok()) return Fail(std::string(kt.status().message()));
                 v1::GenerateKeysRequest req;
                 req.set_application(ctx.args[0]);
                 req.set_key_type(*kt);
                 req.set_regenerate(regenerate);
                 v1::KeyPair resp;
                 CALL(GenerateKeys, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, absl::StrCat("Consumer key:    ", resp.consumer_key(), "\nConsumer secret: ",
                                               resp.consumer_secret(), "\n(the secret is shown only now; keep it safe)"));
                 return 0;
               }});
  c.push_back({"keys list", "APP", "list an application's consumer keys", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::ApplicationRef req;
                 req.set_application(ctx.args[0]);
                 v1::ListKeysResponse resp;
                 CALL(ListKeys, req, resp);
                 std::string text = resp.keys().empty() ? "no keys" : "";
                 for (const auto& k : resp.keys()) absl::StrAppend(&text, v1::KeyType_Name(k.key_type()), "\t", k.consumer_key(), "\n");
                 Print(ctx, resp, text);
                 return 0;
               }});
  c.push_back({"keys delete", "APP --type TYPE", "delete a consumer key (its tokens stop working)", 1, 1,
               [](FlagParser& f) { f.AddString("type", &type, "PRODUCTION or SANDBOX", "TYPE"); },
               [](Ctx& ctx) {
                 auto kt = ParseKeyType(type);
                 if (!kt.ok()) return Fail(std::string(kt.status().message()));
                 v1::DeleteKeysRequest req;
                 req.set_application(ctx.args[0]);
                 req.set_key_type(*kt);
                 v1::Empty resp;
                 CALL(DeleteKeys, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, "Deleted " + type + " keys of " + ctx.args[0]);
                 return 0;
               }});
  c.push_back({"token", "APP --type PRODUCTION|SANDBOX", "issue an access token (prints only the token)", 1, 1,
               [](FlagParser& f) {
                 f.AddString("type", &type, "PRODUCTION or SANDBOX", "TYPE");
                 f.AddList("scope", &scopes, "a scope to grant", "SCOPE");
                 f.AddInt("ttl", &ttl, "lifetime in seconds (default 3600)", 0, 86400);
               },
               [](Ctx& ctx) {
                 auto kt = ParseKeyType(type);
                 if (!kt.ok()) return Fail(std::string(kt.status().message()));
                 v1::IssueTokenRequest req;
                 req.set_application(ctx.args[0]);
                 req.set_key_type(*kt);
                 for (const auto& s : scopes) req.add_scopes(s);
                 req.set_ttl_s(static_cast<uint32_t>(ttl));
                 v1::AccessToken resp;
                 CALL(IssueToken, req, resp);
                 Print(ctx, resp, resp.access_token());
                 return 0;
               }});
  c.push_back({"token revoke", "[TOKEN] [--jti JTI]", "revoke a token; live sockets using it close with 4001", 0, 1,
               [](FlagParser& f) { f.AddString("jti", &jti, "the token's jti instead of the token", "JTI"); },
               [](Ctx& ctx) {
                 v1::RevokeTokenRequest req;
                 if (!ctx.args.empty()) req.set_token(ctx.args[0]);
                 req.set_jti(jti);
                 if (req.token().empty() && req.jti().empty()) return Fail("give the token or --jti");
                 v1::Empty resp;
                 CALL(RevokeToken, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, "Revoked");
                 return 0;
               }});
  c.push_back({"signing-key rotate", "[--alg RS256|ES256|EdDSA]", "sign new tokens with a new key (old tokens stay valid)", 0, 0,
               [](FlagParser& f) { f.AddString("alg", &alg, "RS256, ES256 or EdDSA", "ALG"); },
               [](Ctx& ctx) {
                 v1::RotateSigningKeyRequest req;
                 std::string a = absl::AsciiStrToUpper(alg);
                 req.set_algorithm(a == "ES256" ? v1::ES256 : a == "EDDSA" ? v1::EDDSA : v1::RS256);
                 if (a != "ES256" && a != "EDDSA" && a != "RS256") return Fail("--alg: '" + alg + "' is not RS256, ES256 or EdDSA");
                 v1::SigningKeyInfo resp;
                 CALL(RotateSigningKey, req, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, "New signing key " + resp.kid());
                 return 0;
               }});
  c.push_back({"signing-key list", "", "list signing keys", 0, 0, nullptr, [](Ctx& ctx) {
                 v1::ListSigningKeysResponse resp;
                 CALL(ListSigningKeys, v1::Empty(), resp);
                 std::string text;
                 for (const auto& k : resp.keys())
                   absl::StrAppend(&text, k.kid(), "\t", v1::SigningAlgorithm_Name(k.algorithm()), k.active() ? "\tactive" : "\tretiring", "\n");
                 Print(ctx, resp, text);
                 return 0;
               }});

  // --- Policies, environments, status
  c.push_back({"policy list", "", "list throttle policies", 0, 0,
               [](FlagParser& f) { f.AddString("level", &level, "subscription, application or api", "LEVEL"); },
               [](Ctx& ctx) {
                 v1::ListThrottlePoliciesRequest req;
                 std::string l = absl::AsciiStrToUpper(level);
                 if (!l.empty() && !v1::PolicyLevel_Parse(l, nullptr)) return Fail("--level: '" + level + "' is not subscription, application or api");
                 v1::PolicyLevel pl = v1::POLICY_LEVEL_UNSPECIFIED;
                 if (!l.empty()) v1::PolicyLevel_Parse(l, &pl);
                 req.set_level(pl);
                 v1::ListThrottlePoliciesResponse resp;
                 CALL(ListThrottlePolicies, req, resp);
                 std::string text;
                 for (const auto& p : resp.policies())
                   absl::StrAppend(&text, p.name(), "\t", v1::PolicyLevel_Name(p.level()), "\t", p.description(), "\n");
                 Print(ctx, resp, text);
                 return 0;
               }});
  c.push_back({"policy create", "NAME --events N --unit second|minute|hour|day|month", "create an event-count policy", 1, 1,
               [](FlagParser& f) {
                 f.AddInt("events", &events, "events (frames, both directions) per window", 0, INT64_MAX);
                 f.AddString("unit", &unit, "second, minute, hour, day or month", "UNIT");
                 f.AddInt("unit-count", &unit_count, "window = unit-count x unit", 1, 1000000);
                 f.AddString("level", &level, "subscription (default), application or api", "LEVEL");
                 f.AddBool("unlimited", &unlimited, "no limit");
                 f.AddString("description", &description, "free text", "TEXT");
               },
               [](Ctx& ctx) {
                 v1::ThrottlePolicy p;
                 p.set_name(ctx.args[0]);
                 p.set_events(static_cast<uint64_t>(events));
                 p.set_unlimited(unlimited);
                 p.set_unit_count(static_cast<uint32_t>(unit_count));
                 p.set_description(description);
                 v1::TimeUnit tu;
                 if (!unit.empty() && !v1::TimeUnit_Parse(absl::AsciiStrToUpper(unit), &tu)) return Fail("--unit: '" + unit + "' is not second, minute, hour, day or month");
                 if (!unit.empty()) p.set_unit(tu);
                 v1::PolicyLevel pl = v1::SUBSCRIPTION;
                 if (!level.empty() && !v1::PolicyLevel_Parse(absl::AsciiStrToUpper(level), &pl)) return Fail("--level: '" + level + "' is not subscription, application or api");
                 p.set_level(pl);
                 v1::ThrottlePolicy resp;
                 CALL(CreateThrottlePolicy, p, resp);
                 WaitForEngines(ctx);
                 Print(ctx, resp, "Created policy " + resp.name() + ": " + resp.description());
                 return 0;
               }});
  c.push_back({"policy delete", "NAME", "delete an unused policy", 1, 1, nullptr, [](Ctx& ctx) {
                 v1::ThrottlePolicyRef req;
                 req.set_name(ctx.args[0]);
                 v1::Empty resp;
                 CALL(DeleteThrottlePolicy, req, resp);
                 Print(ctx, resp, "Deleted policy " + ctx.args[0]);
                 return 0;
               }});
  c.push_back({"env list", "", "list gateway environments and vhosts", 0, 0, nullptr, [](Ctx& ctx) {
                 v1::ListEnvironmentsResponse resp;
                 CALL(ListEnvironments, v1::Empty(), resp);
                 std::string text;
                 for (const auto& e : resp.environments())
                   for (const auto& v : e.vhosts())
                     absl::StrAppend(&text, e.name(), "\tvhost ", v.name(), "\tws ", v.ws_port(), "\twss ", v.wss_port(), "\n");
                 Print(ctx, resp, text);
                 return 0;
               }});
  c.push_back({"status", "", "the agent's config version; each engine's applied version, lag and traffic", 0, 0, nullptr,
               [](Ctx& ctx) {
                 v1::AgentStatus resp;
                 CALL(GetStatus, v1::Empty(), resp);
                 std::string text = absl::StrCat("agent ", resp.agent_id(), "  config version ", resp.config_version(), "\n");
                 if (resp.engines().empty()) text += "no engines configured (wsgate-agent --engine unix:PATH)\n";
                 for (const auto& e : resp.engines())
                   absl::StrAppend(&text, e.target(), "\t", e.reachable() ? "up" : "DOWN", "\tapplied ", e.applied_version(),
                                   "\tlag ", e.lag(), "\tconnections ", e.active_connections(), "\tframes in/out ",
                                   e.frames_client_to_backend(), "/", e.frames_backend_to_client(), "\tthrottled ",
                                   e.throttled_frames(), e.last_error().empty() ? "" : "\t" + e.last_error(), "\n");
                 Print(ctx, resp, text);
                 return 0;
               }});
  return c;
}

void AddGlobals(FlagParser& f, Globals& g) {
  f.AddString("agent", &g.agent, "the agent's admin API", "ADDR:PORT");
  f.AddString("data-dir", &g.data_dir, "where the agent keeps admin.token (or set WSGATE_ADMIN_TOKEN)", "DIR");
  f.AddString("output", &g.output, "text or json (also -o json)", "FORMAT");
  f.AddBool("no-wait", &g.no_wait, "do not wait for engines to apply a change");
}

std::string Overview(const std::vector<Command>& commands) {
  std::string out =
      "Usage: wsgatectl COMMAND [ARGS] [--agent ADDR] [--data-dir DIR] [-o json]\n\n"
      "The admin CLI of wsgate: a gRPC client of wsgate-agent. API is Name:Version (e.g. Chats:1.0.0)\n"
      "or an id; APP is an application name or id. `wsgatectl COMMAND --help` explains one command.\n\nCommands:\n";
  for (const auto& c : commands) {
    std::string left = "  " + c.path + (c.usage.empty() ? "" : " " + c.usage);
    if (left.size() < 52) left.resize(52, ' ');
    else left += "\n" + std::string(52, ' ');
    out += left + c.help + "\n";
  }
  out += "\nEvery command, with examples: docs/cli.md.\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // -o FORMAT is the one short option.
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(std::string(argv[i]) == "-o" ? "--output" : argv[i]);
  std::vector<Command> commands = Commands();

  // Find the command: the longest "GROUP VERB" or "GROUP" made of leading words (flag values are
  // skipped: every flag that takes a value is written --flag=value or --flag value).
  std::set<std::string> bool_flags = {"default-version", "not-default-version", "unsecured", "regenerate", "production-only",
                                      "unlimited", "no-wait", "help"};
  std::vector<std::string> words;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h") continue;
    if (a.rfind("--", 0) == 0) {
      std::string name = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
      if (a.find('=') == std::string::npos && !bool_flags.count(name) && name.rfind("no-", 0) != 0) ++i;
      continue;
    }
    words.push_back(a);
  }
  const Command* command = nullptr;
  size_t consumed = 0;
  for (const auto& c : commands) {
    size_t n = std::count(c.path.begin(), c.path.end(), ' ') + 1;
    if (words.size() >= n && absl::StrJoin(std::vector<std::string>(words.begin(), words.begin() + n), " ") == c.path &&
        n > consumed) {
      command = &c;
      consumed = n;
    }
  }
  bool wants_help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                    std::find(args.begin(), args.end(), "-h") != args.end();
  if (command == nullptr) {
    if (words.empty() || wants_help) {
      std::cout << Overview(commands);
      return words.empty() && !wants_help ? 2 : 0;
    }
    std::cerr << "wsgatectl: unknown command '" << absl::StrJoin(words.begin(), words.begin() + std::min<size_t>(2, words.size()), " ")
              << "' (wsgatectl --help lists them)\n";
    return 2;
  }

  Ctx ctx;
  ctx.command = command;
  FlagParser flags("wsgatectl " + command->path, command->help + (command->usage.empty() ? "" : "\n\n  wsgatectl " + command->path + " " + command->usage));
  AddGlobals(flags, ctx.globals);
  if (command->flags) command->flags(flags);
  std::vector<char*> argv2{argv[0]};
  for (auto& a : args) argv2.push_back(a.data());
  if (absl::Status s = flags.Parse(static_cast<int>(argv2.size()), argv2.data()); !s.ok()) {
    std::cerr << "wsgatectl " << command->path << ": " << s.message() << "\n";
    return 2;
  }
  if (flags.help_requested()) {
    std::cout << flags.Help();
    return 0;
  }
  ctx.args.assign(flags.positional().begin() + static_cast<long>(consumed), flags.positional().end());
  int n = static_cast<int>(ctx.args.size());
  if (n < command->min_args || (command->max_args >= 0 && n > command->max_args)) {
    std::cerr << "wsgatectl " << command->path << ": expected " << (command->usage.empty() ? "no arguments" : command->usage)
              << " (see --help)\n";
    return 2;
  }
  if (ctx.globals.output != "text" && ctx.globals.output != "json") {
    std::cerr << "wsgatectl: --output: '" << ctx.globals.output << "' is not text or json\n";
    return 2;
  }
  if (const char* env = std::getenv("WSGATE_ADMIN_TOKEN"); env && *env) {
    ctx.credential = env;
  } else {
    auto credential = wsgate::agent::AdminCredential(ctx.globals.data_dir, /*create=*/false);
    if (!credential.ok()) return Fail(std::string(credential.status().message()));
    ctx.credential = *credential;
  }
  ctx.stub = v1::Admin::NewStub(grpc::CreateChannel(ctx.globals.agent, grpc::InsecureChannelCredentials()));
  return command->run(ctx);
}
