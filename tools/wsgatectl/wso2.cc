// File: tools/wsgatectl/wso2.cc — parsing WSO2 apictl projects and AsyncAPI documents
// (wso2_emit.cc writes them; wso2_read.cc reads a project directory or zip).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/wsgatectl/wso2.h"

namespace wsgate::tools::ctl {
namespace {

// Values that configure nothing: null, "", [], {}, false, 0.
bool Empty(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return true;
  if (n.IsSequence() || n.IsMap()) return n.size() == 0;
  const std::string& s = n.Scalar();
  return s.empty() || s == "false" || s == "0";
}

// n[key], or a null node when n is not a mapping or has no such key (yaml-cpp throws on a
// lookup through a missing key).
YAML::Node Child(const YAML::Node& n, const std::string& key) {
  if (n.IsDefined() && n.IsMap()) {
    YAML::Node c = n[key];
    if (c.IsDefined()) return c;
  }
  return YAML::Node();
}

// Present with a value (a missing key and `key:` with nothing after it are both absent).
bool Has(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

std::string Text(const YAML::Node& n) { return n.IsDefined() && n.IsScalar() ? n.Scalar() : ""; }

std::vector<std::string> Strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n.IsDefined() && n.IsSequence())
    for (const auto& item : n)
      if (item.IsScalar()) out.push_back(item.Scalar());
  return out;
}

class Importer {
 public:
  explicit Importer(std::string file) : file_(std::move(file)) {}

  absl::Status Fail(const std::string& field, const std::string& why) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ": ", field, ": ", why));
  }
  void Warn(const std::string& field, const std::string& why) { warnings_.push_back(absl::StrCat(file_, ": ", field, ": ", why)); }
  // Warns about each key of `map` that is neither in `known` nor empty nor in `defaults` with
  // WSO2's default value.
  void WarnUnknown(const YAML::Node& map, const std::string& path, const std::set<std::string>& known,
                   const std::map<std::string, std::string>& defaults = {}, const std::set<std::string>& metadata = {}) {
    if (!map.IsDefined() || !map.IsMap()) return;
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (known.count(key) || metadata.count(key) || Empty(kv.second)) continue;
      auto d = defaults.find(key);
      if (d != defaults.end() && kv.second.IsScalar() && kv.second.Scalar() == d->second) continue;
      Warn(path.empty() ? key : path + "." + key, "not supported by wsgate (ignored)");
    }
  }
  std::vector<std::string>& warnings() { return warnings_; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<std::string> warnings_;
};

absl::StatusOr<YAML::Node> Load(const std::string& file, const std::string& text) {
  try {
    return YAML::Load(text);  // JSON is read as YAML
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ":", e.mark.line + 1, ": syntax error: ", e.msg));
  }
}

v1::Topic* FindTopic(v1::ApiSpec& spec, const std::string& name) {
  for (auto& t : *spec.mutable_topics())
    if (t.name() == name) return &t;
  v1::Topic* t = spec.add_topics();
  t->set_name(name);
  return t;
}

void AddScopes(v1::Topic* t, const std::vector<std::string>& scopes) {
  for (const auto& s : scopes)
    if (std::find(t->scopes().begin(), t->scopes().end(), s) == t->scopes().end()) t->add_scopes(s);
}

// WSO2's role names in scope bindings: "Internal/subscriber" is wsgate's "subscriber".
std::string Role(std::string role) {
  absl::StripAsciiWhitespace(&role);
  if (absl::StartsWithIgnoreCase(role, "Internal/")) role = absl::AsciiStrToLower(role.substr(9));
  return role;
}

// Declares `name` on the API (issue 14 item 1), or completes an existing declaration: an empty
// description is filled, roles are added.
void DeclareScope(v1::ApiSpec& spec, const std::string& name, const std::string& description,
                  const std::vector<std::string>& roles) {
  if (name.empty()) return;
  v1::ApiScope* scope = nullptr;
  for (auto& s : *spec.mutable_scopes())
    if (s.name() == name) scope = &s;
  if (scope == nullptr) {
    scope = spec.add_scopes();
    scope->set_name(name);
  }
  if (scope->description().empty()) scope->set_description(description);
  for (const auto& r : roles) {
    std::string role = Role(r);
    if (!role.empty() && std::find(scope->roles().begin(), scope->roles().end(), role) == scope->roles().end())
      scope->add_roles(role);
  }
}

