// File: agent/catalog_apply.cc — declarative configuration: the whole catalog as one document
// (ExportCatalog) and making the catalog match one (ApplyCatalog).
//
// ApplyCatalog holds the catalog's (recursive) mutex and one SQLite transaction for the whole
// document, and runs the ordinary public mutations inside it: their own Transactions nest as
// SAVEPOINTs, so every rule they enforce holds for apply too, and the first error rolls
// everything back. A dry run does all of it and rolls back, so it validates exactly as apply does.
//
// Order: environments and their settings (deployments name them); policies; APIs (spec, then a lifecycle state that accepts subscriptions when new ones are
// declared); applications; subscriptions; APIs' final state and deployments; then, with prune,
// deletions in dependency order (subscriptions, applications, APIs, non-built-in policies, then
// environments other than the default one).
//
// A new kind plugs in as: a section in CheckKeys, a method creating/updating one declared object
// (comparing with what the catalog would store, so a second apply changes nothing), its place in
// Run, its deletion in Prune, and its export in ExportCatalog, sorted so export is deterministic.
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/catalog.h"
#include "agent/catalog_internal.h"
#include "agent/lifecycle.h"
#include "agent/settings.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent {
namespace {

using google::protobuf::util::MessageDifferencer;

// One "modified: field: old -> new" / "added: ..." / "deleted: ..." line per difference.
std::vector<std::string> FieldChanges(const google::protobuf::Message& before, const google::protobuf::Message& after) {
  std::string text;
  {
    google::protobuf::io::StringOutputStream out(&text);
    MessageDifferencer::StreamReporter reporter(&out);
    MessageDifferencer differ;
    differ.ReportDifferencesTo(&reporter);
    differ.Compare(before, after);
  }
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) lines.emplace_back(line);
  return lines;
}

// Puts the document path in front of a catalog error: "context: why" becomes
// "apis[0].spec.context: why"; a message that does not start with a field becomes "path: message".
absl::Status At(const std::string& path, const absl::Status& s) {
  if (s.ok()) return s;
  std::string m(s.message());
  size_t colon = m.find(": ");
  bool field = colon != std::string::npos && colon > 0 &&
               m.substr(0, colon).find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789[].") == std::string::npos;
  return absl::Status(s.code(), field ? absl::StrCat(path, ".", m) : absl::StrCat(path, ": ", m));
}

std::string SubscriptionKey(const std::string& app, const std::string& api) { return absl::StrCat(app, "/", api); }

}  // namespace

class Catalog::Applier {
 public:
  Applier(Catalog& c, v1::ApplyCatalogResponse& resp) : c_(c), resp_(resp) {}

