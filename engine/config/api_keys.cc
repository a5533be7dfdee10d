// File: engine/config/api_keys.cc
#include "engine/config/api_keys.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace wsgate::engine::config {

absl::Status CompileSecuritySchemes(const v1::Api& in, const std::string& path, Api& out) {
  if (in.security_schemes().empty()) return absl::OkStatus();  // oauth2 only, as before schemes existed
  out.oauth2 = out.api_key = false;
  for (int i = 0; i < in.security_schemes_size(); ++i) {
    std::string scheme = absl::AsciiStrToLower(in.security_schemes(i));
    if (scheme == "oauth2") {
      out.oauth2 = true;
    } else if (scheme == "api_key") {
      out.api_key = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(path, "[", i, "]: unknown scheme '", in.security_schemes(i), "' (oauth2 or api_key)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CompileApiKeys(const v1::Snapshot& in, Snapshot& out) {
  for (int i = 0; i < in.api_keys_size(); ++i) {
    const v1::ApiKey& k = in.api_keys(i);
    std::string path = absl::StrCat("api_keys[", i, "]");
    if (k.sha256().size() != 32) return absl::InvalidArgumentError(path + ".sha256: must be 32 bytes");
    if (!out.applications.contains(k.application_id()))
      return absl::InvalidArgumentError(absl::StrCat(path, ".application_id: unknown application '", k.application_id(), "'"));
    ApiKey key;
    key.id = k.id();
    key.application_id = k.application_id();
    key.key_type = k.key_type() == v1::SANDBOX ? v1::SANDBOX : v1::PRODUCTION;
    key.expires_unix_s = k.expires_unix_s();
    key.apis.assign(k.apis().begin(), k.apis().end());
    auto ip = policy::IpRules::Compile({k.ip_ranges().begin(), k.ip_ranges().end()}, {});
    if (!ip.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ".ip_ranges: ", ip.status().message()));
    key.ip = *std::move(ip);
    if (!k.origins().empty()) {
      // A restricted key needs an Origin (or Referer): a request without one is refused.
      auto origins = policy::OriginRules::Compile({k.origins().begin(), k.origins().end()}, false);
      if (!origins.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ".", origins.status().message()));
      key.origins = *std::move(origins);
    }
    if (!out.api_keys.Insert(k.sha256(), std::move(key)))
      return absl::InvalidArgumentError(path + ".sha256: duplicate key");
  }
  return absl::OkStatus();
}

}  // namespace wsgate::engine::config