// Every scope a topic names is declared: WSO2 documents declare them (apictl's data.scopes,
// AsyncAPI's flows.implicit.scopes), but a hand-written x-scopes may name one that is not.
void DeclareTopicScopes(Importer& im, v1::ApiSpec& spec) {
  for (const auto& t : spec.topics())
    for (const auto& name : t.scopes())
      if (std::none_of(spec.scopes().begin(), spec.scopes().end(), [&](const v1::ApiScope& s) { return s.name() == name; })) {
        im.Warn(absl::StrCat("topic ", t.name()), absl::StrCat("scope '", name, "' is not declared; declared without roles"));
        DeclareScope(spec, name, "", {});
      }
}

// One publish/subscribe operation of a topic: its URL mapping (publish's wins, as in WSO2) and scopes.
void Operation(Importer& im, v1::Topic* t, bool publish, const std::string& mapping,
               const std::vector<std::string>& scopes, const std::string& path) {
  if (!mapping.empty()) {
    if (!t->url_mapping().empty() && t->url_mapping() != mapping) {
      if (publish) {
        im.Warn(path, absl::StrCat("URL mapping '", mapping, "' replaces the subscribe mapping '", t->url_mapping(),
                                   "' (one mapping per topic; publish wins, as in WSO2)"));
        t->set_url_mapping(mapping);
      } else {
        im.Warn(path, absl::StrCat("URL mapping '", mapping, "' ignored: the publish mapping '", t->url_mapping(),
                                   "' wins (one mapping per topic)"));
      }
    } else {
      t->set_url_mapping(mapping);
    }
  }
  (publish ? t->set_publish(true) : t->set_subscribe(true));
  AddScopes(t, scopes);
}

void AuthType(Importer& im, v1::Topic* t, const std::string& auth, const std::string& path,
              std::map<std::string, int>& unsecured_votes) {
  std::string lower = absl::AsciiStrToLower(auth);
  if (lower == "none") {
    ++unsecured_votes[t->name()];
  } else if (!lower.empty() && lower != "any" && lower != "application & application user" && lower != "application" &&
             lower != "application user") {
    im.Warn(path, absl::StrCat("'", auth, "' is not an auth type wsgate knows; the topic stays secured"));
  }
}

// AsyncAPI `channels` to topics.
absl::Status Channels(Importer& im, const YAML::Node& channels, v1::ApiSpec& spec, bool only_check) {
  if (!Has(channels)) return absl::OkStatus();
  if (!channels.IsMap()) return im.Fail("channels", "expected a mapping of topic: channel");
  std::map<std::string, int> unsecured;
  for (const auto& kv : channels) {
    std::string name = kv.first.Scalar();
    std::string path = absl::StrCat("channels.", name);
    const YAML::Node& ch = kv.second;
    if (only_check) {
      bool found = false;
      for (const auto& t : spec.topics()) found |= t.name() == name;
      if (!found) im.Warn(path, "not in api.yaml's operations, which wsgate follows (ignored)");
      continue;
    }
    if (!ch.IsMap()) return im.Fail(path, "expected a mapping (publish, subscribe, x-auth-type)");
    im.WarnUnknown(ch, path, {"publish", "subscribe", "parameters", "x-auth-type", "description"});
    v1::Topic* t = FindTopic(spec, name);
    for (const char* verb : {"publish", "subscribe"}) {
      const YAML::Node op = Child(ch, verb);
      if (!Has(op)) continue;
      std::string op_path = absl::StrCat(path, ".", verb);
      im.WarnUnknown(op, op_path, {"x-uri-mapping", "x-scopes", "operationId", "summary", "description"});
      Operation(im, t, std::string(verb) == "publish", Text(Child(op, "x-uri-mapping")), Strings(Child(op, "x-scopes")), op_path);
    }
    if (!t->publish() && !t->subscribe()) return im.Fail(path, "has neither publish nor subscribe");
    AuthType(im, t, Text(Child(ch, "x-auth-type")), path + ".x-auth-type", unsecured);
  }
  for (auto& t : *spec.mutable_topics())
    if (unsecured.count(t.name())) t.set_unsecured(true);
  return absl::OkStatus();
}

