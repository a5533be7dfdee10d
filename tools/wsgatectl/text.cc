// File: tools/wsgatectl/text.cc
#include "tools/wsgatectl/text.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/settings.h"

namespace wsgate::tools::ctl {

absl::StatusOr<v1::KeyType> ParseKeyType(const std::string& text) {
  std::string up = absl::AsciiStrToUpper(text);
  if (up == "PRODUCTION") return v1::PRODUCTION;
  if (up == "SANDBOX") return v1::SANDBOX;
  return absl::InvalidArgumentError("--type: '" + text + "' is not PRODUCTION or SANDBOX");
}

absl::StatusOr<uint32_t> ParseRevision(const std::string& text) {
  uint32_t n;
  if (!absl::SimpleAtoi(text, &n)) return absl::InvalidArgumentError("REVISION: '" + text + "' is not a number");
  return n;
}

absl::StatusOr<v1::SigningAlgorithm> ParseSigningAlgorithm(const std::string& text) {
  std::string up = absl::AsciiStrToUpper(text);
  if (up == "RS256") return v1::RS256;
  if (up == "ES256") return v1::ES256;
  if (up == "EDDSA") return v1::EDDSA;
  return absl::InvalidArgumentError("--alg: '" + text + "' is not RS256, ES256 or EdDSA");
}

absl::StatusOr<v1::PolicyLevel> ParsePolicyLevel(const std::string& text, v1::PolicyLevel if_empty) {
  if (text.empty()) return if_empty;
  v1::PolicyLevel level;
  if (!v1::PolicyLevel_Parse(absl::AsciiStrToUpper(text), &level))
    return absl::InvalidArgumentError("--level: '" + text + "' is not subscription, application or api");
  return level;
}

absl::StatusOr<v1::TimeUnit> ParseTimeUnit(const std::string& text) {
  if (text.empty()) return v1::TIME_UNIT_UNSPECIFIED;
  v1::TimeUnit unit;
  if (!v1::TimeUnit_Parse(absl::AsciiStrToUpper(text), &unit))
    return absl::InvalidArgumentError("--unit: '" + text + "' is not second, minute, hour, day or month");
  return unit;
}

std::string StateText(v1::LifecycleState state) {
  return state == v1::PRE_RELEASED ? "PRE-RELEASED" : v1::LifecycleState_Name(state);
}

// The API-level policy and the per-API overrides of environment settings (issue 12), a line each.
std::string OverridesText(const v1::ApiSpec& s) {
  std::string out;
  if (!s.throttle_policy().empty()) absl::StrAppend(&out, "  API policy: ", s.throttle_policy(), "\n");
  if (s.max_message_bytes() != 0)
    absl::StrAppend(&out, "  max message size: ",
                    agent::settings::Format(*agent::settings::Find("max_message_bytes"), s.max_message_bytes()), "\n");
  auto duration = [](uint64_t ms) { return agent::settings::Format(*agent::settings::Find("idle_timeout"), ms); };
  if (s.idle_timeout_ms() != 0) absl::StrAppend(&out, "  idle timeout: ", duration(s.idle_timeout_ms()), "\n");
  if (s.max_lifetime_ms() != 0) absl::StrAppend(&out, "  max lifetime: ", duration(s.max_lifetime_ms()), "\n");
  if (s.handshake_rate() != 0)
    absl::StrAppend(&out, "  handshake rate: ", s.handshake_rate(), "/s (burst ",
                    s.handshake_burst() ? s.handshake_burst() : s.handshake_rate(), ")\n");
  for (const auto* ep : {&s.production_endpoint(), &s.sandbox_endpoint()})
    if (ep->connect_timeout_ms() != 0) {
      absl::StrAppend(&out, "  connect timeout: ",
                      agent::settings::Format(*agent::settings::Find("connect_timeout"), ep->connect_timeout_ms()),
                      "\n");
      break;
    }
  return out;
}

std::string ApiText(const v1::ApiInfo& a) {
  const v1::ApiSpec& s = a.spec();
  std::string out = absl::StrCat(s.name(), ":", s.version(), "  context ", s.context(), "  state ", StateText(a.state()),
                                 "  id ", a.id(), "\n");
  if (!s.production_endpoint().url().empty()) absl::StrAppend(&out, "  production endpoint ", s.production_endpoint().url(), "\n");
  if (!s.sandbox_endpoint().url().empty()) absl::StrAppend(&out, "  sandbox endpoint    ", s.sandbox_endpoint().url(), "\n");
  if (s.is_default_version()) absl::StrAppend(&out, "  default version (also at ", s.context(), "/...)\n");
  if (s.security_size() > 1 || (s.security_size() == 1 && s.security(0) != "oauth2"))  // issue 14 item 4
    absl::StrAppend(&out, "  security: ", absl::StrJoin(s.security(), ", "), "\n");
  absl::StrAppend(&out, "  plans: ", s.plans().empty() ? "none" : absl::StrJoin(s.plans(), ", "), "\n");
  out += OverridesText(s);
  absl::StrAppend(&out, "  topics:", s.topics().empty() ? " none" : "", "\n");
  for (const auto& t : s.topics()) {
    absl::StrAppend(&out, "    ", t.name(), t.url_mapping().empty() ? "" : absl::StrCat("  ->  ", t.url_mapping()));
    if (!t.scopes().empty()) absl::StrAppend(&out, "  scopes: ", absl::StrJoin(t.scopes(), ","));
    if (t.unsecured()) absl::StrAppend(&out, "  (no token needed)");
    out += "\n";
  }
  for (const auto& scope : s.scopes())  // declared scopes (issue 14)
    absl::StrAppend(&out, "  scope ", scope.name(), scope.roles().empty() ? "" : "  roles: " + absl::StrJoin(scope.roles(), ","),
                    scope.description().empty() ? "" : "  " + scope.description(), "\n");
  if (s.backend().jwt())  // issue 14 item 7
    absl::StrAppend(&out, "  backend JWT: ", s.backend().jwt_header(), ", valid ", s.backend().jwt_validity_s(), " s\n");
  if (!s.backend().pass_headers().empty())
    absl::StrAppend(&out, "  headers passed to the backend: ", absl::StrJoin(s.backend().pass_headers(), ", "), "\n");
  std::vector<std::string> deployed;
  for (uint32_t r : a.deployed_revisions()) deployed.push_back(std::to_string(r));
  absl::StrAppend(&out, "  deployed revisions: ", deployed.empty() ? "none" : absl::StrJoin(deployed, ", "));
  return out;
}

}  // namespace wsgate::tools::ctl
