// Unit tests for the agent's metrics (agent/metrics.h): the listener's loopback rule and the
// exposition text for a catalog and a pusher with no engines.
#include "agent/metrics.h"
#include "tests/support/postgres_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace wsgate::agent {
namespace {

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    char tmpl[] = "/tmp/wsgate-metrics-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), CatalogOptions());
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *std::move(c);
    pusher_ = std::make_unique<Pusher>(*catalog_, std::vector<EngineTarget>{{"unix:" + dir_ + "/engine.sock", "Production and Sandbox"}});
  }
  void TearDown() override {
    pusher_.reset();
    catalog_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Pusher> pusher_;
};

TEST_F(MetricsTest, ListensOnLoopbackOnlyUnlessAllowed) {
  PairCounters rpcs;
  MetricsServer metrics(*catalog_, *pusher_, rpcs, nullptr);
  absl::Status s = metrics.Start("0.0.0.0:0", false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--metrics-allow-remote"), absl::string_view::npos) << s;
  EXPECT_EQ(metrics.Start("127.0.0.1", false).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(metrics.Start("127.0.0.1:99999", false).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(metrics.Start("127.0.0.1:0", false).ok());
  EXPECT_GT(metrics.port(), 0);
  metrics.Stop();
}

TEST_F(MetricsTest, RendersCountersCatalogAndEngines) {
  PairCounters rpcs;
  rpcs.Add("CreateApi", "OK");
  rpcs.Add("CreateApi", "OK");
  rpcs.Add("GetApi", "NOT_FOUND");
  rpcs.Add("IssueToken", "OK");
  PairCounters oauth;
  oauth.Add(OAuthEndpoint("/oauth2/token"), "200");
  oauth.Add(OAuthEndpoint("/oauth2/token"), "401");
  oauth.Add(OAuthEndpoint("/etc/passwd"), "404");
  std::string text = RenderAgentMetrics(*catalog_, *pusher_, rpcs, &oauth, 0);
  EXPECT_NE(text.find("wsgate_agent_oauth_requests_total{endpoint=\"/oauth2/token\",status=\"401\"} 1\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_oauth_requests_total{endpoint=\"other\",status=\"404\"} 1\n"), std::string::npos)
      << "unknown paths share one label value";
  // Tokens are counted where the catalog issues them (below), not from RPC or HTTP outcomes.
  EXPECT_NE(text.find("wsgate_agent_tokens_issued_total{grant=\"admin\",key_type=\"PRODUCTION\"} 0\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE wsgate_agent_admin_rpcs_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("wsgate_agent_admin_rpcs_total{method=\"CreateApi\",code=\"OK\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("wsgate_agent_admin_rpcs_total{method=\"GetApi\",code=\"NOT_FOUND\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wsgate_agent_catalog_objects{kind=\"apis\"} 0\n"), std::string::npos) << text;
  // An engine never polled: down, no ack yet (no age series).
  EXPECT_NE(text.find("wsgate_agent_engine_up{engine=\"unix:" + dir_ + "/engine.sock\"} 0\n"), std::string::npos);
  EXPECT_EQ(text.find("wsgate_agent_engine_last_ack_age_seconds{"), std::string::npos) << text;
}

// issue 13 (helper top): tokens issued by grant and key type, every pair shown from zero.
TEST_F(MetricsTest, TokensIssuedByGrantAndKeyType) {
  v1::CreateApplicationRequest app;
  app.set_name("ChatApp");
  ASSERT_TRUE(catalog_->CreateApplication(app).ok());
  ASSERT_TRUE(catalog_->GenerateKeys("ChatApp", v1::PRODUCTION, false).ok());
  auto sandbox = catalog_->GenerateKeys("ChatApp", v1::SANDBOX, false);
  ASSERT_TRUE(sandbox.ok()) << sandbox.status();
  ASSERT_TRUE(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {}, 0).ok());
  ASSERT_TRUE(catalog_->IssueToken("ChatApp", v1::KEY_TYPE_UNSPECIFIED, {}, 0).ok());  // PRODUCTION
  ASSERT_TRUE(catalog_->IssueToken("ChatApp", v1::SANDBOX, {}, 0).ok());
  ASSERT_TRUE(catalog_->IssueTokenForClient(sandbox->consumer_key(), {}).ok());
  EXPECT_FALSE(catalog_->IssueToken("NoSuchApp", v1::PRODUCTION, {}, 0).ok());     // refusals do not count
  EXPECT_FALSE(catalog_->IssueToken("ChatApp", v1::PRODUCTION, {"admin"}, 0).ok());  // scope not granted
  EXPECT_FALSE(catalog_->IssueTokenForClient("unknown-key", {}).ok());
  PairCounters rpcs;
  std::string text = RenderAgentMetrics(*catalog_, *pusher_, rpcs, nullptr, 0);
  EXPECT_NE(text.find("# TYPE wsgate_agent_tokens_issued_total counter\n"), std::string::npos) << text;
  for (const auto& [series, n] : std::vector<std::pair<std::string, int>>{
           {"grant=\"admin\",key_type=\"PRODUCTION\"", 2},
           {"grant=\"admin\",key_type=\"SANDBOX\"", 1},
           {"grant=\"client_credentials\",key_type=\"PRODUCTION\"", 0},
           {"grant=\"client_credentials\",key_type=\"SANDBOX\"", 1}})
    EXPECT_NE(text.find("wsgate_agent_tokens_issued_total{" + series + "} " + std::to_string(n) + "\n"),
              std::string::npos) << series << "\n" << text;
}

}  // namespace
}  // namespace wsgate::agent
