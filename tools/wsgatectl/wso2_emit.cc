// File: tools/wsgatectl/wso2_emit.cc — a declared wsgate API as a WSO2 apictl project: api.yaml
// (the Publisher REST API's API object under `data:`) and Definitions/asyncapi.yaml, the layout
// `apictl import api -f DIR` and `wsgatectl import wso2 DIR` read.
#include <yaml-cpp/yaml.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/wsgatectl/wso2.h"

namespace wsgate::tools::ctl {
namespace {

std::string StatusText(v1::LifecycleState s) {
  switch (s) {
    case v1::PRE_RELEASED: return "PRE-RELEASED";
    case v1::PUBLISHED: return "PUBLISHED";
    case v1::BLOCKED: return "BLOCKED";
    case v1::DEPRECATED: return "DEPRECATED";
    case v1::RETIRED: return "RETIRED";
    default: return "CREATED";
  }
}

void Seq(YAML::Emitter& out, const std::string& key, const google::protobuf::RepeatedPtrField<std::string>& items) {
  out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& i : items) out << i;
  out << YAML::EndSeq;
}

void CheckEndpoint(const v1::Endpoint& ep, const std::string& name, std::vector<std::string>* warnings) {
  if (ep.insecure_skip_verify())
    warnings->push_back(absl::StrCat(name, ".insecure_skip_verify: WSO2 has no such endpoint field (not exported)"));
  if (!ep.ca_file().empty()) warnings->push_back(absl::StrCat(name, ".ca_file: not exported (WSO2 keeps endpoint certificates in Endpoint-certificates/)"));
  if (ep.connect_timeout_ms() != 0) warnings->push_back(absl::StrCat(name, ".connect_timeout_ms: not exported"));
}

}  // namespace

