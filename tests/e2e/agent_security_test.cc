// End-to-end tests of the agent's safety defects (issue #11, items 8-12) with real wsgate-agent
// processes, wsgatectl and curl: the OAuth2 endpoint with split bodies, Expect: 100-continue and
// slow clients; admin-granted scopes; private files; exclusive data dir and listeners; the audit
// log lines.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::Subprocess;
using Clock = std::chrono::steady_clock;

constexpr int kTimeoutMs = 15000;

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  return send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// Everything the peer sends until it closes or `timeout_ms` passes.
std::string ReadUntilClosed(int fd, int timeout_ms) {
  std::string out;
  auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string FileMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "missing";
  char text[8];
  snprintf(text, sizeof(text), "%03o", st.st_mode & 0777);
  return text;
}

class AgentSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/wsgate-agent-security-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    agent_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  // Starts an agent; on success fills its ports.
  static std::unique_ptr<Subprocess> Agent(const std::string& data_dir, const std::string& admin_port = "0",
                                           const std::string& token_port = "0") {
    return std::make_unique<Subprocess>(std::vector<std::string>{WSGATE_AGENT, "--console-listen", "127.0.0.1:0", "--data-dir", data_dir,
                                                                 "--admin-listen", "127.0.0.1:" + admin_port,
                                                                 "--token-listen", "127.0.0.1:" + token_port,
                                                                 "--engine", ""});  // not the host's default engine
  }
  void StartAgent() {
    agent_ = Agent(dir_ + "/data");
    size_t at = 0;
    ASSERT_TRUE(agent_->WaitForOutput("(port ", kTimeoutMs, &at)) << agent_->output();
    admin_port_ = std::to_string(std::atoi(agent_->output().c_str() + at));
    ASSERT_TRUE(agent_->WaitForOutput("(port ", kTimeoutMs, &at)) << agent_->output();
    token_port_ = std::to_string(std::atoi(agent_->output().c_str() + at));
    url_ = "http://127.0.0.1:" + token_port_;
  }
  int Ctl(std::vector<std::string> args, std::string* out = nullptr, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {WSGATE_CTL, "--agent", "127.0.0.1:" + admin_port_, "--data-dir", dir_ + "/data"});
    Subprocess p(args, env);
    int code = p.Wait(kTimeoutMs);
    if (out) *out = p.output();
    return code;
  }
  std::string CtlOk(std::vector<std::string> args) {
    std::string out;
    EXPECT_EQ(Ctl(args, &out), 0) << out;
    return out;
  }
  // An application with PRODUCTION keys; sets key_ and secret_.
  void CreateApp(std::vector<std::string> create) {
    create.insert(create.begin(), {"app", "create", "App"});
    CtlOk(create);
    std::string keys = CtlOk({"keys", "generate", "App", "--type", "PRODUCTION"});
    auto field = [&](const std::string& label) {
      size_t at = keys.find(label);
      EXPECT_NE(at, std::string::npos) << keys;
      std::string v = keys.substr(at + label.size(), keys.find('\n', at) - at - label.size());
      return v.substr(v.find_first_not_of(' '));
    };
    key_ = field("Consumer key:");
    secret_ = field("Consumer secret:");
  }
  // curl's output followed by "\n<status>".
  static std::string Curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/curl", "-s", "-w", "\n%{http_code}", "--max-time", "10"});
    Subprocess p(args);
    p.Wait(kTimeoutMs);
    return p.output();
  }
  std::string TokenRequest(const std::string& body) {
    return Curl({"-u", key_ + ":" + secret_, "-d", body, url_ + "/oauth2/token"});
  }
  static std::string Status(const std::string& curl_output) { return curl_output.substr(curl_output.size() - 3); }

  std::string dir_, admin_port_, token_port_, url_, key_, secret_;
  std::unique_ptr<Subprocess> agent_;
};

// Item 8: the body in a later TCP segment than the head (the old server read the head through
// views into a buffer the body's append had freed: ASan heap-use-after-free, before
// authentication).
TEST_F(AgentSecurity, OAuthBodyInALaterSegment) {
  StartAgent();
  CreateApp({});
  std::string body = "grant_type=client_credentials&client_id=" + key_ + "&client_secret=" + secret_;
  for (int round = 0; round < 3; ++round) {
    int fd = ConnectTo(std::atoi(token_port_.c_str()));
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: " +
                                std::string(1500, 'p') + "\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
                                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ASSERT_TRUE(SendAll(fd, body));
    std::string answer = ReadUntilClosed(fd, 5000);
    close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
    EXPECT_NE(answer.find("\"access_token\":\""), std::string::npos) << answer;
  }
  EXPECT_EQ(agent_->Wait(0), -1) << "the agent died:\n" << agent_->output();
}