  absl::Status Run(const v1::CatalogDocument& doc, bool prune) {
    WSGATE_RETURN_IF_ERROR(CheckKeys(doc));
    for (int i = 0; i < doc.environments_size(); ++i)
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("environments[", i, "]"), Environment(doc.environments(i))));
    WSGATE_RETURN_IF_ERROR(c_.ApplyIdentityProviders(doc, prune, resp_));  // catalog_idp.cc
    for (int i = 0; i < doc.policies_size(); ++i)
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("policies[", i, "]"), Policy(doc.policies(i))));
    for (int i = 0; i < doc.apis_size(); ++i)
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("apis[", i, "]"), ApiDefinition(doc, doc.apis(i))));
    for (int i = 0; i < doc.applications_size(); ++i)
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("applications[", i, "]"), Application(doc.applications(i))));
    for (int i = 0; i < doc.subscriptions_size(); ++i)
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("subscriptions[", i, "]"), Subscription(doc.subscriptions(i))));
    for (int i = 0; i < doc.apis_size(); ++i)
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("apis[", i, "]"), ApiStateAndDeployments(doc.apis(i))));
    if (prune) WSGATE_RETURN_IF_ERROR(Prune());
    for (int i = 0; i < doc.apis_size(); ++i) WSGATE_RETURN_IF_ERROR(RecordApi(doc.apis(i)));
    return absl::OkStatus();
  }

 private:
  void Change(const std::string& kind, const std::string& name, const std::string& action,
              std::vector<std::string> fields = {}) {
    v1::CatalogChange* ch = resp_.add_changes();
    ch->set_kind(kind);
    ch->set_name(name);
    ch->set_action(action);
    for (auto& f : fields) ch->add_fields(std::move(f));
  }

  // Every object is declared once.
  absl::Status CheckKeys(const v1::CatalogDocument& doc) {
    auto unique = [](const std::string& section, auto& items, auto key) -> absl::Status {
      std::map<std::string, int> seen;
      for (int i = 0; i < items.size(); ++i) {
        auto [it, fresh] = seen.emplace(key(items.Get(i)), i);
        if (!fresh)
          return absl::InvalidArgumentError(absl::StrCat(section, "[", i, "]: '", it->first, "' is declared twice (also ",
                                                         section, "[", it->second, "])"));
      }
      return absl::OkStatus();
    };
    WSGATE_RETURN_IF_ERROR(unique("environments", doc.environments(), [](const auto& e) { return e.environment().name(); }));
    WSGATE_RETURN_IF_ERROR(unique("policies", doc.policies(), [](const auto& p) { return p.name(); }));
    WSGATE_RETURN_IF_ERROR(unique("apis", doc.apis(), [](const auto& a) { return ApiRefText(a.spec()); }));
    WSGATE_RETURN_IF_ERROR(unique("applications", doc.applications(), [](const auto& a) { return a.name(); }));
    WSGATE_RETURN_IF_ERROR(unique("subscriptions", doc.subscriptions(),
                                  [](const auto& s) { return SubscriptionKey(s.application(), s.api()); }));
    for (const auto& a : doc.apis()) declared_apis_.insert(ApiRefText(a.spec()));
    for (const auto& a : doc.applications()) declared_apps_.insert(a.name());
    for (const auto& p : doc.policies()) declared_policies_.insert(p.name());
    for (const auto& s : doc.subscriptions()) declared_subs_.insert(SubscriptionKey(s.application(), s.api()));
    for (const auto& e : doc.environments()) declared_envs_.insert(e.environment().name());
    for (int i = 0; i < doc.apis_size(); ++i)
      for (int j = 0; j < doc.apis(i).deployments_size(); ++j) {
        const std::string& env = doc.apis(i).deployments(j).environment();
        deploying_.emplace(env.empty() ? c_.options_.environment : env, absl::StrCat("apis[", i, "].deployments[", j, "]"));
      }
    return absl::OkStatus();
  }

  // An environment: its definition as CreateEnvironment would store it, then its settings.
  absl::Status Environment(const v1::DeclaredEnvironment& declared) {
    v1::Environment want = declared.environment();
    WSGATE_RETURN_IF_ERROR(At("environment", CheckEnvironment(want, c_.options_.ws_port, c_.options_.wss_port)));
    absl::StatusOr<v1::Environment> have = c_.LoadEnvironment(want.name());
    if (absl::IsNotFound(have.status())) {
      WSGATE_RETURN_IF_ERROR(At("environment", c_.CreateEnvironment(want).status()));
      Change("environment", want.name(), "create");
    } else {
      WSGATE_RETURN_IF_ERROR(have.status());
      if (!MessageDifferencer::Equals(*have, want)) {
        WSGATE_RETURN_IF_ERROR(At("environment", c_.UpdateEnvironment(want).status()));
        Change("environment", want.name(), "update", FieldChanges(*have, want));
      }
    }
    return Settings(want.name(), declared);
  }

  // The declared keys replace every key of the table; other stored fields (access rules) stay.
  absl::Status Settings(const std::string& env, const v1::DeclaredEnvironment& declared) {
    WSGATE_ASSIGN_OR_RETURN(v1::EnvironmentSettings have, c_.LoadSettings(env));
    v1::EnvironmentSettings want = have;
    settings::ClearKeys(want);
    std::map<std::string, int> seen;
    for (int i = 0; i < declared.settings_size(); ++i) {
      const std::string& a = declared.settings(i);
      std::string path = absl::StrCat("settings[", i, "]");
      auto [it, fresh] = seen.emplace(a.substr(0, a.find('=')), i);
      if (!fresh)
        return Invalid(path, absl::StrCat("'", it->first, "' is set twice (also settings[", it->second, "])"));
      WSGATE_RETURN_IF_ERROR(At(path, settings::Assign(a, want)));
    }
    WSGATE_RETURN_IF_ERROR(At("settings", settings::Validate(want)));
    std::vector<std::string> before = settings::Assignments(have), after = settings::Assignments(want);
    if (before == after) return absl::OkStatus();  // the fields outside the table are have's
    WSGATE_RETURN_IF_ERROR(At("settings", c_.PutSettings(env, want).status()));
    std::map<std::string, std::string> old_values, new_values;
    for (const auto& a : before) old_values[a.substr(0, a.find('='))] = a.substr(a.find('=') + 1);
    for (const auto& a : after) new_values[a.substr(0, a.find('='))] = a.substr(a.find('=') + 1);
    std::vector<std::string> fields;
    for (const settings::Key& k : settings::Table()) {
      std::string o = old_values.count(k.name) ? old_values[k.name] : "default";
      std::string n = new_values.count(k.name) ? new_values[k.name] : "default";
      if (o != n) fields.push_back(absl::StrCat(k.name, ": ", o, " -> ", n));
    }
    Change("settings", env, "update", std::move(fields));
    return absl::OkStatus();
  }

  // The vhost a deployment without one gets: the environment's default vhost, else its only one
  // (as DeployRevision picks it); empty when there is none (DeployRevision then says why).
  std::string DefaultVhost(const std::string& environment) {
    absl::StatusOr<v1::Environment> env = c_.LoadEnvironment(environment);
    if (!env.ok()) return "";
    for (const auto& v : env->vhosts())
      if (v.is_default()) return v.name();
    return env->vhosts_size() == 1 ? env->vhosts(0).name() : "";
  }

  absl::Status Policy(const v1::ThrottlePolicy& declared) {
    WSGATE_ASSIGN_OR_RETURN(v1::ThrottlePolicy want, catalog_internal::NormalizedPolicy(declared));
    Statement st = c_.db_.Prepare("SELECT policy, builtin FROM policies WHERE name = ?");
    st.Bind(1, want.name());
    if (!st.Next()) {
      WSGATE_RETURN_IF_ERROR(st.status());
      WSGATE_RETURN_IF_ERROR(c_.CreatePolicy(want).status());
      Change("policy", want.name(), "create");
      return absl::OkStatus();
    }
    v1::ThrottlePolicy have;
    have.ParseFromString(st.Text(0));
    bool builtin = st.Int(1) != 0;
    if (MessageDifferencer::Equals(have, want)) return absl::OkStatus();
    if (builtin)
      return absl::FailedPreconditionError(
          absl::StrCat("'", want.name(), "' is a built-in policy and cannot be changed; declare it as exported or leave it out"));
    if (have.level() != want.level())
      return Invalid("level", absl::StrCat("policy '", want.name(), "' is ", v1::PolicyLevel_Name(have.level()),
                                           "; a level cannot change (delete the policy and create it again)"));
    WSGATE_RETURN_IF_ERROR(c_.Mutate(true, [&] {
      return c_.db_.Prepare("UPDATE policies SET policy = ? WHERE name = ?").BindBlob(1, Serialize(want)).Bind(2, want.name()).Run();
    }));
    Change("policy", want.name(), "update", FieldChanges(have, want));
    return absl::OkStatus();
  }

  // The declared spec as the catalog would store it.
  absl::StatusOr<v1::ApiSpec> Normalized(v1::ApiSpec spec) {
    if (spec.topics().empty()) spec.add_topics()->set_name("/*");  // as CreateApi does
    WSGATE_RETURN_IF_ERROR(At("spec", c_.ValidateSpec(spec)));
    return spec;
  }

  absl::StatusOr<v1::DeclaredApi> Current(const std::string& ref) {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, c_.LoadApi(ref));
    v1::DeclaredApi out;
    *out.mutable_spec() = row.spec;
    out.set_state(row.state);
    return out;
  }

  absl::Status ApiDefinition(const v1::CatalogDocument& doc, const v1::DeclaredApi& declared) {
    std::string ref = ApiRefText(declared.spec());
    api_change_at_[ref] = resp_.changes_size();  // RecordApi puts the API's own change here
    WSGATE_ASSIGN_OR_RETURN(v1::ApiSpec want, Normalized(declared.spec()));
    absl::StatusOr<v1::DeclaredApi> before = Current(ref);
    if (absl::IsNotFound(before.status())) {
      WSGATE_RETURN_IF_ERROR(At("spec", c_.CreateApi(want).status()));
    } else {
      WSGATE_RETURN_IF_ERROR(before.status());
      before_apis_[ref] = *before;
      if (!MessageDifferencer::Equals(before->spec(), want))
        WSGATE_RETURN_IF_ERROR(At("spec", c_.UpdateApi(ref, want, {}).status()));
    }
    // New subscriptions need a state that accepts them; the final state comes after them.
    v1::LifecycleState target = declared.state() == v1::LIFECYCLE_STATE_UNSPECIFIED ? v1::CREATED : declared.state();
    if (target != v1::PUBLISHED && target != v1::PRE_RELEASED && NeedsNewSubscription(doc, ref)) target = v1::PUBLISHED;
    return MoveTo(ref, target);
  }

  bool NeedsNewSubscription(const v1::CatalogDocument& doc, const std::string& ref) {
    for (const auto& s : doc.subscriptions()) {
      if (s.api() != ref) continue;
      absl::StatusOr<std::vector<v1::SubscriptionInfo>> have = c_.ListSubscriptions(s.application(), ref);
      if (!have.ok() || have->empty()) return true;
    }
    return false;
  }

  // Walks WSO2's lifecycle (agent/lifecycle.h) along the shortest path of actions.
  absl::Status MoveTo(const std::string& ref, v1::LifecycleState target) {
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, c_.LoadApi(ref));
    if (row.state == target) return absl::OkStatus();
    std::map<v1::LifecycleState, std::pair<v1::LifecycleState, std::string>> via;  // state -> (previous, action)
    std::deque<v1::LifecycleState> queue = {row.state};
    via[row.state] = {row.state, ""};
    while (!queue.empty() && !via.count(target)) {
      v1::LifecycleState s = queue.front();
      queue.pop_front();
      for (const std::string& action : AllowedActions(s)) {
        absl::StatusOr<v1::LifecycleState> next = NextState(s, action);
        if (next.ok() && via.emplace(*next, std::pair{s, action}).second) queue.push_back(*next);
      }
    }
    if (!via.count(target))
      return absl::FailedPreconditionError(absl::StrCat("state: ", ref, " is ", StateName(row.state), " and cannot become ",
                                                        StateName(target), " (the lifecycle has no way there)"));
    std::vector<std::string> actions;
    for (v1::LifecycleState s = target; s != row.state; s = via[s].first) actions.push_back(via[s].second);
    for (auto it = actions.rbegin(); it != actions.rend(); ++it)
      WSGATE_RETURN_IF_ERROR(At("state", c_.ChangeLifecycle(ref, *it).status()));
    return absl::OkStatus();
  }

  absl::Status Application(const v1::DeclaredApplication& want) {
    absl::StatusOr<v1::ApplicationInfo> have = c_.LoadApplication(want.name());
    bool created = false;
    std::string owner = want.owner().empty() ? "admin" : want.owner();
    std::string policy = want.throttle_policy().empty() ? "Unlimited" : want.throttle_policy();
    if (absl::IsNotFound(have.status())) {
      v1::CreateApplicationRequest req;
      req.set_name(want.name());
      req.set_description(want.description());
      req.set_owner(owner);
      req.set_throttle_policy(policy);
      *req.mutable_scopes() = want.scopes();
      req.set_token_format(want.token_format());
      WSGATE_ASSIGN_OR_RETURN(have, c_.CreateApplication(req));
      Change("application", want.name(), "create");
      created = true;
      if (!want.blocked()) return absl::OkStatus();
    } else {
      WSGATE_RETURN_IF_ERROR(have.status());
      if (have->owner() != owner)
        return Invalid("owner", absl::StrCat("application '", want.name(), "' is owned by '", have->owner(),
                                             "'; an owner cannot change (delete the application and declare it again)"));
    }
    v1::DeclaredApplication before = Declared(*have);
    v1::DeclaredApplication after = want;
    after.set_owner(owner);
    after.set_throttle_policy(policy);
    if (after.token_format() == v1::TOKEN_FORMAT_JWT) after.clear_token_format();  // the default, as exported
    if (MessageDifferencer::Equals(before, after)) return absl::OkStatus();
    v1::UpdateApplicationRequest req;
    req.set_application(have->id());
    req.set_blocked(want.blocked());
    req.set_description(want.description());
    req.set_throttle_policy(policy);
    *req.mutable_scopes()->mutable_scopes() = want.scopes();
    req.set_token_format(want.token_format());
    WSGATE_RETURN_IF_ERROR(c_.UpdateApplication(req).status());
    if (!created) Change("application", want.name(), "update", FieldChanges(before, after));
    return absl::OkStatus();
  }

  absl::Status Subscription(const v1::DeclaredSubscription& want) {
    if (want.application().empty()) return Invalid("application", "required (an application name)");
    if (want.api().empty()) return Invalid("api", "required (Name:Version)");
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::SubscriptionInfo> have, c_.ListSubscriptions(want.application(), want.api()));
    v1::SubscriptionState state = want.state() == v1::SUBSCRIPTION_STATE_UNSPECIFIED ? v1::ACTIVE : want.state();
    std::string name = SubscriptionKey(want.application(), want.api());
    v1::SubscriptionInfo sub;
    if (have.empty()) {
      WSGATE_ASSIGN_OR_RETURN(sub, c_.CreateSubscription(want.application(), want.api(), want.plan()));
      Change("subscription", name, "create");
      if (state == v1::ACTIVE) return absl::OkStatus();
    } else {
      sub = have[0];
    }
    v1::DeclaredSubscription before = Declared(sub);
    v1::DeclaredSubscription after = want;
    after.set_state(state);
    if (MessageDifferencer::Equals(before, after)) return absl::OkStatus();
    v1::UpdateSubscriptionRequest req;
    req.set_subscription(sub.id());
    req.set_plan(want.plan());
    req.set_state(state);
    WSGATE_RETURN_IF_ERROR(c_.UpdateSubscription(req).status());
    if (!have.empty()) Change("subscription", name, "update", FieldChanges(before, after));
    return absl::OkStatus();
  }

  absl::Status ApiStateAndDeployments(const v1::DeclaredApi& declared) {
    std::string ref = ApiRefText(declared.spec());
    WSGATE_RETURN_IF_ERROR(
        MoveTo(ref, declared.state() == v1::LIFECYCLE_STATE_UNSPECIFIED ? v1::CREATED : declared.state()));
    std::map<std::string, std::string> want;  // environment -> vhost
    std::map<std::string, int> index;         // environment -> its place in `deployments`
    for (int i = 0; i < declared.deployments_size(); ++i) {
      const auto& d = declared.deployments(i);
      std::string env = d.environment().empty() ? c_.options_.environment : d.environment();
      index[env] = i;
      if (!want.emplace(env, d.vhost().empty() ? DefaultVhost(env) : absl::AsciiStrToLower(d.vhost())).second)
        return Invalid(absl::StrCat("deployments[", i, "].environment"),
                       absl::StrCat("'", env, "' is listed twice (an API has one revision per environment)"));
    }
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::Deployment> have, c_.ListDeployments(ref));
    std::map<std::string, v1::Deployment> current;
    for (auto& d : have) current[d.environment()] = d;
    for (const auto& [env, d] : current)
      if (!want.count(env)) {
        WSGATE_RETURN_IF_ERROR(c_.UndeployRevision(ref, d.revision(), env));
        Change("deployment", absl::StrCat(ref, "@", env), "delete");
      }
    WSGATE_ASSIGN_OR_RETURN(ApiRow row, c_.LoadApi(ref));
    uint32_t revision = 0;
    for (const auto& [env, vhost] : want) {
      auto it = current.find(env);
      std::string path = absl::StrCat("deployments[", index[env], "]");
      if (it != current.end() && it->second.vhost() == vhost && RevisionSpecIs(ref, it->second.revision(), row.spec))
        continue;
      if (revision == 0) {
        WSGATE_ASSIGN_OR_RETURN(revision, RevisionFor(ref, row.spec));
      }
      WSGATE_RETURN_IF_ERROR(At(path, c_.DeployRevision(ref, revision, env, vhost).status()));
      std::string name = absl::StrCat(ref, "@", env);
      if (it == current.end()) {
        Change("deployment", name, "create", {absl::StrCat("revision: ", revision), absl::StrCat("vhost: ", vhost)});
      } else {
        std::vector<std::string> fields;
        if (it->second.revision() != revision)
          fields.push_back(absl::StrCat("revision: ", it->second.revision(), " -> ", revision));
        if (it->second.vhost() != vhost) fields.push_back(absl::StrCat("vhost: ", it->second.vhost(), " -> ", vhost));
        Change("deployment", name, "update", std::move(fields));
      }
    }
    return absl::OkStatus();
  }

  bool RevisionSpecIs(const std::string& ref, uint32_t number, const v1::ApiSpec& spec) {
    absl::StatusOr<std::vector<v1::Revision>> revs = c_.ListRevisions(ref);
    if (!revs.ok()) return false;
    for (const auto& r : *revs)
      if (r.number() == number) return MessageDifferencer::Equals(r.spec(), spec);
    return false;
  }

  // A revision holding exactly `spec`: an existing one, or a new one (dropping the oldest
  // undeployed revision when the API is at its revision limit).
  absl::StatusOr<uint32_t> RevisionFor(const std::string& ref, const v1::ApiSpec& spec) {
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::Revision> revs, c_.ListRevisions(ref));
    for (const auto& r : revs)
      if (MessageDifferencer::Equals(r.spec(), spec)) return r.number();
    if (static_cast<int>(revs.size()) >= c_.options_.max_revisions) {
      auto oldest = std::find_if(revs.begin(), revs.end(), [](const v1::Revision& r) { return r.deployments().empty(); });
      if (oldest == revs.end())
        return absl::ResourceExhaustedError(absl::StrCat("deployments: ", ref, " has ", revs.size(),
                                                         " revisions, all deployed; undeploy one first"));
      WSGATE_RETURN_IF_ERROR(c_.DeleteRevision(ref, oldest->number()));
      Change("revision", absl::StrCat(ref, "#", oldest->number()), "delete");
    }
    WSGATE_ASSIGN_OR_RETURN(v1::Revision created, c_.CreateRevision(ref, "created by wsgatectl apply"));
    Change("revision", absl::StrCat(ref, "#", created.number()), "create");
    return created.number();
  }

  absl::Status Prune() {
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::SubscriptionInfo> subs, c_.ListSubscriptions("", ""));
    for (const auto& s : subs) {
      std::string key = SubscriptionKey(s.application_name(), s.api());
      if (declared_subs_.count(key)) continue;
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("prune subscription ", key), c_.DeleteSubscription(s.id())));
      Change("subscription", key, "delete");
    }
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::ApplicationInfo> apps, c_.ListApplications());
    for (const auto& a : apps) {
      if (declared_apps_.count(a.name())) continue;
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("prune application ", a.name()), c_.DeleteApplication(a.id())));
      Change("application", a.name(), "delete");
    }
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::ApiInfo> apis, c_.ListApis(""));
    for (const auto& a : apis) {
      std::string ref = ApiRefText(a.spec());
      if (declared_apis_.count(ref)) continue;
      WSGATE_ASSIGN_OR_RETURN(std::vector<v1::Deployment> deps, c_.ListDeployments(ref));
      for (const auto& d : deps) {
        WSGATE_RETURN_IF_ERROR(c_.UndeployRevision(ref, d.revision(), d.environment()));
        Change("deployment", absl::StrCat(ref, "@", d.environment()), "delete");
      }
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("prune api ", ref), c_.DeleteApi(a.id())));
      Change("api", ref, "delete");
    }
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::ThrottlePolicy> policies, c_.ListPolicies(v1::POLICY_LEVEL_UNSPECIFIED));
    for (const auto& p : policies) {
      if (declared_policies_.count(p.name())) continue;
      Statement st = c_.db_.Prepare("SELECT builtin FROM policies WHERE name = ?");
      st.Bind(1, p.name());
      if (!st.Next() || st.Int(0) != 0) continue;  // built-in policies are never pruned
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("prune policy ", p.name()), c_.DeletePolicy(p.name())));
      Change("policy", p.name(), "delete");
    }
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::Environment> envs, c_.ListEnvironments());
    for (const auto& e : envs) {
      if (declared_envs_.count(e.name()) || e.name() == c_.options_.environment) continue;  // the default one stays
      auto deploying = deploying_.find(e.name());
      if (deploying != deploying_.end())
        return Invalid(deploying->second + ".environment",
                       absl::StrCat("'", e.name(), "' is not declared under environments, so prune would delete it; "
                                    "declare it or remove this deployment"));
      WSGATE_RETURN_IF_ERROR(At(absl::StrCat("prune environment ", e.name()), c_.DeleteEnvironment(e.name())));
      Change("environment", e.name(), "delete");
    }
    return absl::OkStatus();
  }

  // One "api" change per declared API: its spec and state before and after the whole apply.
  absl::Status RecordApi(const v1::DeclaredApi& declared) {
    std::string ref = ApiRefText(declared.spec());
    WSGATE_ASSIGN_OR_RETURN(v1::DeclaredApi after, Current(ref));
    auto before = before_apis_.find(ref);
    if (before == before_apis_.end()) {
      Change("api", ref, "create");
    } else {
      std::vector<std::string> fields = FieldChanges(before->second, after);
      if (fields.empty()) return absl::OkStatus();
      Change("api", ref, "update", std::move(fields));
    }
    // Before the API's revisions and deployments.
    auto* changes = resp_.mutable_changes();
    std::rotate(changes->begin() + api_change_at_[ref], changes->end() - 1, changes->end());
    return absl::OkStatus();
  }

  static v1::DeclaredApplication Declared(const v1::ApplicationInfo& a) {
    v1::DeclaredApplication d;
    d.set_name(a.name());
    d.set_description(a.description());
    d.set_owner(a.owner());
    d.set_throttle_policy(a.throttle_policy());
    d.set_blocked(a.blocked());
    *d.mutable_scopes() = a.scopes();
    if (a.token_format() == v1::TOKEN_FORMAT_OPAQUE) d.set_token_format(a.token_format());  // JWT: absent
    return d;
  }
  static v1::DeclaredSubscription Declared(const v1::SubscriptionInfo& s) {
    v1::DeclaredSubscription d;
    d.set_application(s.application_name());
    d.set_api(s.api());
    d.set_plan(s.plan());
    d.set_state(s.state());
    return d;
  }

  friend class Catalog;
  Catalog& c_;
  v1::ApplyCatalogResponse& resp_;
  std::set<std::string> declared_apis_, declared_apps_, declared_policies_, declared_subs_, declared_envs_;
  std::map<std::string, std::string> deploying_;  // environment -> the first deployment naming it
  std::map<std::string, v1::DeclaredApi> before_apis_;
  std::map<std::string, int> api_change_at_;
};