ProjectFiles EmitWso2Project(const v1::DeclaredApi& api, std::vector<std::string>* warnings) {
  const v1::ApiSpec& spec = api.spec();
  CheckEndpoint(spec.production_endpoint(), "production_endpoint", warnings);
  CheckEndpoint(spec.sandbox_endpoint(), "sandbox_endpoint", warnings);
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "api" << YAML::Key << "version" << YAML::Value
      << "v4.2.0" << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << spec.name();
  if (!spec.description().empty()) out << YAML::Key << "description" << YAML::Value << spec.description();
  out << YAML::Key << "context" << YAML::Value << spec.context() << YAML::Key << "version" << YAML::Value
      << spec.version() << YAML::Key << "provider" << YAML::Value << "admin" << YAML::Key << "lifeCycleStatus"
      << YAML::Value << StatusText(api.state()) << YAML::Key << "isDefaultVersion" << YAML::Value
      << (spec.is_default_version() ? "true" : "false") << YAML::Key << "type" << YAML::Value << "WS";
  Seq(out, "policies", spec.plans());
  if (!spec.throttle_policy().empty()) out << YAML::Key << "apiThrottlingPolicy" << YAML::Value << spec.throttle_policy();
  Seq(out, "securityScheme", spec.security());
  out << YAML::Key << "endpointConfig" << YAML::Value << YAML::BeginMap << YAML::Key << "endpoint_type" << YAML::Value
      << "ws";
  for (auto [key, ep] : {std::pair{"production_endpoints", &spec.production_endpoint()},
                         std::pair{"sandbox_endpoints", &spec.sandbox_endpoint()}})
    if (!ep->url().empty())
      out << YAML::Key << key << YAML::Value << YAML::BeginMap << YAML::Key << "url" << YAML::Value << ep->url()
          << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::Key << "operations" << YAML::Value << YAML::BeginSeq;
  for (const auto& t : spec.topics())
    for (auto [verb, on] : {std::pair{"SUBSCRIBE", t.subscribe()}, std::pair{"PUBLISH", t.publish()}}) {
      if (!on) continue;
      out << YAML::BeginMap << YAML::Key << "target" << YAML::Value << t.name() << YAML::Key << "verb" << YAML::Value
          << verb << YAML::Key << "authType" << YAML::Value << (t.unsecured() ? "None" : "Application & Application User");
      Seq(out, "scopes", t.scopes());
      if (!t.url_mapping().empty()) out << YAML::Key << "uriMapping" << YAML::Value << t.url_mapping();
      out << YAML::EndMap;
    }
  out << YAML::EndSeq;
  if (!spec.scopes().empty()) {  // WSO2's API scopes, with their role bindings (issue 14)
    out << YAML::Key << "scopes" << YAML::Value << YAML::BeginSeq;
    for (const auto& s : spec.scopes()) {
      out << YAML::BeginMap << YAML::Key << "scope" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
          << YAML::Value << s.name() << YAML::Key << "displayName" << YAML::Value << s.name();
      if (!s.description().empty()) out << YAML::Key << "description" << YAML::Value << s.description();
      Seq(out, "bindings", s.roles());
      out << YAML::EndMap << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap << YAML::EndMap;

  YAML::Emitter async;
  async << YAML::BeginMap << YAML::Key << "asyncapi" << YAML::Value << "2.0.0" << YAML::Key << "info" << YAML::Value
        << YAML::BeginMap << YAML::Key << "title" << YAML::Value << spec.name() << YAML::Key << "version" << YAML::Value
        << spec.version() << YAML::EndMap;
  async << YAML::Key << "servers" << YAML::Value << YAML::BeginMap;
  for (auto [name, ep] : {std::pair{"production", &spec.production_endpoint()},
                          std::pair{"sandbox", &spec.sandbox_endpoint()}})
    if (!ep->url().empty())
      async << YAML::Key << name << YAML::Value << YAML::BeginMap << YAML::Key << "url" << YAML::Value << ep->url()
            << YAML::Key << "protocol" << YAML::Value << (absl::StartsWith(ep->url(), "wss:") ? "wss" : "ws")
            << YAML::EndMap;
  async << YAML::EndMap << YAML::Key << "channels" << YAML::Value << YAML::BeginMap;
  for (const auto& t : spec.topics()) {
    async << YAML::Key << t.name() << YAML::Value << YAML::BeginMap;
    for (auto [verb, on] : {std::pair{"subscribe", t.subscribe()}, std::pair{"publish", t.publish()}}) {
      if (!on) continue;
      async << YAML::Key << verb << YAML::Value << YAML::BeginMap;
      if (!t.url_mapping().empty()) async << YAML::Key << "x-uri-mapping" << YAML::Value << t.url_mapping();
      if (!t.scopes().empty()) Seq(async, "x-scopes", t.scopes());
      async << YAML::EndMap;
    }
    async << YAML::Key << "x-auth-type" << YAML::Value << (t.unsecured() ? "None" : "Any") << YAML::EndMap;
  }
  async << YAML::EndMap;
  if (!spec.scopes().empty()) {  // flows.implicit.scopes and WSO2's x-scopes-bindings
    async << YAML::Key << "components" << YAML::Value << YAML::BeginMap << YAML::Key << "securitySchemes"
          << YAML::Value << YAML::BeginMap << YAML::Key << "oauth2" << YAML::Value << YAML::BeginMap << YAML::Key
          << "type" << YAML::Value << "oauth2" << YAML::Key << "flows" << YAML::Value << YAML::BeginMap << YAML::Key
          << "implicit" << YAML::Value << YAML::BeginMap << YAML::Key << "scopes" << YAML::Value << YAML::BeginMap;
    for (const auto& s : spec.scopes()) async << YAML::Key << s.name() << YAML::Value << s.description();
    async << YAML::EndMap << YAML::Key << "x-scopes-bindings" << YAML::Value << YAML::BeginMap;
    for (const auto& s : spec.scopes()) async << YAML::Key << s.name() << YAML::Value << absl::StrJoin(s.roles(), ",");
    async << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  }
  async << YAML::EndMap;

  ProjectFiles files;
  files.api_name = "api.yaml";
  files.api_text = absl::StrCat(out.c_str(), "\n");
  files.asyncapi_name = "Definitions/asyncapi.yaml";
  files.asyncapi_text = absl::StrCat(async.c_str(), "\n");
  return files;
}

}  // namespace wsgate::tools::ctl
