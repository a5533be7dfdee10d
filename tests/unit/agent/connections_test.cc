// Unit tests for the agent's connection fan-out (agent/connections.h): its page tokens, and the
// errors for ids and filters that name nothing, against a catalog and engines that are not there.
#include "agent/connections.h"
#include "tests/support/postgres_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace wsgate::agent {
namespace {

TEST(FanoutTokenTest, RoundTripsAndRefusesTokensItDidNotGive) {
  auto start = ParseFanoutToken("", 3);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->engine, 0u);
  EXPECT_EQ(start->engine_token, "");
  auto c = ParseFanoutToken(FormatFanoutToken({2, "1.70"}), 3);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->engine, 2u);
  EXPECT_EQ(c->engine_token, "1.70");
  EXPECT_EQ(ParseFanoutToken(FormatFanoutToken({1, ""}), 2)->engine, 1u);
  for (const char* bad : {"x", "1", "a:1.2", "-1:", "3:1.2"}) {
    auto r = ParseFanoutToken(bad, 3);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

class FanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    char tmpl[] = "/tmp/wsgate-fanout-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto catalog = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), CatalogOptions());
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = *std::move(catalog);
  }
  void TearDown() override {
    catalog_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(FanoutTest, FiltersNamingNothingAreErrorsAndDownEnginesAreReported) {
  ConnectionFanout fanout(*catalog_, {{"unix:" + dir_ + "/no-engine.sock", "Production and Sandbox"}});
  v1::AdminListConnectionsRequest req;
  req.mutable_filter()->set_api("Nope:1.0.0");
  EXPECT_EQ(fanout.List(req).status().code(), absl::StatusCode::kNotFound);
  req.mutable_filter()->Clear();
  req.mutable_filter()->set_application("NoApp");
  EXPECT_EQ(fanout.List(req).status().code(), absl::StatusCode::kNotFound);
  req.mutable_filter()->Clear();
  req.mutable_filter()->set_environment("Mars");
  EXPECT_EQ(fanout.List(req).status().code(), absl::StatusCode::kNotFound);
  req.mutable_filter()->Clear();
  req.set_page_size(1001);
  EXPECT_EQ(fanout.List(req).status().code(), absl::StatusCode::kInvalidArgument);
  req.set_page_size(0);
  auto page = fanout.List(req);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->connections_size(), 0);
  ASSERT_EQ(page->unreachable_engines_size(), 1) << "a down engine is named, not silently skipped";
  EXPECT_NE(page->unreachable_engines(0).find("no-engine.sock"), std::string::npos);
  EXPECT_EQ(page->next_page_token(), "");
  // An engine filter that selects none of the engines: nothing asked, nothing listed.
  req.mutable_filter()->set_engine("unix:/elsewhere.sock");
  page = fanout.List(req);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->unreachable_engines_size(), 0);

  EXPECT_EQ(fanout.Get("bad").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fanout.Get("00ff-0-1-1").status().code(), absl::StatusCode::kNotFound);
  v1::AdminCloseRequest close;
  close.set_id("00ff-0-1-1");
  EXPECT_EQ(fanout.Close(close).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace wsgate::agent
