// File: tools/wsgatectl/invoke_urls.cc
#include "tools/wsgatectl/invoke_urls.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace wsgate::tools::ctl {

std::vector<std::string> InvokeUrls(const v1::ApiSpec& spec, const v1::ListDeploymentsResponse& deployments,
                                    const v1::ListEnvironmentsResponse& environments) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::vector<std::string> paths = {absl::StrCat(spec.context(), "/", spec.version())};
  if (spec.is_default_version()) paths.push_back(spec.context());
  for (const auto& d : deployments.deployments())
    for (const auto& env : environments.environments()) {
      if (env.name() != d.environment()) continue;
      for (const auto& v : env.vhosts()) {
        if (v.name() != d.vhost()) continue;
        std::vector<std::string> hosts = {v.name()};
        hosts.insert(hosts.end(), v.aliases().begin(), v.aliases().end());
        for (const auto& host : hosts)
          for (const auto& path : paths)
            for (const auto& url : {absl::StrCat("ws://", host, ":", v.ws_port(), path),
                                    absl::StrCat("wss://", host, ":", v.wss_port(), path)})
              if (seen.insert(url).second) out.push_back(url);
      }
    }
  return out;
}

}  // namespace wsgate::tools::ctl
