// End-to-end tests of --log-format (issue 17, item 4): the engine, the agent and wsgatectl write
// one JSON object a line with --log-format json, and the agent writes one WARN when an engine
// becomes unreachable and one INFO when it is back, however many times it retried meanwhile.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::RunToEnd;
using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 15000;

// Every line of `output` parsed as JSON (a line that does not parse fails the test).
std::vector<nlohmann::json> JsonLines(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "not a JSON line: " << line;
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<nlohmann::json> WithMsgPrefix(const std::vector<nlohmann::json>& lines, const std::string& prefix) {
  std::vector<nlohmann::json> out;
  for (const auto& j : lines)
    if (j.value("msg", "").rfind(prefix, 0) == 0) out.push_back(j);
  return out;
}

class LogFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-logfmt-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    sock_ = dir_ + "/engine.sock";
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0); }

  std::unique_ptr<Subprocess> Engine(const std::string& format) {
    return std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_ENGINE, "--control", "unix:" + sock_, "--ws-listen", "127.0.0.1:0", "--shards", "1",
        "--admin-listen", "127.0.0.1:0", "--drain-timeout-ms", "500", "--log-format", format});
  }

  std::string dir_, sock_;
};

TEST_F(LogFormat, TheEngineWritesJsonLinesWithItsFields) {
  auto engine = Engine("json");
  ASSERT_TRUE(engine->WaitForOutput("(port ", kTimeoutMs)) << engine->output();
  // A failed start is an ERROR line too: a second engine on the same control socket.
  auto second = Engine("json");
  EXPECT_EQ(second->Wait(kTimeoutMs), 1) << second->output();
  auto refused = JsonLines(second->output());
  ASSERT_FALSE(refused.empty()) << second->output();
  EXPECT_EQ(refused.back()["level"], "ERROR");
  EXPECT_NE(refused.back().value("msg", "").find("another wsgate-engine is serving there"), std::string::npos)
      << second->output();
  engine->Signal(SIGTERM);
  EXPECT_EQ(engine->Wait(kTimeoutMs), 0) << engine->output();
  auto lines = JsonLines(engine->output());
  ASSERT_GE(lines.size(), 2u) << engine->output();
  for (const auto& j : lines) {
    EXPECT_EQ(j.value("component", ""), "wsgate-engine") << j.dump();
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << j.dump();
  }
  // Text stays the default, and a wrong value is refused naming the flag.
  std::string out;
  EXPECT_EQ(RunToEnd({WSGATE_ENGINE, "--log-format", "yaml"}, kTimeoutMs, &out), 2);
  EXPECT_NE(out.find("--log-format: 'yaml' is not text or json"), std::string::npos) << out;
}

// The agent's engine-health lines: killed and restarted engine, 20 retries in between.
TEST_F(LogFormat, TheAgentWarnsOnceWhenAnEngineGoesAndSaysOnceWhenItIsBack) {
  auto engine = Engine("text");
  ASSERT_TRUE(engine->WaitForOutput("(port ", kTimeoutMs)) << engine->output();
  Subprocess agent({WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", dir_ + "/data", "--engine", "unix:" + sock_, "--admin-listen",
                    "127.0.0.1:0", "--token-listen", "127.0.0.1:0", "--log-format", "json"});
  ASSERT_TRUE(agent.WaitForOutput("applied config version", kTimeoutMs)) << agent.output();

  engine->Signal(SIGKILL);
  ASSERT_EQ(engine->Wait(kTimeoutMs), 128 + SIGKILL);
  size_t at = 0;
  ASSERT_TRUE(agent.WaitForOutput("engine unreachable", kTimeoutMs, &at)) << agent.output();
  // The agent retries every 0.2-2 s; give it several tries while the engine stays down.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  ::unlink(sock_.c_str());  // SIGKILL left the socket file behind; the new engine replaces it anyway
  engine = Engine("text");
  ASSERT_TRUE(engine->WaitForOutput("(port ", kTimeoutMs)) << engine->output();
  ASSERT_TRUE(agent.WaitForOutput("engine recovered", kTimeoutMs, &at)) << agent.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // a poll after recovery: no new line
  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(kTimeoutMs), 0) << agent.output();

  auto lines = JsonLines(agent.output());
  auto down = WithMsgPrefix(lines, "engine unreachable");
  ASSERT_EQ(down.size(), 1u) << agent.output();
  EXPECT_EQ(down[0]["level"], "WARN");
  EXPECT_EQ(down[0]["component"], "wsgate-agent");
  EXPECT_EQ(down[0]["engine"], "unix:" + sock_);
  EXPECT_EQ(down[0]["environment"], "Production and Sandbox");  // the catalog's default
  EXPECT_FALSE(down[0].value("error", "").empty()) << down[0].dump();
  auto up = WithMsgPrefix(lines, "engine recovered");
  ASSERT_EQ(up.size(), 1u) << agent.output();
  EXPECT_EQ(up[0]["level"], "INFO");
  EXPECT_EQ(up[0]["was"], "unreachable");
  EXPECT_TRUE(up[0]["applied_version"].is_number()) << up[0].dump();
  EXPECT_GE(up[0]["after_ms"].get<int64_t>(), 5000) << up[0].dump();
  EXPECT_TRUE(WithMsgPrefix(lines, "engine lags").empty()) << agent.output();
}

TEST_F(LogFormat, WsgatectlWritesItsFailureAsAJsonLine) {
  setenv("WSGATE_ADMIN_TOKEN", "not-checked-nothing-listens", 1);  // past the credential, to the connect
  std::string out;
  int code = RunToEnd({WSGATE_CTL, "api", "list", "--agent", "127.0.0.1:1", "--log-format", "json"}, kTimeoutMs, &out);
  EXPECT_EQ(code, 1) << out;
  auto lines = JsonLines(out);
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_EQ(lines[0]["level"], "ERROR");
  EXPECT_EQ(lines[0]["component"], "wsgatectl");
  EXPECT_NE(lines[0].value("msg", "").find("--agent"), std::string::npos) << out;
  // Text (the default) is the plain "wsgatectl: ..." line.
  EXPECT_EQ(RunToEnd({WSGATE_CTL, "api", "list", "--agent", "127.0.0.1:1"}, kTimeoutMs, &out), 1);
  EXPECT_EQ(out.rfind("wsgatectl: ", 0), 0u) << out;
  EXPECT_EQ(RunToEnd({WSGATE_CTL, "api", "list", "--log-format", "xml"}, kTimeoutMs, &out), 2);
  EXPECT_NE(out.find("--log-format: 'xml' is not text or json"), std::string::npos) << out;
}

}  // namespace