// AsyncAPI `servers`: production / sandbox by name, else the first is production.
void Servers(Importer& im, const YAML::Node& servers, v1::ApiSpec& spec) {
  if (!Has(servers) || !servers.IsMap()) return;
  auto url_of = [](const YAML::Node& s) {
    std::string url = Text(Child(s, "url"));
    std::string protocol = Text(Child(s, "protocol"));
    if (!url.empty() && url.find("://") == std::string::npos) url = absl::StrCat(protocol.empty() ? "ws" : protocol, "://", url);
    return url;
  };
  for (const auto& kv : servers) {
    std::string name = kv.first.Scalar();
    im.WarnUnknown(kv.second, "servers." + name, {"url", "protocol", "description"});
    if (name == "sandbox") {
      spec.mutable_sandbox_endpoint()->set_url(url_of(kv.second));
    } else if (spec.production_endpoint().url().empty()) {
      spec.mutable_production_endpoint()->set_url(url_of(kv.second));
    } else {
      im.Warn("servers." + name, "one production endpoint per API; this server is ignored");
    }
  }
}

absl::Status AsyncApiDocument(Importer& im, const YAML::Node& doc, v1::ApiSpec& spec, bool topics_known) {
  if (!doc.IsMap()) return im.Fail("(document)", "expected an AsyncAPI mapping");
  std::string version = Text(Child(doc, "asyncapi"));
  if (!absl::StartsWith(version, "2."))
    return im.Fail("asyncapi", absl::StrCat("'", version, "': only AsyncAPI 2.x documents are supported"));
  im.WarnUnknown(doc, "", {"asyncapi", "info", "servers", "channels", "components", "id", "defaultContentType"});
  const YAML::Node components = Child(doc, "components");
  if (Has(components)) {
    im.WarnUnknown(components, "components", {"securitySchemes", "schemas", "messages", "parameters"});
    for (const char* k : {"schemas", "messages"})
      if (!Empty(Child(components, k))) im.Warn(absl::StrCat("components.", k), "message schemas are not validated by wsgate (ignored)");
    const YAML::Node schemes = Child(components, "securitySchemes");
    if (schemes.IsMap())
      for (const auto& kv : schemes) {
        std::string type = Text(Child(kv.second, "type"));
        if (type != "oauth2")
          im.Warn("components.securitySchemes." + kv.first.Scalar(), absl::StrCat("type '", type, "': only oauth2 is supported"));
        // The API's scopes: flows.implicit.scopes {name: description} and WSO2's
        // x-scopes-bindings {name: "role,role"}.
        const YAML::Node implicit = Child(Child(kv.second, "flows"), "implicit");
        const YAML::Node declared = Child(implicit, "scopes"), bindings = Child(implicit, "x-scopes-bindings");
        for (bool binding : {false, true}) {
          const YAML::Node& map = binding ? bindings : declared;
          if (!map.IsMap()) continue;
          for (const auto& scope : map) {
            std::vector<std::string> roles;
            if (binding)
              for (absl::string_view r : absl::StrSplit(Text(scope.second), ',', absl::SkipWhitespace())) roles.emplace_back(r);
            DeclareScope(spec, scope.first.Scalar(), binding ? "" : Text(scope.second), roles);
          }
        }
      }
  }
  absl::Status s = Channels(im, Child(doc, "channels"), spec, topics_known);
  if (s.ok()) DeclareTopicScopes(im, spec);
  return s;
}

