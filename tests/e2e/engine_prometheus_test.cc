// End to end with a real Prometheus server: the engine (a process, from --config) relays N
// messages; Prometheus, started on an ephemeral port with its own TSDB in a temp dir and a 1 s
// scrape of the engine's --admin-listen port, is asked through its HTTP query API for the
// frames counter until it reports N. Skipped only when the prometheus binary is missing.
// Also, as a process: the --admin-listen flag's refusals, and the access log's reopen on SIGUSR1.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "nlohmann/json.hpp"
#include "tests/support/free_port.h"
#include "tests/support/http_get.h"
#include "tests/support/subprocess.h"
#include "tests/support/ws_client.h"

namespace {

using wsgate::testing::HttpGet;
using wsgate::testing::Subprocess;
using wsgate::testing::WsClient;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr int kMessages = 40;

// A TCP socket bound to 127.0.0.1 on an ephemeral port, listening if `listen`.
int BoundSocket(uint16_t* port, bool listen) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || (listen && ::listen(fd, 1) != 0)) std::abort();
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// The number after `prefix` in the process's output (e.g. "(port 4321)").
uint16_t NumberAfter(Subprocess& p, const std::string& prefix, size_t from = 0) {
  const std::string& out = p.output();
  size_t at = out.find(prefix, from);
  return at == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(out.substr(at + prefix.size())));
}

// Waits for the chat backend and writes dir/chats.textproto: the Chats API with an unsecured
// /rooms/{roomID} topic in front of it, on a vhost of environment "Production".
void WriteConfig(Subprocess& backend, const std::string& dir) {
  ASSERT_TRUE(backend.WaitForOutput("Notifications on:", 10000)) << backend.output();
  uint16_t backend_port = NumberAfter(backend, "ws://localhost:");
  ASSERT_NE(backend_port, 0) << backend.output();
  std::ofstream(dir + "/chats.textproto") << "version: 1 agent_id: \"e2e\"\n"
                                             "vhosts { name: \"localhost\" aliases: \"127.0.0.1\" environment: \"Production\" }\n"
                                             "apis { id: \"chats\" name: \"Chats\" context: \"/chats\" version: \"1.0.0\"\n"
                                             "  state: PUBLISHED vhosts: \"localhost\"\n"
                                             "  production_endpoint { url: \"ws://127.0.0.1:"
                                          << backend_port
                                          << "\" }\n"
                                             "  topics { name: \"/rooms/{roomID}\" url_mapping: \"/rooms?room={uri.var.roomID}\" "
                                             "unsecured: true } }\n";
}

