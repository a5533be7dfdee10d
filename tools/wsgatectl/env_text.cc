// File: tools/wsgatectl/env_text.cc
#include "tools/wsgatectl/env_text.h"

#include <ctime>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace wsgate::tools::ctl {

absl::StatusOr<v1::Vhost> ParseVhostSpec(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  v1::Vhost v;
  v.set_name(parts[0]);
  if (v.name().empty())
    return absl::InvalidArgumentError(
        absl::StrCat("--vhost '", text, "': starts with the host name (NAME[,default][,ws=PORT][,wss=PORT][,alias=HOST])"));
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    uint32_t port = 0;
    if (p == "default") {
      v.set_is_default(true);
    } else if (absl::StartsWith(p, "alias=") && p.size() > 6) {
      v.add_aliases(p.substr(6));
    } else if ((absl::StartsWith(p, "ws=") && absl::SimpleAtoi(p.substr(3), &port)) ||
               (absl::StartsWith(p, "wss=") && absl::SimpleAtoi(p.substr(4), &port))) {
      if (port == 0 || port > 65535)
        return absl::InvalidArgumentError(absl::StrCat("--vhost '", text, "': ", p, ": a port is 1-65535"));
      if (absl::StartsWith(p, "ws=")) v.set_ws_port(port);
      else v.set_wss_port(port);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--vhost '", text, "': '", p,
                                                     "' is not default, ws=PORT, wss=PORT or alias=HOST"));
    }
  }
  return v;
}

std::string VhostSpecText(const v1::Vhost& v) {
  std::string out = v.name();
  if (v.is_default()) out += ",default";
  if (v.ws_port()) absl::StrAppend(&out, ",ws=", v.ws_port());
  if (v.wss_port()) absl::StrAppend(&out, ",wss=", v.wss_port());
  for (const auto& a : v.aliases()) absl::StrAppend(&out, ",alias=", a);
  return out;
}

std::string EnvironmentText(const v1::Environment& env) {
  std::string out = absl::StrCat(env.name(), " (", env.type(), ")");
  if (!env.description().empty()) absl::StrAppend(&out, "\n  description: ", env.description());
  bool has_default = false;
  for (const auto& v : env.vhosts()) {
    has_default = has_default || v.is_default();
    absl::StrAppend(&out, "\n  vhost ", v.name(), v.is_default() ? " (default)" : "", "\tws ", v.ws_port(), "\twss ",
                    v.wss_port());
    if (!v.aliases().empty()) absl::StrAppend(&out, "\taliases ", absl::StrJoin(v.aliases(), ", "));
  }
  if (!has_default) out += "\n  no default vhost: a Host that matches no vhost gets 404";
  return out;
}

std::string SettingsText(const v1::EnvironmentSettings& s) {
  std::string out = absl::StrCat("settings of ", s.environment(), ":");
  for (const auto& v : s.values())
    absl::StrAppend(&out, "\n  ", v.key(), "\t", v.value(), "\t",
                    v.is_default() ? "(default)" : absl::StrCat("(default ", v.default_value(), ")"), "\t[", v.min(),
                    ", ", v.max(), "]");
  return out;
}

std::string CertificateText(const v1::CertificateInfo& c) {
  char when[32] = "?";
  time_t t = static_cast<time_t>(c.not_after_unix_s());
  struct tm tm;
  if (gmtime_r(&t, &tm) != nullptr) strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string out = absl::StrCat(c.environment(), "\t", c.vhost(), "\t", c.subject(), "\tSANs ",
                                 c.sans().empty() ? "-" : absl::StrJoin(c.sans(), ","), "\tnot after ", when);
  for (const auto& w : c.warnings()) absl::StrAppend(&out, "\tWARNING: ", w);
  return out;
}

}  // namespace wsgate::tools::ctl
