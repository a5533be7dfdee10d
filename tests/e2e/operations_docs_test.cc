// docs/operations.md and docs/examples/grafana-wsgate.json as an operator uses them: the alert
// rules in the doc load into Prometheus (`promtool check rules`), every query of the dashboard is
// valid PromQL (each becomes a recording rule for promtool), and every metric either uses is one
// the doc's metric tables describe.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class OperationsDocs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool missing (Debian package prometheus; tools/setup.sh)";
    char tmpl[] = "/tmp/wsgate-opsdocs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    doc_ = Read(WSGATE_SOURCE_DIR "/docs/operations.md");
    ASSERT_FALSE(doc_.empty());
  }
  void TearDown() override {
    if (!dir_.empty()) {
      ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
    }
  }
  // promtool check rules on `yaml`: its output, and whether it passed.
  bool CheckRules(const std::string& yaml, std::string* out) {
    std::string file = dir_ + "/rules.yml";
    std::ofstream(file) << yaml;
    Subprocess p({"/usr/bin/promtool", "check", "rules", file});
    int code = p.Wait(20000);
    *out = p.output();
    return code == 0;
  }
  // Every wsgate_* metric named in `expr` must be described in the doc: by its own name, or (for
  // the generic shard counters) by the counter's name in WSGATE_SHARD_COUNTERS' row.
  void ExpectDocumented(const std::string& expr) {
    static const std::regex kMetric("wsgate_[a-z_]+");
    for (std::sregex_iterator it(expr.begin(), expr.end(), kMetric), end; it != end; ++it) {
      std::string name = it->str();
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string s = suffix;
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
          name.resize(name.size() - s.size());
      }
      std::string base = name;
      if (base.rfind("wsgate_engine_", 0) == 0) base = base.substr(14);
      if (base.size() > 6 && base.compare(base.size() - 6, 6, "_total") == 0) base.resize(base.size() - 6);
      EXPECT_TRUE(doc_.find("`" + name) != std::string::npos || doc_.find("`" + base + "`") != std::string::npos)
          << name << " (in " << expr << ") is not described in docs/operations.md";
    }
  }
  std::string dir_, doc_;
};

TEST_F(OperationsDocs, AlertRulesLoadIntoPrometheusAndUseDocumentedMetrics) {
  size_t at = doc_.find("# wsgate-alerts.yml\n");
  ASSERT_NE(at, std::string::npos) << "the alert rules block is gone from docs/operations.md";
  std::string yaml = doc_.substr(at, doc_.find("```", at) - at);
  EXPECT_NE(yaml.find("wsgate_agent_engine_config_lag_versions"), std::string::npos) << "a push-lag alert";
  EXPECT_NE(yaml.find("code=\"1011\""), std::string::npos) << "a 1011 close-rate alert";
  std::string out;
  EXPECT_TRUE(CheckRules(yaml, &out)) << out << "\n" << yaml;
  std::istringstream lines(yaml);
  std::string line;
  int alerts = 0;
  while (std::getline(lines, line)) {
    if (line.find("expr:") == std::string::npos) continue;
    ++alerts;
    ExpectDocumented(line);
  }
  EXPECT_GE(alerts, 8);
}

TEST_F(OperationsDocs, EveryGrafanaQueryIsValidPromqlOverDocumentedMetrics) {
  auto dashboard = nlohmann::json::parse(Read(WSGATE_SOURCE_DIR "/docs/examples/grafana-wsgate.json"));
  std::string rules = "groups:\n  - name: grafana\n    rules:\n";
  std::set<std::string> titles;
  int queries = 0;
  for (const auto& panel : dashboard.at("panels")) {
    EXPECT_TRUE(titles.insert(panel.at("title").get<std::string>()).second) << "two panels named the same";
    for (const auto& target : panel.at("targets")) {
      std::string expr = target.at("expr").get<std::string>();
      ExpectDocumented(expr);
      // Grafana's variables, as Grafana would substitute them.
      expr = std::regex_replace(expr, std::regex("\\$__rate_interval"), "1m");
      expr = std::regex_replace(expr, std::regex("\\$(instance|api)"), ".*");
      nlohmann::json quoted = expr;
      rules += "      - record: wsgate:grafana_query_" + std::to_string(++queries) + "\n        expr: " + quoted.dump() + "\n";
    }
  }
  EXPECT_GE(queries, 20);
  EXPECT_TRUE(titles.count("Agent: config lag per engine (push lag)")) << "the agent's push lag is on the dashboard";
  std::string out;
  EXPECT_TRUE(CheckRules(rules, &out)) << out << "\n" << rules;
}

}  // namespace