TEST(EnginePrometheus, PrometheusScrapesTheFramesCounter) {
  if (access(kPrometheus, X_OK) != 0) GTEST_SKIP() << kPrometheus << " is missing (Debian package prometheus; tools/setup.sh)";
  char tmpl[] = "/tmp/wsgate-prom-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;

  Subprocess backend({WSGATE_CHAT_BACKEND, "--port", "0", "--bind", "127.0.0.1"});
  ASSERT_NO_FATAL_FAILURE(WriteConfig(backend, dir));
  Subprocess engine({WSGATE_ENGINE, "--config", dir + "/chats.textproto", "--ws-listen", "127.0.0.1:0", "--wss-listen", "",
                     "--shards", "2", "--control", "unix:" + dir + "/engine.sock", "--admin-listen", "127.0.0.1:0",
                     "--drain-timeout-ms", "2000"});
  ASSERT_TRUE(engine.WaitForOutput("listening for ws", 10000)) << engine.output();
  uint16_t ws_port = NumberAfter(engine, "(port ", engine.output().find("listening for ws"));
  uint16_t admin_port = NumberAfter(engine, "(admin port ");
  ASSERT_NE(ws_port, 0) << engine.output();
  ASSERT_NE(admin_port, 0) << engine.output();

  // Prometheus takes only a fixed --web.listen-address.
  uint16_t prom_port = wsgate::testing::ReserveLoopbackPort();
  std::ofstream(dir + "/prometheus.yml") << "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
                                            "scrape_configs:\n"
                                            "  - job_name: wsgate-engine\n"
                                            "    scrape_interval: 1s\n"
                                            "    static_configs: [ { targets: [ '127.0.0.1:"
                                         << admin_port << "' ] } ]\n";
  auto prometheus = std::make_unique<Subprocess>(std::vector<std::string>{
      kPrometheus, "--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/tsdb",
      "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"});
  ASSERT_TRUE(prometheus->started());

  // N messages from one room member to another: N frames client → backend.
  WsClient a, b;
  ASSERT_TRUE(a.Connect(ws_port, "/chats/1.0.0/rooms/room1")) << a.response();
  ASSERT_TRUE(a.ReadMessage());
  ASSERT_TRUE(b.Connect(ws_port, "/chats/1.0.0/rooms/room1")) << b.response();
  ASSERT_TRUE(b.ReadMessage());
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(a.SendText("m" + std::to_string(i)));
    ASSERT_TRUE(b.ReadMessage()) << i;
  }

  // Ask Prometheus until a scrape after the messages has landed (bounded).
  std::string query =
      "/api/v1/query?query=wsgate_engine_frames_total%7Bapi%3D%22Chats%22%2Cdirection%3D%22to_backend%22%2C"
      "environment%3D%22Production%22%7D";
  std::string last;
  double value = -1;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
       std::chrono::steady_clock::now() < until && value != kMessages;
       std::this_thread::sleep_for(std::chrono::milliseconds(500))) {
    wsgate::testing::HttpReply r = HttpGet(prom_port, query, 2000);
    if (r.status != 200) continue;
    last = r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j["status"] != "success" || j["data"]["result"].empty()) continue;
    value = std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
    EXPECT_EQ(j["data"]["result"][0]["metric"]["job"], "wsgate-engine");
  }
  EXPECT_EQ(value, kMessages) << "last answer: " << last << "\nprometheus: " << prometheus->output();

  // The scrape itself was healthy: Prometheus' own `up` for the target.
  wsgate::testing::HttpReply up = HttpGet(prom_port, "/api/v1/query?query=up%7Bjob%3D%22wsgate-engine%22%7D");
  EXPECT_NE(up.body.find("\"1\""), std::string::npos) << up.body;

  prometheus->Signal(SIGTERM);  // by PID
  EXPECT_EQ(prometheus->Wait(20000), 0) << prometheus->output();
  engine.Signal(SIGTERM);
  EXPECT_EQ(engine.Wait(10000), 0) << engine.output();
  std::system(("rm -rf " + dir).c_str());
}

TEST(EngineAdminFlags, NonLoopbackRefusedAndATakenPortNamesTheFlag) {
  char tmpl[] = "/tmp/wsgate-admin-flags-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  Subprocess open_to_all({WSGATE_ENGINE, "--admin-listen", "0.0.0.0:0", "--control", "unix:" + dir + "/a.sock"});
  EXPECT_EQ(open_to_all.Wait(10000), 2) << open_to_all.output();
  EXPECT_NE(open_to_all.output().find("--admin-listen 0.0.0.0:0: not a loopback address"), std::string::npos)
      << open_to_all.output();
  EXPECT_NE(open_to_all.output().find("--admin-listen-any"), std::string::npos);

  uint16_t taken_port;
  int taken = BoundSocket(&taken_port, true);
  std::string addr = "127.0.0.1:" + std::to_string(taken_port);
  Subprocess clash({WSGATE_ENGINE, "--admin-listen", addr, "--ws-listen", "127.0.0.1:0", "--wss-listen", "",
                    "--control", "unix:" + dir + "/b.sock"});
  EXPECT_EQ(clash.Wait(10000), 1) << clash.output();
  EXPECT_NE(clash.output().find("--admin-listen " + addr + ": bind: Address already in use"), std::string::npos)
      << clash.output();
  ::close(taken);

  Subprocess off({WSGATE_ENGINE, "--admin-listen", "", "--ws-listen", "127.0.0.1:0", "--wss-listen", "", "--control",
                  "unix:" + dir + "/c.sock"});
  ASSERT_TRUE(off.WaitForOutput("listening for ws", 10000)) << off.output();
  EXPECT_EQ(off.output().find("admin HTTP on"), std::string::npos);
  off.Signal(SIGTERM);
  EXPECT_EQ(off.Wait(10000), 0) << off.output();
  std::system(("rm -rf " + dir).c_str());
}