// Item 8: curl sends `Expect: 100-continue` for bodies over 1 KiB (the old server answered 404).
TEST_F(AgentSecurity, OAuthExpect100ContinueWithALargeBody) {
  StartAgent();
  CreateApp({});
  std::string answer = Curl({"-u", key_ + ":" + secret_, "-H", "Expect: 100-continue", "-d",
                             "grant_type=client_credentials&padding=" + std::string(3000, 'a'), url_ + "/oauth2/token"});
  EXPECT_EQ(Status(answer), "200") << answer;
  EXPECT_NE(answer.find("\"token_type\":\"Bearer\""), std::string::npos) << answer;
  // Chunked bodies are understood too, and a body over 16 KiB is refused.
  answer = Curl({"-u", key_ + ":" + secret_, "-H", "Transfer-Encoding: chunked", "-d", "grant_type=client_credentials",
                 url_ + "/oauth2/token"});
  EXPECT_EQ(Status(answer), "200") << answer;
  EXPECT_EQ(Status(TokenRequest("grant_type=client_credentials&padding=" + std::string(20000, 'a'))), "413");
}

// Item 8: many clients that send a byte now and then (fast enough for any per-read timeout)
// neither lock others out of token issuance nor keep their connection: the old server let 64 of
// them hold every slot (503 for everyone else) indefinitely.
TEST_F(AgentSecurity, SlowClientsDoNotLockOutTokenRequests) {
  StartAgent();
  CreateApp({});
  constexpr int kSlow = 80;
  std::vector<int> fds;
  for (int i = 0; i < kSlow; ++i) {
    int fd = ConnectTo(std::atoi(token_port_.c_str()));
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "POST /oauth2/token HTTP/1.1\r\n"));
    fds.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::vector<Clock::duration> closed_after(kSlow, Clock::duration::max());
  auto start = Clock::now();
  std::thread trickle([&] {
    while (!done) {
      for (int i = 0; i < kSlow; ++i) {
        if (closed_after[i] != Clock::duration::max()) continue;
        char buf[4096];
        if (!SendAll(fds[i], "X") || recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) == 0)
          closed_after[i] = Clock::now() - start;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto asked = Clock::now();
  std::string answer = TokenRequest("grant_type=client_credentials");
  auto waited = Clock::now() - asked;
  std::this_thread::sleep_for(std::chrono::milliseconds(5000));
  done = true;
  trickle.join();
  for (int fd : fds) close(fd);
  EXPECT_EQ(Status(answer), "200") << answer;
  EXPECT_LT(waited, std::chrono::milliseconds(4500));
  int still_open = 0;
  for (auto after : closed_after) still_open += after > std::chrono::milliseconds(5000);
  EXPECT_EQ(still_open, 0) << "slow connections the agent kept for more than 5 s";
}

// Item 9: a client cannot grant itself scopes; an admin grants them (wsgatectl app create/update
// --scope), and both /oauth2/token and the admin IssueToken RPC enforce them.
TEST_F(AgentSecurity, ScopesAreOnlyThoseAnAdminGranted) {
  StartAgent();
  CreateApp({"--scope", "chat:read"});
  std::string self = TokenRequest("grant_type=client_credentials&scope=admin");
  EXPECT_EQ(Status(self), "400") << self;
  EXPECT_NE(self.find("\"error\":\"invalid_scope\""), std::string::npos) << self;
  std::string granted = TokenRequest("grant_type=client_credentials&scope=chat:read");
  EXPECT_EQ(Status(granted), "200") << granted;
  EXPECT_NE(granted.find("\"scope\":\"chat:read\""), std::string::npos) << granted;
  std::string out;
  EXPECT_NE(Ctl({"token", "App", "--type", "PRODUCTION", "--scope", "admin"}, &out), 0) << out;
  EXPECT_NE(out.find("was not granted scope 'admin'"), std::string::npos) << out;

  EXPECT_NE(CtlOk({"app", "update", "App", "--scope", "chat:read", "--scope", "admin"}).find("chat:read,admin"),
            std::string::npos);
  EXPECT_EQ(Status(TokenRequest("grant_type=client_credentials&scope=admin%20chat:read")), "200");
  EXPECT_EQ(Ctl({"token", "App", "--type", "PRODUCTION", "--scope", "admin"}), 0);
  EXPECT_NE(CtlOk({"app", "get", "App"}).find("scopes chat:read,admin"), std::string::npos);
  CtlOk({"app", "update", "App"});  // no --scope: revokes them all
  EXPECT_EQ(Status(TokenRequest("grant_type=client_credentials&scope=chat:read")), "400");
}

// Item 10: the catalog (private signing keys) and everything beside it is 0600 in a 0700
// directory, even when the directory existed with 0755.
TEST_F(AgentSecurity, DataDirAndFilesArePrivate) {
  ASSERT_EQ(mkdir((dir_ + "/data").c_str(), 0755), 0);
  ASSERT_EQ(chmod((dir_ + "/data").c_str(), 0755), 0);
  StartAgent();
  CreateApp({});  // writes, so the WAL exists
  EXPECT_EQ(FileMode(dir_ + "/data"), "700");
  for (const char* name : {"catalog.db", "catalog.db-wal", "catalog.db-shm", "admin.token", "agent.lock"})
    EXPECT_EQ(FileMode(dir_ + "/data/" + name), "600") << name;
  EXPECT_NE(agent_->output().find("was accessible to other users (mode 755); tightened to 700"), std::string::npos)
      << agent_->output();
}

// Item 11: a second agent on the same data directory exits, naming the first one's PID.
TEST_F(AgentSecurity, SecondAgentOnTheSameDataDirIsRefused) {
  StartAgent();
  std::ifstream lock(dir_ + "/data/agent.lock");
  std::string pid;
  lock >> pid;
  ASSERT_FALSE(pid.empty());
  auto second = Agent(dir_ + "/data");
  EXPECT_EQ(second->Wait(kTimeoutMs), 1) << second->output();
  EXPECT_NE(second->output().find("another wsgate-agent (pid " + pid + ") holds the data directory"), std::string::npos)
      << second->output();
}

// Item 11: a second agent on the same admin or token address exits naming it (gRPC's default
// SO_REUSEPORT let it start, and wsgatectl calls alternated between two catalogs).
TEST_F(AgentSecurity, SecondAgentOnTheSameAddressesIsRefused) {
  StartAgent();
  auto admin = Agent(dir_ + "/other1", admin_port_, "0");
  EXPECT_EQ(admin->Wait(kTimeoutMs), 1) << admin->output();
  EXPECT_NE(admin->output().find("--admin-listen 127.0.0.1:" + admin_port_ + ": cannot listen"), std::string::npos)
      << admin->output();
  auto token = Agent(dir_ + "/other2", "0", token_port_);
  EXPECT_EQ(token->Wait(kTimeoutMs), 1) << token->output();
  EXPECT_NE(token->output().find("--token-listen 127.0.0.1:" + token_port_ + ": Address already in use"),
            std::string::npos)
      << token->output();
  CtlOk({"app", "create", "StillOne"});  // the first agent still answers alone
}

// Item 12: failed admin and OAuth2 client authentication are logged with the peer and without the
// secret, at most one line per second per kind, the next line counting the suppressed ones.
TEST_F(AgentSecurity, FailedAuthenticationIsLoggedRateLimited) {
  StartAgent();
  CreateApp({});
  std::string out;
  EXPECT_NE(Ctl({"app", "list"}, &out, {"WSGATE_ADMIN_TOKEN=not-the-credential"}), 0) << out;
  EXPECT_TRUE(agent_->WaitForOutput("audit: admin authentication failed: peer ipv4:127.0.0.1:", kTimeoutMs))
      << agent_->output();
  EXPECT_EQ(Status(Curl({"-u", key_ + ":wrong-secret", "-d", "grant_type=client_credentials", url_ + "/oauth2/token"})),
            "401");
  EXPECT_TRUE(agent_->WaitForOutput("audit: OAuth2 client authentication failed: peer 127.0.0.1:", kTimeoutMs))
      << agent_->output();
  EXPECT_NE(agent_->output().find("client_id '" + key_ + "'"), std::string::npos) << agent_->output();

  // A flood: 300 bad requests on keep-alive connections (one curl, many URLs).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  size_t before = agent_->CountInOutput("audit: OAuth2 client authentication failed");
  std::vector<std::string> flood = {"-u", key_ + ":wrong-secret", "-d", "grant_type=client_credentials"};
  for (int i = 0; i < 300; ++i) flood.push_back(url_ + "/oauth2/token");
  auto start = Clock::now();
  Curl(flood);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  // Past 10 failures in 60 s the client id is locked: 429 with Retry-After, even for its right secret.
  EXPECT_EQ(Status(Curl({"-u", key_ + ":wrong-secret", "-d", "grant_type=client_credentials", url_ + "/oauth2/token"})),
            "429");
  std::string locked = Curl({"-si", "-u", key_ + ":" + secret_, "-d", "grant_type=client_credentials", url_ + "/oauth2/token"});
  EXPECT_NE(locked.find("HTTP/1.1 429"), std::string::npos) << locked;
  EXPECT_NE(locked.find("Retry-After: "), std::string::npos) << locked;
  EXPECT_NE(locked.find("temporarily_unavailable"), std::string::npos) << locked;
  EXPECT_TRUE(agent_->WaitForOutput("more since the last line)", kTimeoutMs)) << agent_->output();
  size_t lines = agent_->CountInOutput("audit: OAuth2 client authentication failed") - before;
  EXPECT_GE(lines, 2u);
  EXPECT_LE(lines, static_cast<size_t>(seconds) + 3) << "over " << seconds << " s:\n" << agent_->output();
  EXPECT_EQ(agent_->output().find("wrong-secret"), std::string::npos);
  EXPECT_EQ(agent_->output().find("not-the-credential"), std::string::npos);
}

}  // namespace
