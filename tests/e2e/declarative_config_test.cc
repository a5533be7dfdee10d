// End-to-end tests of declarative configuration and WSO2 import with real processes
// (wsgate-agent, wsgate-engine, chat-backend, wsgatectl, wscat):
//   - export -> apply into a fresh agent -> export again gives identical files (a second
//     environment with its own vhost and a setting included); diff is empty;
//   - broken YAML (a syntax error, a semantic error) is refused with file:line, nothing changes;
//   - the two apictl test projects imported, deployed, and a wscat session through each;
//   - a fresh agent configured ONLY by `wsgatectl apply -f docs/examples/walkthrough`, then the
//     walkthrough's token and wscat session through it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/support/subprocess.h"

namespace {

namespace fs = std::filesystem;
using wsgate::testing::Subprocess;

constexpr int kTimeoutMs = 15000;
// The Host header the clients send: the default environment's default vhost serves any Host.
constexpr const char* kHost = "gw.example.test";

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DeclarativeConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(WSGATE_WSCAT, X_OK), 0) << "run tools/setup.sh";
    char tmpl[] = "/tmp/wsgate-decl-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    backend_ = std::make_unique<Subprocess>(std::vector<std::string>{WSGATE_CHAT_BACKEND, "--port", "0"});
    backend_port_ = PortAfter(*backend_, "Notifications on: ws://localhost:");
    ASSERT_NE(backend_port_, "0") << backend_->output();
  }
  void TearDown() override {
    for (auto& a : agents_) a.process.reset();
    engine_.reset();
    backend_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  static std::string PortAfter(Subprocess& p, const std::string& marker) {
    size_t at = 0;
    if (!p.WaitForOutput(marker, kTimeoutMs, &at)) return "0";
    return std::to_string(std::atoi(p.output().c_str() + at));
  }
  void StartEngine() {
    engine_ = std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_ENGINE, "--control", "unix:" + dir_ + "/engine.sock", "--ws-listen", "127.0.0.1:0", "--shards", "2",
        "--admin-listen", "127.0.0.1:0"});
    engine_port_ = PortAfter(*engine_, "(port ");
    ASSERT_NE(engine_port_, "0") << engine_->output();
  }
  // Starts agent number `agents_.size()` with its own data dir; with `engine`, it manages it.
  int StartAgent(bool engine) {
    Agent a;
    a.data = dir_ + "/agent" + std::to_string(agents_.size());
    std::vector<std::string> argv = {WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", a.data, "--admin-listen", "127.0.0.1:0",
                                     "--token-listen", "127.0.0.1:0"};
    if (!engine) argv.insert(argv.end(), {"--engine", ""});  // not the host's default engine
    if (engine) argv.insert(argv.end(), {"--engine", "unix:" + dir_ + "/engine.sock"});
    a.process = std::make_unique<Subprocess>(argv);
    a.admin_port = PortAfter(*a.process, "(port ");
    EXPECT_NE(a.admin_port, "0") << a.process->output();
    agents_.push_back(std::move(a));
    return static_cast<int>(agents_.size()) - 1;
  }
  // wsgatectl against agent `n`; exit code, output (stdout+stderr) in *out.
  int Ctl(int n, std::vector<std::string> args, std::string* out = nullptr, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", "127.0.0.1:" + agents_[n].admin_port, "--data-dir", agents_[n].data});
    Subprocess p(args, env);
    int code = p.Wait(kTimeoutMs);
    std::string text = p.output();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (out) *out = text;
    return code;
  }
  std::string CtlOk(int n, std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    std::string out;
    EXPECT_EQ(Ctl(n, args, &out, env), 0) << "wsgatectl " << args[0] << " " << (args.size() > 1 ? args[1] : "") << ": " << out;
    return out;
  }
  std::unique_ptr<Subprocess> Wscat(const std::string& path, const std::string& token) {
    return std::make_unique<Subprocess>(std::vector<std::string>{
        WSGATE_WSCAT, "--no-color", "-c", "ws://127.0.0.1:" + engine_port_ + path, "-H",
        std::string("Host: ") + kHost + ":" + engine_port_, "-H", "Authorization: Bearer " + token});
  }
  std::string Token(int n, const std::string& app) {
    CtlOk(n, {"keys", "generate", app, "--type", "PRODUCTION"});
    return CtlOk(n, {"token", app, "--type", "PRODUCTION"});
  }
  // Every file of a directory, name -> contents.
  static std::map<std::string, std::string> Files(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = Read(e.path());
    return out;
  }
  // A copy of tests/data/wso2/NAME whose endpoints point at this test's chat backend.
  std::string ProjectCopy(const std::string& name) {
    fs::path from = fs::path(WSGATE_SOURCE_DIR) / "tests/data/wso2" / name;
    fs::path to = fs::path(dir_) / name;
    for (const auto& e : fs::recursive_directory_iterator(from)) {
      fs::path target = to / fs::relative(e.path(), from);
      if (e.is_directory()) {
        fs::create_directories(target);
        continue;
      }
      fs::create_directories(target.parent_path());
      std::string text = Read(e.path());
      for (size_t at; (at = text.find("ws://localhost:8080")) != std::string::npos;)
        text.replace(at, 19, "ws://localhost:" + backend_port_);
      std::ofstream(target) << text;
    }
    return to.string();
  }

  struct Agent {
    std::string data, admin_port;
    std::unique_ptr<Subprocess> process;
  };
  std::string dir_, backend_port_, engine_port_;
  std::vector<Agent> agents_;
  std::unique_ptr<Subprocess> backend_, engine_;
};

