// File: tools/wsgatectl/env_text.h — pure conversions for `wsgatectl env|settings|cert ...`
// (issue 12): the --vhost flag in, environments, settings and certificates out. No gRPC, no I/O.
//
//   auto v = ParseVhostSpec("gw.example.test,default,ws=9099,alias=gw2.example.test");
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "wsgate/v1/admin.pb.h"

namespace wsgate::tools::ctl {

namespace v1 = wsgate::v1;

// --vhost NAME[,default][,ws=PORT][,wss=PORT][,alias=HOST]... (ports 0 = the agent's defaults).
absl::StatusOr<v1::Vhost> ParseVhostSpec(const std::string& text);
// The --vhost text of a vhost (what ParseVhostSpec reads back).
std::string VhostSpecText(const v1::Vhost& vhost);
// `env get`: the environment, one item a line, no final newline.
std::string EnvironmentText(const v1::Environment& env);
// `settings get`: one key a line: key, value, "(default)" or "(default D)", range.
std::string SettingsText(const v1::EnvironmentSettings& settings);
// `cert list` / `cert set`: one certificate a line.
std::string CertificateText(const v1::CertificateInfo& cert);

}  // namespace wsgate::tools::ctl