absl::StatusOr<v1::LifecycleState> State(Importer& im, const std::string& status) {
  std::string s = absl::AsciiStrToUpper(status);
  if (s.empty() || s == "CREATED") return v1::CREATED;
  if (s == "PRE-RELEASED" || s == "PRE_RELEASED" || s == "PROTOTYPED") return v1::PRE_RELEASED;
  if (s == "PUBLISHED") return v1::PUBLISHED;
  if (s == "BLOCKED") return v1::BLOCKED;
  if (s == "DEPRECATED") return v1::DEPRECATED;
  if (s == "RETIRED") return v1::RETIRED;
  return im.Fail("data.lifeCycleStatus", absl::StrCat("'", status, "' is not a WSO2 lifecycle state (CREATED, PRE-RELEASED, "
                                                      "PUBLISHED, BLOCKED, DEPRECATED, RETIRED)"));
}

// "/chats/1.0.0" or "/chats/{version}" -> "/chats"; {version} anywhere else is refused.
absl::StatusOr<std::string> Context(Importer& im, std::string context, const std::string& version) {
  for (const std::string& suffix : {std::string("/{version}"), "/" + version})
    if (!version.empty() && absl::EndsWith(context, suffix) && context.size() > suffix.size())
      context.resize(context.size() - suffix.size());
  if (context.find("{version}") != std::string::npos)
    return im.Fail("data.context", "'{version}' inside the context is not supported (wsgate appends /VERSION)");
  return context;
}

absl::Status Endpoints(Importer& im, const YAML::Node& config, v1::ApiSpec& spec) {
  if (!Has(config)) return absl::OkStatus();
  if (!config.IsMap()) return im.Fail("data.endpointConfig", "expected a mapping");
  im.WarnUnknown(config, "data.endpointConfig", {"endpoint_type", "production_endpoints", "sandbox_endpoints"});
  std::string type = Text(Child(config, "endpoint_type"));
  if (!type.empty() && type != "ws" && type != "http")
    im.Warn("data.endpointConfig.endpoint_type", absl::StrCat("'", type, "' (load balancing, failover) is not supported; the first URL is used"));
  for (const char* key : {"production_endpoints", "sandbox_endpoints"}) {
    YAML::Node ep = Child(config, key);
    std::string path = absl::StrCat("data.endpointConfig.", key);
    if (ep.IsSequence() && ep.size() > 0) {
      if (ep.size() > 1) im.Warn(path, "several endpoints: only the first is used");
      YAML::Node first = ep[0];
      ep.reset(first);
    }
    if (!Has(ep) || !ep.IsMap()) continue;
    im.WarnUnknown(ep, path, {"url"});
    v1::Endpoint* out = std::string(key) == "production_endpoints" ? spec.mutable_production_endpoint()
                                                                   : spec.mutable_sandbox_endpoint();
    out->set_url(Text(Child(ep, "url")));
  }
  return absl::OkStatus();
}

absl::Status Operations(Importer& im, const YAML::Node& ops, v1::ApiSpec& spec) {
  if (!ops.IsDefined() || Empty(ops)) return absl::OkStatus();
  if (!ops.IsSequence()) return im.Fail("data.operations", "expected a list");
  std::map<std::string, int> unsecured;
  std::map<std::string, int> seen;
  for (size_t i = 0; i < ops.size(); ++i) {
    const YAML::Node op = ops[i];
    std::string path = absl::StrCat("data.operations[", i, "]");
    im.WarnUnknown(op, path, {"target", "verb", "uriMapping", "scopes", "authType"}, {{"throttlingPolicy", "Unlimited"}},
                   {"id"});
    std::string target = Text(Child(op, "target"));
    if (target.empty()) return im.Fail(path + ".target", "required (the topic, e.g. /rooms/{roomID})");
    std::string verb = absl::AsciiStrToUpper(Text(Child(op, "verb")));
    if (verb != "PUBLISH" && verb != "SUBSCRIBE")
      return im.Fail(path + ".verb", absl::StrCat("'", Text(Child(op, "verb")), "': a WebSocket topic's verb is PUBLISH or SUBSCRIBE"));
    v1::Topic* t = FindTopic(spec, target);
    ++seen[target];
    Operation(im, t, verb == "PUBLISH", Text(Child(op, "uriMapping")), Strings(Child(op, "scopes")), path);
    AuthType(im, t, Text(Child(op, "authType")), path + ".authType", unsecured);
  }
  for (auto& t : *spec.mutable_topics()) {
    int votes = unsecured.count(t.name()) ? unsecured[t.name()] : 0;
    if (votes > 0 && votes < seen[t.name()])
      im.Warn("data.operations", absl::StrCat("topic ", t.name(), ": authType None on only some operations; it stays secured"));
    else if (votes > 0)
      t.set_unsecured(true);
  }
  return absl::OkStatus();
}

