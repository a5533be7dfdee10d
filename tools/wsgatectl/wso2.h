// File: tools/wsgatectl/wso2.h — WSO2 compatibility: an apictl API project (api.yaml or api.json
// holding the Publisher REST API's API object under `data:`, plus Definitions/asyncapi.yaml|json)
// or a bare AsyncAPI 2.x document, to a declared wsgate API, and back. Pure except
// ReadWso2Project (a directory or a .zip, read with libzip).
//
// What maps (docs/cli.md "import wso2"): name, context (a trailing /{version} or /VERSION is
// dropped), version, description, type (must be WS), lifeCycleStatus, isDefaultVersion,
// endpointConfig.production_endpoints / sandbox_endpoints .url, operations (target, verb
// PUBLISH/SUBSCRIBE, uriMapping, scopes, authType None) or AsyncAPI channels (publish/subscribe,
// x-uri-mapping, x-scopes, x-auth-type), policies (plans), apiThrottlingPolicy, securityScheme
// (oauth2). Every other field with a non-default value comes back as a warning naming it.
//
//   auto files = ReadWso2Project("ChatsAPI-1.0.0.zip");
//   auto api = ParseWso2Project(*files);       // api->api: v1::DeclaredApi, api->warnings
//   ProjectFiles out = EmitWso2Project(api->api, &warnings);
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wsgate/v1/admin.pb.h"

namespace wsgate::tools::ctl {

struct ImportedApi {
  v1::DeclaredApi api;
  std::vector<std::string> warnings;  // "api.yaml: data.tags: not supported by wsgate (ignored)"
};

// The files of a project that matter: names are as in the project ("api.yaml",
// "Definitions/asyncapi.json"); an empty asyncapi_name when there is none.
struct ProjectFiles {
  std::string api_name, api_text;
  std::string asyncapi_name, asyncapi_text;
  std::vector<std::string> other_files;  // everything else found (reported as warnings)
};

// A project directory, or a .zip of one (with or without a top-level folder, as apictl writes).
absl::StatusOr<ProjectFiles> ReadWso2Project(const std::string& path);

// Errors are INVALID_ARGUMENT "FILE: FIELD: why".
absl::StatusOr<ImportedApi> ParseWso2Project(const ProjectFiles& files);

struct AsyncApiOptions {
  std::string context;   // required
  std::string endpoint;  // overrides `servers`
  std::string version;   // overrides info.version
  std::string name;      // overrides info.title
};
absl::StatusOr<ImportedApi> ParseAsyncApi(const std::string& file, const std::string& text,
                                          const AsyncApiOptions& options);

// api.yaml (type: api, version: v4.2.0, data: ...) and Definitions/asyncapi.yaml for `api`;
// what WSO2 cannot express (endpoint TLS options, timeouts) is added to `warnings`.
ProjectFiles EmitWso2Project(const v1::DeclaredApi& api, std::vector<std::string>* warnings);

}  // namespace wsgate::tools::ctl
