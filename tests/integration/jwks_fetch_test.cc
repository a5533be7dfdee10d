// Integration tests of the agent's JWKS GET (agent/jwks_fetcher.h, issue 14 item 6) against a
// loopback HTTP server (cpp-httplib): a good answer with its Cache-Control, a non-200, a body over
// the size limit, a redirect (never followed), a server slower than the transfer timeout, and a
// URL the rules refuse before any connect.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

#include "agent/jwks_fetcher.h"

namespace wsgate::agent {
namespace {

class JwksGetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "max-age=120");
      res.set_content(R"({"keys":[]})", "application/json");
    });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(4096, 'x'), "application/json");
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/ok"); });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    options_.max_body_bytes = 1024;
    options_.total_timeout_ms = 500;
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  JwksResponse Get(const std::string& path) {
    return JwksFetcher::Get("http://127.0.0.1:" + std::to_string(port_) + path, options_, nullptr);
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  JwksFetchOptions options_;
};

TEST_F(JwksGetTest, GoodAnswerKeepsItsCacheControl) {
  JwksResponse r = Get("/ok");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, R"({"keys":[]})");
  EXPECT_EQ(r.cache_control, "max-age=120");
}

TEST_F(JwksGetTest, FailuresSayWhy) {
  EXPECT_EQ(Get("/missing").error, "HTTP 404 (want 200)");
  EXPECT_EQ(Get("/big").error, "the JWKS is larger than 1024 bytes");
  EXPECT_EQ(Get("/moved").error, "HTTP 302 (want 200)") << "redirects are not followed";
  JwksResponse slow = Get("/slow");
  EXPECT_NE(slow.error.find("imed out"), std::string::npos) << slow.error;
  EXPECT_EQ(slow.body, "");
  EXPECT_EQ(JwksFetcher::Get("http://example.com/jwks", options_, nullptr).error,
            "jwks_url: http:// is allowed only to a loopback host (localhost, 127.0.0.0/8, [::1]); use https://");
}

}  // namespace
}  // namespace wsgate::agent
