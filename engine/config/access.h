// File: engine/config/access.h
//
// Access rules at the upgrade: compiling v1::AccessRules into engine/policy's rules, and the
// decision for one request (its Origin and client address) against the environment's defaults
// and the API's own rules. Checked after routing and before the token, so a refused request
// costs no signature check and never reaches a backend. Pure logic.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/config/snapshot.h"

namespace wsgate::engine::config {

// `origins` is left empty when `in` says nothing about origins (no list, Origin not required),
// so the environment's rules apply. Errors name `path` and the entry.
absl::Status CompileAccess(const v1::AccessRules& in, std::string_view path, std::optional<policy::OriginRules>* origins,
                           policy::IpRules* ip);

struct AccessDecision {
  int status = 0;       // 0: allowed; else 403
  std::string message;  // the refusal's text body
};

// `origin`: the request's Origin header, nullopt when absent. `client`: the client address
// (policy::ClientAddress of the peer and X-Forwarded-For).
AccessDecision CheckAccess(const Settings& env, const Api& api, std::optional<std::string_view> origin,
                           const policy::IpAddress& client);

}  // namespace wsgate::engine::config