TEST_F(DeclarativeConfig, ExportApplyExportIsIdenticalAndDiffIsEmpty) {
  int a = StartAgent(false);
  std::string backend = "ws://localhost:" + backend_port_;
  CtlOk(a, {"policy", "create", "Tiny", "--events", "3", "--unit", "minute"});
  CtlOk(a, {"env", "create", "Edge", "--type", "production", "--vhost", "gw.example.test"});
  CtlOk(a, {"settings", "set", "--env", "Edge", "ping_interval=10s"});
  CtlOk(a, {"api", "create", "Chats", "--context", "/chats", "--version", "1.0.0", "--endpoint", backend});
  CtlOk(a, {"topic", "delete", "Chats:1.0.0", "/*"});
  CtlOk(a, {"api", "scope", "add", "Chats:1.0.0", "chat:rooms", "--role", "subscriber"});
  CtlOk(a, {"topic", "add", "Chats:1.0.0", "/rooms/{roomID}", "--mapping", "/rooms?room={uri.var.roomID}", "--scope", "chat:rooms"});
  CtlOk(a, {"api", "plans", "Chats:1.0.0", "AsyncGold", "Tiny"});
  CtlOk(a, {"api", "lifecycle", "Chats:1.0.0", "Publish"});
  CtlOk(a, {"revision", "create", "Chats:1.0.0"});
  CtlOk(a, {"--no-wait", "revision", "deploy", "Chats:1.0.0", "1"});
  CtlOk(a, {"--no-wait", "revision", "deploy", "Chats:1.0.0", "1", "--env", "Edge"});
  CtlOk(a, {"--no-wait", "app", "create", "ChatApp", "--scope", "chat:rooms"});
  CtlOk(a, {"--no-wait", "subscription", "create", "ChatApp", "Chats:1.0.0", "--plan", "Tiny"});
  CtlOk(a, {"keys", "generate", "ChatApp", "--type", "PRODUCTION"});  // secrets must not be exported
  CtlOk(a, {"export", "-f", dir_ + "/first"});
  std::map<std::string, std::string> first = Files(dir_ + "/first");
  ASSERT_EQ(first.size(), 6u);  // + identity_providers.yaml (issue 14 item 6)
  EXPECT_NE(first["apis.yaml"].find("url_mapping: /rooms?room={uri.var.roomID}"), std::string::npos) << first["apis.yaml"];
  EXPECT_NE(first["apis.yaml"].find("scopes:\n      - name: chat:rooms\n        roles: [subscriber]"), std::string::npos)
      << first["apis.yaml"];  // issue 14: declared scopes travel
  const std::string& envs = first["environments.yaml"];
  EXPECT_NE(envs.find("- name: Edge\n    vhosts:\n      - name: gw.example.test\n"), std::string::npos) << envs;
  EXPECT_NE(envs.find("settings: [ping_interval=10s]"), std::string::npos) << envs;
  EXPECT_NE(envs.find("- name: Production and Sandbox"), std::string::npos) << "the default one too: " << envs;
  EXPECT_NE(first["apis.yaml"].find("- environment: Edge\n        vhost: gw.example.test"), std::string::npos)
      << first["apis.yaml"];
  for (const auto& [name, text] : first) {
    EXPECT_EQ(text.find("consumer"), std::string::npos) << name << " holds no keys";
    EXPECT_EQ(text.find("secret"), std::string::npos) << name;
  }

  int b = StartAgent(false);
  std::string plan = CtlOk(b, {"diff", "-f", dir_ + "/first"});
  EXPECT_NE(plan.find("+ api Chats:1.0.0"), std::string::npos) << plan;
  EXPECT_NE(plan.find("+ policy Tiny"), std::string::npos) << plan;
  EXPECT_NE(plan.find("+ environment Edge"), std::string::npos) << plan;
  EXPECT_NE(plan.find("ping_interval: default -> 10s"), std::string::npos) << plan;
  EXPECT_EQ(CtlOk(b, {"api", "list"}).find("Chats"), std::string::npos) << "diff changes nothing";
  std::string applied = CtlOk(b, {"--no-wait", "apply", "-f", dir_ + "/first"});
  EXPECT_NE(applied.find("applied 9 change(s)"), std::string::npos) << applied;
  EXPECT_NE(CtlOk(b, {"settings", "get", "--env", "Edge"}).find("ping_interval\t10s"), std::string::npos);
  EXPECT_EQ(CtlOk(b, {"diff", "-f", dir_ + "/first"}), "no changes");
  EXPECT_EQ(CtlOk(b, {"--no-wait", "apply", "-f", dir_ + "/first"}), "no changes: the catalog already matches");
  CtlOk(b, {"export", "-f", dir_ + "/second"});
  EXPECT_EQ(Files(dir_ + "/second"), first);
  CtlOk(b, {"export", "-f", dir_ + "/one.yaml"});
  EXPECT_EQ(CtlOk(b, {"diff", "-f", dir_ + "/one.yaml"}), "no changes");

  // A field-level diff, then --prune.
  std::string apis = first["apis.yaml"];
  apis.replace(apis.find("context: /chats"), 15, "context: /chat2");
  std::ofstream(dir_ + "/second/apis.yaml") << apis;
  std::string changed = CtlOk(b, {"diff", "-f", dir_ + "/second"});
  EXPECT_NE(changed.find("~ api Chats:1.0.0\n    modified: spec.context: \"/chats\" -> \"/chat2\""), std::string::npos) << changed;
  EXPECT_NE(changed.find("+ revision Chats:1.0.0#2"), std::string::npos) << changed;
  fs::remove(dir_ + "/second/subscriptions.yaml");
  std::string pruned = CtlOk(b, {"--no-wait", "apply", "-f", dir_ + "/second", "--prune", "--dry-run"});
  EXPECT_NE(pruned.find("- subscription ChatApp/Chats:1.0.0"), std::string::npos) << pruned;
  EXPECT_NE(pruned.find("dry run"), std::string::npos) << pruned;
  EXPECT_EQ(CtlOk(b, {"diff", "-f", dir_ + "/first"}), "no changes") << "the dry run changed nothing";
  // Prune would delete Edge, which a declared API still deploys to: refused at that deployment.
  fs::remove(dir_ + "/second/environments.yaml");
  std::string out;
  EXPECT_EQ(Ctl(b, {"--no-wait", "apply", "-f", dir_ + "/second", "--prune"}, &out), 1);
  EXPECT_NE(out.find("/second/apis.yaml:"), std::string::npos) << out;
  EXPECT_NE(out.find(": apis[0].deployments[0].environment: 'Edge' is not declared under environments"), std::string::npos)
      << out;
  EXPECT_EQ(CtlOk(b, {"diff", "-f", dir_ + "/first"}), "no changes");
}

