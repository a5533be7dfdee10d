// File: engine/config/access.cc
#include "engine/config/access.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::config {
namespace {

std::vector<std::string> List(const google::protobuf::RepeatedPtrField<std::string>& in) { return {in.begin(), in.end()}; }

// A client-sent value, safe to echo in a text body: printable ASCII, at most 128 characters.
std::string Printable(std::string_view text) {
  std::string out;
  for (char ch : text.substr(0, 128)) out.push_back(ch >= 0x20 && ch < 0x7f ? ch : '?');
  if (text.size() > 128) out += "...";
  return out;
}

}  // namespace

absl::Status CompileAccess(const v1::AccessRules& in, std::string_view path, std::optional<policy::OriginRules>* origins,
                           policy::IpRules* ip) {
  if (!in.allowed_origins().empty() || in.require_origin()) {
    auto o = policy::OriginRules::Compile(List(in.allowed_origins()), !in.require_origin());
    if (!o.ok()) return absl::InvalidArgumentError(absl::StrCat(common::Sv(path), ".allowed_", o.status().message()));
    *origins = *std::move(o);
  }
  auto rules = policy::IpRules::Compile(List(in.ip_allow()), List(in.ip_deny()));
  if (!rules.ok()) return absl::InvalidArgumentError(absl::StrCat(common::Sv(path), ".ip_", rules.status().message()));
  *ip = *std::move(rules);
  return absl::OkStatus();
}

AccessDecision CheckAccess(const Settings& env, const Api& api, std::optional<std::string_view> origin,
                           const policy::IpAddress& client) {
  if (!env.ip.Allows(client) || !api.ip.Allows(client))
    return {403, absl::StrCat("Forbidden: client address ", client.ToString(), " is not allowed")};
  const policy::OriginRules& origins = api.origins ? *api.origins : env.origins;
  if (!origins.Allows(origin)) {
    if (!origin) return {403, "Forbidden: an Origin header is required for this API"};
    return {403, absl::StrCat("Forbidden: origin '", Printable(*origin), "' is not allowed for this API")};
  }
  return {};
}

}  // namespace wsgate::engine::config
