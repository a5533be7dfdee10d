// File: tools/wsgatectl/invoke_urls.h — the URLs clients connect to, as WSO2's Developer Portal
// shows them (issue 17): for each deployment of the API, ws:// and wss:// on the vhost's ports,
// for the vhost and each alias, and without the version segment too for the default version.
// Pure: `api get` fetches the deployments and environments.
#pragma once

#include <string>
#include <vector>

#include "wsgate/v1/admin.pb.h"

namespace wsgate::tools::ctl {

namespace v1 = wsgate::v1;

// "ws://gw.example.test:9099/chats/1.0.0" ..., deployment by deployment, without duplicates.
std::vector<std::string> InvokeUrls(const v1::ApiSpec& spec, const v1::ListDeploymentsResponse& deployments,
                                    const v1::ListEnvironmentsResponse& environments);

}  // namespace wsgate::tools::ctl