TEST_F(DeclarativeConfig, BrokenFilesAreRefusedWithFileAndLineAndNothingChanges) {
  int a = StartAgent(false);
  fs::create_directories(dir_ + "/bad");
  fs::copy(fs::path(WSGATE_SOURCE_DIR) / "docs/examples/walkthrough", dir_ + "/good");
  CtlOk(a, {"export", "-f", dir_ + "/before"});

  // A syntax error.
  std::ofstream(dir_ + "/bad/apis.yaml") << "apis:\n  - name: Chats\n    topics: [/a,\n";
  std::string out;
  EXPECT_EQ(Ctl(a, {"apply", "-f", dir_ + "/bad"}, &out), 1);
  EXPECT_NE(out.find("/bad/apis.yaml:4: YAML syntax error"), std::string::npos) << out;

  // A semantic error the agent finds: reported at the line of the field, the whole document
  // (the policy and the application before it included) refused.
  std::string apis = Read(dir_ + "/good/apis.yaml");
  apis.replace(apis.find("- name: /rooms/{roomID}"), 23, "- name: rooms/{roomID}");
  std::ofstream(dir_ + "/good/apis.yaml") << apis;
  EXPECT_EQ(Ctl(a, {"apply", "-f", dir_ + "/good"}, &out), 1);
  EXPECT_NE(out.find("/good/apis.yaml:14: apis[0].topics[1].name: 'rooms/{roomID}': "), std::string::npos) << out;
  EXPECT_NE(out.find("(nothing was changed)"), std::string::npos) << out;
  // A bad setting, and a bad vhost, in an environments file: its own file and line.
  std::ofstream(dir_ + "/bad/apis.yaml") << "apis: []\n";
  std::ofstream(dir_ + "/bad/environments.yaml")
      << "environments:\n  - name: Edge\n    vhosts:\n      - name: gw.example.test\n    settings:\n"
         "      - pong_timeout=1m\n      - ping_interval=50ms\n";
  EXPECT_EQ(Ctl(a, {"apply", "-f", dir_ + "/bad"}, &out), 1);
  EXPECT_NE(out.find("/bad/environments.yaml:7: environments[0].settings[1].ping_interval: 50ms is out of range [1s, 1h]"),
            std::string::npos)
      << out;
  std::ofstream(dir_ + "/bad/environments.yaml") << "environments:\n  - name: Edge\n    vhosts:\n      - name: gw example\n";
  EXPECT_EQ(Ctl(a, {"apply", "-f", dir_ + "/bad"}, &out), 1);
  EXPECT_NE(out.find("/bad/environments.yaml:4: environments[0].vhosts[0].name: 'gw example' is not a host name"),
            std::string::npos)
      << out;
  fs::remove(dir_ + "/bad/environments.yaml");
  // An unknown field.
  std::ofstream(dir_ + "/bad/apis.yaml") << "apis:\n  - name: Chats\n    contxt: /chats\n";
  EXPECT_EQ(Ctl(a, {"apply", "-f", dir_ + "/bad"}, &out), 1);
  EXPECT_NE(out.find("/bad/apis.yaml:3: apis[0].contxt: unknown field"), std::string::npos) << out;

  CtlOk(a, {"export", "-f", dir_ + "/after"});
  EXPECT_EQ(Files(dir_ + "/after"), Files(dir_ + "/before"));
}