void Security(Importer& im, const YAML::Node& schemes, v1::ApiSpec& spec) {
  for (const std::string& s : Strings(schemes)) {
    if (s == "oauth2" || s == "api_key") {  // api_key: WSO2 4.3's API keys (issue 14 item 4)
      spec.add_security(s);
    } else if (s == "oauth_basic_auth_api_key_mandatory" || s == "oauth_basic_auth_mandatory") {
      continue;  // WSO2's "one of the listed schemes is mandatory" flags: oauth2 is always required here
    } else {
      im.Warn("data.securityScheme", absl::StrCat("'", s, "' is not supported (oauth2 and api_key only; ignored)"));
    }
  }
}

absl::StatusOr<ImportedApi> ParseProject(const ProjectFiles& files) {
  Importer im(files.api_name);
  absl::StatusOr<YAML::Node> root = Load(files.api_name, files.api_text);
  if (!root.ok()) return root.status();
  if (!root->IsMap()) return im.Fail("(document)", "expected an apictl api.yaml (type: api, version: v4.x.x, data: ...)");
  std::string type = Text(Child((*root), "type"));
  if (!type.empty() && absl::AsciiStrToLower(type) != "api")
    return im.Fail("type", absl::StrCat("'", type, "': not an API project (apictl writes `type: api`)"));
  const YAML::Node data = Child((*root), "data");
  if (!Has(data) || !data.IsMap()) return im.Fail("data", "required: the Publisher REST API's API object");
  im.WarnUnknown(*root, "", {"type", "version", "data"});
  std::string api_type = absl::AsciiStrToUpper(Text(Child(data, "type")));
  if (!api_type.empty() && api_type != "WS")
    return im.Fail("data.type", absl::StrCat("'", Text(Child(data, "type")), "': wsgate imports WebSocket APIs (type WS) only"));
  im.WarnUnknown(data, "data",
                 {"name", "context", "version", "description", "type", "lifeCycleStatus", "isDefaultVersion",
                  "endpointConfig", "operations", "policies", "apiThrottlingPolicy", "securityScheme", "scopes"},
                 {{"cacheTimeout", "300"}, {"visibility", "PUBLIC"}, {"accessControl", "NONE"}, {"gatewayVendor", "wso2"},
                  {"gatewayType", "wso2/synapse"}, {"subscriptionAvailability", "CURRENT_TENANT"},
                  {"authorizationHeader", "Authorization"}, {"apiKeyHeader", "ApiKey"}, {"enableStore", "true"},
                  {"provider", "admin"}, {"endpointImplementationType", "ENDPOINT"}, {"wsdlUrl", ""}},
                 {"id", "createdTime", "lastUpdatedTime", "lastUpdatedTimestamp", "isRevision", "revisionId",
                  "revisionedApiId", "workflowStatus", "hasThumbnail", "enableSubscriberVerification", "audience"});
  ImportedApi out;
  v1::ApiSpec& spec = *out.api.mutable_spec();
  spec.set_name(Text(Child(data, "name")));
  spec.set_version(Text(Child(data, "version")));
  spec.set_description(Text(Child(data, "description")));
  absl::StatusOr<std::string> context = Context(im, Text(Child(data, "context")), spec.version());
  if (!context.ok()) return context.status();
  spec.set_context(*context);
  spec.set_is_default_version(Text(Child(data, "isDefaultVersion")) == "true");
  absl::StatusOr<v1::LifecycleState> state = State(im, Text(Child(data, "lifeCycleStatus")));
  if (!state.ok()) return state.status();
  out.api.set_state(*state);
  for (const auto& p : Strings(Child(data, "policies"))) spec.add_plans(p);
  spec.set_throttle_policy(Text(Child(data, "apiThrottlingPolicy")));
  Security(im, Child(data, "securityScheme"), spec);
  if (absl::Status s = Endpoints(im, Child(data, "endpointConfig"), spec); !s.ok()) return s;
  if (absl::Status s = Operations(im, Child(data, "operations"), spec); !s.ok()) return s;
  const YAML::Node scopes = Child(data, "scopes");
  if (scopes.IsSequence())
    for (size_t i = 0; i < scopes.size(); ++i) {
      std::string path = absl::StrCat("data.scopes[", i, "]");
      im.WarnUnknown(scopes[i], path, {"scope"}, {}, {"shared"});
      const YAML::Node scope = Child(scopes[i], "scope");
      im.WarnUnknown(scope, path + ".scope", {"name", "displayName", "description", "bindings"}, {}, {"id", "usageCount"});
      DeclareScope(spec, Text(Child(scope, "name")), Text(Child(scope, "description")), Strings(Child(scope, "bindings")));
    }
  DeclareTopicScopes(im, spec);
  for (const auto& name : files.other_files) im.Warn(name, "not used by wsgate (ignored)");
  std::vector<std::string> warnings = std::move(im.warnings());
  if (!files.asyncapi_name.empty()) {
    Importer async(files.asyncapi_name);
    absl::StatusOr<YAML::Node> doc = Load(files.asyncapi_name, files.asyncapi_text);
    if (!doc.ok()) return doc.status();
    if (absl::Status s = AsyncApiDocument(async, *doc, spec, !spec.topics().empty()); !s.ok()) return s;
    for (auto& w : async.warnings()) warnings.push_back(std::move(w));
  }
  if (spec.topics().empty()) spec.add_topics()->set_name("/*");
  out.warnings = std::move(warnings);
  return out;
}