TEST(EngineAccessLog, WritesALinePerConnectionAndReopensOnSigusr1AndSighup) {
  char tmpl[] = "/tmp/wsgate-access-e2e-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  Subprocess backend({WSGATE_CHAT_BACKEND, "--port", "0", "--bind", "127.0.0.1"});
  ASSERT_NO_FATAL_FAILURE(WriteConfig(backend, dir));
  std::string log = dir + "/access.log";
  Subprocess engine({WSGATE_ENGINE, "--config", dir + "/chats.textproto", "--ws-listen", "127.0.0.1:0", "--wss-listen", "",
                     "--shards", "1", "--control", "unix:" + dir + "/engine.sock", "--admin-listen", "127.0.0.1:0",
                     "--access-log", log, "--access-log-open", "--drain-timeout-ms", "2000"});
  ASSERT_TRUE(engine.WaitForOutput("listening for ws", 10000)) << engine.output();
  uint16_t ws_port = NumberAfter(engine, "(port ", engine.output().find("listening for ws"));
  auto session = [&] {
    WsClient c;
    ASSERT_TRUE(c.Connect(ws_port, "/chats/1.0.0/rooms/room1")) << c.response();
    ASSERT_TRUE(c.ReadMessage());
    ASSERT_TRUE(c.SendClose(1000));
    ASSERT_TRUE(c.WaitForEof());
  };
  auto lines = [](const std::string& path, size_t n) {
    std::vector<nlohmann::json> out;
    for (int i = 0; i < 500 && out.size() < n; ++i) {
      out.clear();
      std::ifstream in(path);
      for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
      if (out.size() < n) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  };
  ASSERT_NO_FATAL_FAILURE(session());
  auto first = lines(log, 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0]["event"], "open");
  EXPECT_EQ(first[1]["event"], "close");
  EXPECT_EQ(first[0]["conn_id"], first[1]["conn_id"]);
  EXPECT_EQ(first[1]["closed_by"], "client");
  EXPECT_FALSE(first[1].contains("application_id"));  // an unsecured topic: no credential

  // logrotate: move the file, signal, and the next lines go to a new file at the old path.
  ASSERT_EQ(std::rename(log.c_str(), (log + ".1").c_str()), 0);
  engine.Signal(SIGUSR1);
  ASSERT_TRUE(engine.WaitForOutput("access log reopened", 10000)) << engine.output();
  ASSERT_NO_FATAL_FAILURE(session());
  auto second = lines(log, 2);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_NE(second[1]["conn_id"], first[1]["conn_id"]);
  EXPECT_EQ(lines(log + ".1", 2).size(), 2u);

  // SIGHUP (which also reloads --config) reopens it as well.
  ASSERT_EQ(std::rename(log.c_str(), (log + ".2").c_str()), 0);
  size_t from = engine.output().find("access log reopened") + 1;
  engine.Signal(SIGHUP);
  ASSERT_TRUE(engine.WaitForOutput("access log reopened", 10000, &from)) << engine.output();
  ASSERT_NO_FATAL_FAILURE(session());
  auto third = lines(log, 2);
  ASSERT_EQ(third.size(), 2u);
  EXPECT_NE(third[1]["conn_id"], second[1]["conn_id"]);
  EXPECT_EQ(lines(log + ".2", 2).size(), 2u);
  engine.Signal(SIGTERM);
  EXPECT_EQ(engine.Wait(10000), 0) << engine.output();
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
