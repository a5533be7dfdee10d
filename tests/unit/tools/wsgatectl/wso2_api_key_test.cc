// Unit tests for the WSO2 apictl import and export of an API's security schemes (issue 14 item
// 4): `securityScheme: [oauth2, api_key]` (WSO2 4.3's API keys) becomes ApiSpec.security and is
// written back by `export wso2`.
#include <gtest/gtest.h>

#include "absl/strings/str_replace.h"
#include "tools/wsgatectl/wso2.h"

namespace wsgate::tools::ctl {
namespace {

// The test project of tests/data/wso2 with its securityScheme list replaced by `schemes`.
ProjectFiles WithSchemes(const std::string& schemes) {
  auto files = ReadWso2Project(std::string(WSGATE_SOURCE_DIR) + "/tests/data/wso2/ChatsWso2-1.0.0");
  EXPECT_TRUE(files.ok()) << files.status();
  ProjectFiles out = *files;
  out.api_text = absl::StrReplaceAll(
      out.api_text, {{"  securityScheme:\n    - oauth2\n    - oauth_basic_auth_api_key_mandatory\n", schemes}});
  EXPECT_NE(out.api_text, files->api_text) << "the test project's securityScheme changed";
  return out;
}

std::vector<std::string> Security(const v1::ApiSpec& s) { return {s.security().begin(), s.security().end()}; }

TEST(Wso2ApiKeys, SecuritySchemesImportAndExport) {
  auto both = ParseWso2Project(WithSchemes(
      "  securityScheme:\n    - oauth2\n    - api_key\n    - oauth_basic_auth_api_key_mandatory\n"));
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(Security(both->api.spec()), (std::vector<std::string>{"oauth2", "api_key"}));
  for (const auto& w : both->warnings) EXPECT_EQ(w.find("securityScheme"), std::string::npos) << w;

  auto keys_only = ParseWso2Project(WithSchemes("  securityScheme:\n    - api_key\n"));
  ASSERT_TRUE(keys_only.ok()) << keys_only.status();
  EXPECT_EQ(Security(keys_only->api.spec()), std::vector<std::string>{"api_key"});

  // export wso2 writes them back; importing that gives the same schemes.
  std::vector<std::string> warnings;
  ProjectFiles emitted = EmitWso2Project(both->api, &warnings);
  auto again = ParseWso2Project(emitted);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Security(again->api.spec()), (std::vector<std::string>{"oauth2", "api_key"}));

  auto basic = ParseWso2Project(WithSchemes("  securityScheme:\n    - basic_auth\n"));
  ASSERT_TRUE(basic.ok()) << basic.status();
  EXPECT_TRUE(basic->api.spec().security().empty());
  bool warned = false;
  for (const auto& w : basic->warnings) warned |= w.find("'basic_auth' is not supported (oauth2 and api_key only") != std::string::npos;
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace wsgate::tools::ctl