absl::StatusOr<ImportedApi> ParseBareAsyncApi(const std::string& file, const std::string& text,
                                              const AsyncApiOptions& options) {
  Importer im(file);
  absl::StatusOr<YAML::Node> doc = Load(file, text);
  if (!doc.ok()) return doc.status();
  if (options.context.empty()) return absl::InvalidArgumentError("--context: required (e.g. --context /chats)");
  ImportedApi out;
  v1::ApiSpec& spec = *out.api.mutable_spec();
  if (absl::Status s = AsyncApiDocument(im, *doc, spec, false); !s.ok()) return s;
  const YAML::Node info = Child((*doc), "info");
  im.WarnUnknown(info, "info", {"title", "version", "description"});
  spec.set_name(options.name.empty() ? Text(Child(info, "title")) : options.name);
  spec.set_version(options.version.empty() ? Text(Child(info, "version")) : options.version);
  spec.set_description(Text(Child(info, "description")));
  spec.set_context(options.context);
  if (options.endpoint.empty()) {
    Servers(im, Child((*doc), "servers"), spec);
    if (spec.production_endpoint().url().empty() && spec.sandbox_endpoint().url().empty())
      return im.Fail("servers", "no server to take the endpoint from; pass --endpoint ws://HOST:PORT");
  } else {
    spec.mutable_production_endpoint()->set_url(options.endpoint);
    if (!Empty(Child((*doc), "servers"))) im.Warn("servers", "replaced by --endpoint");
  }
  if (spec.topics().empty()) spec.add_topics()->set_name("/*");
  out.warnings = std::move(im.warnings());
  return out;
}

}  // namespace

// yaml-cpp reports a node of the wrong kind by exception; no input may end the CLI that way.
absl::StatusOr<ImportedApi> ParseWso2Project(const ProjectFiles& files) {
  try {
    return ParseProject(files);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(files.api_name, ":", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<ImportedApi> ParseAsyncApi(const std::string& file, const std::string& text,
                                          const AsyncApiOptions& options) {
  try {
    return ParseBareAsyncApi(file, text, options);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ":", e.mark.line + 1, ": ", e.msg));
  }
}

}  // namespace wsgate::tools::ctl