TEST_F(DeclarativeConfig, ApictlProjectsImportedThenWscatThroughThem) {
  StartEngine();
  int a = StartAgent(true);
  std::string out;
  EXPECT_EQ(Ctl(a, {"import", "wso2", ProjectCopy("ChatsWso2-1.0.0")}, &out), 0) << out;
  EXPECT_NE(out.find("warning: api.yaml: data.tags: not supported by wsgate (ignored)"), std::string::npos) << out;
  EXPECT_NE(out.find("imported ChatsWso2:1.0.0"), std::string::npos) << out;
  EXPECT_EQ(Ctl(a, {"import", "wso2", ProjectCopy("Notifications-2.0.0")}, &out), 0) << out;
  EXPECT_NE(out.find("imported Notifications:2.0.0"), std::string::npos) << out;
  for (const char* api : {"ChatsWso2:1.0.0", "Notifications:2.0.0"}) {
    CtlOk(a, {"revision", "create", api});
    CtlOk(a, {"revision", "deploy", api, "1"});
  }
  CtlOk(a, {"app", "create", "WsoApp"});
  CtlOk(a, {"subscription", "create", "WsoApp", "ChatsWso2:1.0.0", "--plan", "AsyncGold"});
  CtlOk(a, {"subscription", "create", "WsoApp", "Notifications:2.0.0", "--plan", "AsyncUnlimited"});
  std::string token = Token(a, "WsoApp");

  auto events = Wscat("/notify/2.0.0/events", token);  // subscribe-only topic -> /notifications
  ASSERT_TRUE(events->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << events->output();
  auto room = Wscat("/chatswso2/1.0.0/rooms/room1", token);  // templated topic + URL mapping
  ASSERT_TRUE(room->WaitForOutput("You joined room1!", kTimeoutMs)) << room->output();
  EXPECT_TRUE(events->WaitForOutput("Someone joined room1!", kTimeoutMs)) << events->output();

  // Re-importing what export wso2 wrote changes nothing and keeps the deployment.
  CtlOk(a, {"export", "wso2", "ChatsWso2:1.0.0", "-f", dir_ + "/exported"});
  EXPECT_EQ(Ctl(a, {"import", "wso2", dir_ + "/exported"}, &out), 0) << out;
  EXPECT_NE(out.find("no changes: ChatsWso2:1.0.0"), std::string::npos) << out;
}

TEST_F(DeclarativeConfig, ExampleDeploymentAloneRunsTheWalkthrough) {
  StartEngine();
  int a = StartAgent(true);
  std::string example = std::string(WSGATE_SOURCE_DIR) + "/docs/examples/walkthrough";
  std::string applied = CtlOk(a, {"apply", "-f", example}, {"CHAT_BACKEND_URL=ws://localhost:" + backend_port_});
  EXPECT_NE(applied.find("+ deployment Chats:1.0.0@Production and Sandbox"), std::string::npos) << applied;
  std::string token = Token(a, "ChatApp");
  auto notifications = Wscat("/chats/1.0.0/notifications", token);
  ASSERT_TRUE(notifications->WaitForOutput("Subscribed to notifications!", kTimeoutMs)) << notifications->output();
  auto room = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(room->WaitForOutput("You joined room1!", kTimeoutMs)) << room->output();
  EXPECT_TRUE(notifications->WaitForOutput("Someone joined room1!", kTimeoutMs));
  auto peer = Wscat("/chats/1.0.0/rooms/room1", token);
  ASSERT_TRUE(peer->WaitForOutput("You joined room1!", kTimeoutMs)) << peer->output();
  ASSERT_TRUE(room->WriteStdin("hello from the example\n"));  // the backend relays it to the other members
  EXPECT_TRUE(peer->WaitForOutput("hello from the example", kTimeoutMs)) << peer->output();
  EXPECT_EQ(CtlOk(a, {"diff", "-f", example}, {"CHAT_BACKEND_URL=ws://localhost:" + backend_port_}), "no changes");
}

}  // namespace
