// Unit tests for wsgatectl's documents and tables (issue 17 item 1): -o json|yaml print every
// field (zeros, false, empty lists) under stable names; tables have a header row; status finds
// down and lagging engines; invoke URLs; the named contexts' file.
#include "tools/wsgatectl/output.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tools/wsgatectl/cli_config.h"
#include "tools/wsgatectl/invoke_urls.h"
#include "tools/wsgatectl/status_text.h"
#include "tools/wsgatectl/table.h"

namespace wsgate::tools::ctl {
namespace {

TEST(FormatReply, JsonPrintsZerosFalseAndEmptyLists) {
  v1::AgentStatus s;
  s.set_agent_id("A");
  v1::EngineInfo* e = s.add_engines();
  e->set_target("unix:/e");
  std::string json = FormatReply(s, "json");
  for (const char* field : {"\"config_version\": \"0\"", "\"reachable\": false", "\"listeners\": []",
                            "\"version\": \"\"", "\"engines\": ["})
    EXPECT_NE(json.find(field), std::string::npos) << field << "\n" << json;
  EXPECT_EQ(json.back(), '\n');
}

TEST(FormatReply, YamlHasTheSameFieldsAndQuotesWhatWouldChangeType) {
  v1::AgentStatus s;
  s.set_agent_id("A");
  s.set_version("1.0");
  std::string yaml = FormatReply(s, "yaml");
  EXPECT_NE(yaml.find("agent_id: A\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("config_version: \"0\"\n"), std::string::npos) << yaml;  // uint64 is a JSON string
  EXPECT_NE(yaml.find("engines: []\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("version: \"1.0\"\n"), std::string::npos) << yaml;
  EXPECT_EQ(JsonToYaml(R"({"a": {"b": [1, true, "yes", ""]}, "c": {}})"),
            "a:\n  b:\n    - 1\n    - true\n    - \"yes\"\n    - \"\"\nc: {}\n");
  EXPECT_TRUE(IsOutputFormat("yaml"));
  EXPECT_FALSE(IsOutputFormat("xml"));
}

TEST(Table, HeaderRowAndAlignedColumns) {
  EXPECT_EQ(Table({"NAME", "AGENT"}, {{"prod", "gw.example.com:9400"}, {"a-long-name", "x"}}),
            "NAME         AGENT\n"
            "prod         gw.example.com:9400\n"
            "a-long-name  x\n");
  EXPECT_EQ(Table({"A"}, {}), "A\n");
  EXPECT_EQ(DurationText(45'000), "45s");
  EXPECT_EQ(DurationText(3 * 3600'000 + 4 * 60'000), "3h4m");
  EXPECT_EQ(DurationText(2 * 86400'000LL + 3 * 3600'000), "2d3h");
}

v1::AgentStatus TwoEngines() {
  v1::AgentStatus s;
  s.set_agent_id("A");
  s.set_version("0.1.0");
  s.set_config_version(7);
  v1::EngineInfo* up = s.add_engines();
  up->set_target("unix:/e1");
  up->set_environment("Production and Sandbox");
  up->set_reachable(true);
  up->set_applied_version(7);
  up->set_version("0.1.0");
  up->set_started_unix_ms(1'000'000);
  up->add_listeners("ws port 9099");
  up->add_listeners("wss port 8099");
  up->add_listeners("control unix:/e1");
  v1::EngineInfo* down = s.add_engines();
  down->set_target("unix:/e2");
  down->set_environment("Edge");
  down->set_last_error("connection refused");
  return s;
}

TEST(StatusText, TableOfEnginesWithVersionUptimeAndListeners) {
  v1::AgentStatus s = TwoEngines();
  std::string text = StatusText(s, 1'000'000 + 125'000);
  EXPECT_EQ(text.rfind("agent A  version 0.1.0  config version 7\nENVIRONMENT ", 0), 0u) << text;
  EXPECT_NE(text.find("Edge                    unix:/e2  DOWN   -        -       0"), std::string::npos) << text;
  EXPECT_NE(text.find("Production and Sandbox  unix:/e1  up     0.1.0    2m      7"), std::string::npos) << text;
  EXPECT_NE(text.find("ws 9099, wss 8099\n"), std::string::npos) << text;
  EXPECT_NE(text.find("unix:/e2: connection refused\n"), std::string::npos) << text;
  EXPECT_EQ(StatusProblem(s), "1 of 2 engines down or lagging: unix:/e2 down (connection refused)");
  s.mutable_engines(1)->set_reachable(true);
  s.mutable_engines(1)->set_applied_version(6);
  s.mutable_engines(1)->clear_last_error();
  EXPECT_EQ(StatusProblem(s), "1 of 2 engines down or lagging: unix:/e2 lagging (applied 6 of 7)");
  s.mutable_engines(1)->set_applied_version(7);
  EXPECT_EQ(StatusProblem(s), "");
  EXPECT_EQ(ListeningText(s, "Production and Sandbox"), "ws 9099, wss 8099");
  EXPECT_EQ(ListeningText(s, "Edge"), "-");
}

TEST(InvokeUrls, WsAndWssPerVhostAliasAndDefaultVersion) {
  v1::ApiSpec spec;
  spec.set_context("/chats");
  spec.set_version("1.0.0");
  spec.set_is_default_version(true);
  v1::ListDeploymentsResponse deployments;
  v1::Deployment* d = deployments.add_deployments();
  d->set_environment("Edge");
  d->set_vhost("gw.example.test");
  v1::ListEnvironmentsResponse envs;
  v1::Environment* env = envs.add_environments();
  env->set_name("Edge");
  v1::Vhost* other = env->add_vhosts();
  other->set_name("other.test");
  v1::Vhost* v = env->add_vhosts();
  v->set_name("gw.example.test");
  v->set_ws_port(9099);
  v->set_wss_port(8443);
  v->add_aliases("gw2.example.test");
  EXPECT_EQ(InvokeUrls(spec, deployments, envs),
            (std::vector<std::string>{"ws://gw.example.test:9099/chats/1.0.0", "wss://gw.example.test:8443/chats/1.0.0",
                                      "ws://gw.example.test:9099/chats", "wss://gw.example.test:8443/chats",
                                      "ws://gw2.example.test:9099/chats/1.0.0", "wss://gw2.example.test:8443/chats/1.0.0",
                                      "ws://gw2.example.test:9099/chats", "wss://gw2.example.test:8443/chats"}));
  EXPECT_TRUE(InvokeUrls(spec, v1::ListDeploymentsResponse(), envs).empty());
}

TEST(CliConfig, XdgConfigHomeAndRoundTrip) {
  std::string dir = testing::TempDir() + "/cli_config_test";
  std::filesystem::remove_all(dir);
  ::setenv("XDG_CONFIG_HOME", dir.c_str(), 1);
  ::unsetenv("WSGATE_CONTEXT");
  EXPECT_EQ(ConfigPath(), dir + "/wsgate/config.yaml");
  absl::StatusOr<CliConfig> empty = LoadConfig(ConfigPath());
  ASSERT_TRUE(empty.ok()) << empty.status();  // no file: no contexts
  EXPECT_TRUE(empty->contexts.empty());
  EXPECT_EQ(*ActiveContext(*empty), nullptr);
  CliConfig c;
  c.current = "prod";
  c.contexts.push_back({"prod", "gw:9400", "/etc/wsgate/admin.token", ""});
  c.contexts.push_back({"dev", "127.0.0.1:9400", "", "/tmp/dev"});
  ASSERT_TRUE(SaveConfig(ConfigPath(), c).ok());
  EXPECT_EQ(std::filesystem::status(ConfigPath()).permissions() & std::filesystem::perms::group_read,
            std::filesystem::perms::none);
  absl::StatusOr<CliConfig> back = LoadConfig(ConfigPath());
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->contexts.size(), 2u);
  EXPECT_EQ(back->contexts[0].credential_file, "/etc/wsgate/admin.token");
  EXPECT_EQ(back->contexts[1].data_dir, "/tmp/dev");
  EXPECT_EQ((*ActiveContext(*back))->agent, "gw:9400");
  ::setenv("WSGATE_CONTEXT", "dev", 1);
  EXPECT_EQ((*ActiveContext(*back))->agent, "127.0.0.1:9400");
  ::setenv("WSGATE_CONTEXT", "nope", 1);
  EXPECT_EQ(ActiveContext(*back).status().message(), "WSGATE_CONTEXT: no context 'nope' (wsgatectl context list)");
  ::unsetenv("WSGATE_CONTEXT");
  std::ofstream(ConfigPath()) << "contexts:\n  - agent: x\n";
  EXPECT_NE(LoadConfig(ConfigPath()).status().message().find(":2: a context needs a name"), std::string::npos)
      << LoadConfig(ConfigPath()).status();
  ::unsetenv("XDG_CONFIG_HOME");
}

}  // namespace
}  // namespace wsgate::tools::ctl