absl::StatusOr<v1::CatalogDocument> Catalog::ExportCatalog() {
  std::lock_guard lock(mu_);  // one consistent view
  v1::CatalogDocument doc;
  WSGATE_ASSIGN_OR_RETURN(std::vector<v1::Environment> envs, ListEnvironments());
  std::sort(envs.begin(), envs.end(), [](const auto& a, const auto& b) { return a.name() < b.name(); });
  for (auto& e : envs) {
    v1::DeclaredEnvironment* d = doc.add_environments();
    for (auto& v : *e.mutable_vhosts()) v.clear_environment();  // implied by where it is
    WSGATE_ASSIGN_OR_RETURN(v1::EnvironmentSettings s, LoadSettings(e.name()));
    *d->mutable_environment() = std::move(e);
    for (auto& a : settings::Assignments(s)) d->add_settings(std::move(a));
  }
  WSGATE_ASSIGN_OR_RETURN(std::vector<v1::ThrottlePolicy> policies, ListPolicies(v1::POLICY_LEVEL_UNSPECIFIED));
  std::sort(policies.begin(), policies.end(), [](const auto& a, const auto& b) { return a.name() < b.name(); });
  for (auto& p : policies) *doc.add_policies() = std::move(p);
  WSGATE_ASSIGN_OR_RETURN(std::vector<v1::ApiInfo> apis, ListApis(""));  // ordered by name, version
  for (const auto& a : apis) {
    v1::DeclaredApi* d = doc.add_apis();
    *d->mutable_spec() = a.spec();
    d->set_state(a.state());
    WSGATE_ASSIGN_OR_RETURN(std::vector<v1::Deployment> deps, ListDeployments(a.id()));
    std::sort(deps.begin(), deps.end(), [](const auto& x, const auto& y) { return x.environment() < y.environment(); });
    for (const auto& dep : deps) {
      v1::DeclaredDeployment* out = d->add_deployments();
      out->set_environment(dep.environment());
      out->set_vhost(dep.vhost());
    }
  }
  WSGATE_ASSIGN_OR_RETURN(std::vector<v1::ApplicationInfo> apps, ListApplications());
  std::sort(apps.begin(), apps.end(), [](const auto& a, const auto& b) { return a.name() < b.name(); });
  for (const auto& a : apps) *doc.add_applications() = Applier::Declared(a);
  WSGATE_ASSIGN_OR_RETURN(std::vector<v1::SubscriptionInfo> subs, ListSubscriptions("", ""));
  std::vector<v1::DeclaredSubscription> declared;
  for (const auto& s : subs) declared.push_back(Applier::Declared(s));
  std::sort(declared.begin(), declared.end(), [](const auto& a, const auto& b) {
    return std::pair(a.application(), a.api()) < std::pair(b.application(), b.api());
  });
  for (auto& s : declared) *doc.add_subscriptions() = std::move(s);
  WSGATE_ASSIGN_OR_RETURN(std::vector<v1::IdentityProviderInfo> idps, ListIdentityProviders());  // by name
  for (auto& p : idps) *doc.add_identity_providers() = std::move(*p.mutable_spec());
  return doc;
}

absl::StatusOr<v1::ApplyCatalogResponse> Catalog::ApplyCatalog(const v1::ApplyCatalogRequest& req) {
  v1::ApplyCatalogResponse resp;
  uint64_t before = 0, after = 0;
  std::function<void(uint64_t)> listener;
  {
    std::lock_guard lock(mu_);
    before = config_version();
    Transaction tx(db_);
    WSGATE_RETURN_IF_ERROR(tx.Begin());
    applying_ = true;
    absl::Status s = Applier(*this, resp).Run(req.document(), req.prune());
    applying_ = false;
    WSGATE_RETURN_IF_ERROR(s);  // the Transaction rolls everything back
    after = config_version();
    if (!req.dry_run() && resp.changes_size() > 0) {
      WSGATE_RETURN_IF_ERROR(tx.Commit());
      resp.set_committed(true);
      listener = listener_;
      notified_version_ = std::max(notified_version_, after);
    }
    resp.set_config_version(resp.committed() ? after : before);
  }
  if (resp.committed() && after != before && listener) listener(after);
  return resp;
}

}  // namespace wsgate::agent
