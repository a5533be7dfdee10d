// Tests for engine/server/access_log.h: the JSON line writer and the writer thread's file handling.
#include "engine/server/access_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "nlohmann/json.hpp"

namespace wsgate::engine::server {
namespace {

AccessRecord Relayed() {
  AccessRecord r;
  r.time_unix_ms = 1764590400123;  // 2025-12-01T12:00:00.123Z
  r.conn_id = (uint64_t{1} << 40) | 5;
  r.shard = 1;
  r.client_address = "127.0.0.1";
  r.vhost = "localhost";
  r.api = "Chats";
  r.api_version = "1.0.0";
  r.topic = "/rooms/{roomID}";
  r.application_id = "app1";
  r.subscription_id = "sub1";
  r.key_type = "PRODUCTION";
  r.status = 101;
  r.client_close_code = 1000;
  r.backend_close_code = 1000;
  r.close_code_to_client = 1000;
  r.closed_by = "client";
  r.to_backend = {3, 30, 1, 2};
  r.to_client = {4, 40, 0, 0};
  r.duration_ms = 250;
  return r;
}

TEST(AccessLogLine, Rfc3339UtcMilliseconds) {
  EXPECT_EQ(Rfc3339Ms(1764590400123), "2025-12-01T12:00:00.123Z");
  EXPECT_EQ(Rfc3339Ms(0), "1970-01-01T00:00:00.000Z");
}

TEST(AccessLogLine, RelayedConnectionHasEveryField) {
  std::string line = FormatAccessLine(Relayed(), "e1");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2025-12-01T12:00:00.123Z");
  EXPECT_EQ(j["event"], "close");
  EXPECT_EQ(j["conn_id"], "e1-10000000005");
  EXPECT_EQ(j["engine"], "e1");
  EXPECT_EQ(j["shard"], 1);
  EXPECT_EQ(j["client_address"], "127.0.0.1");
  EXPECT_EQ(j["vhost"], "localhost");
  EXPECT_EQ(j["api"], "Chats");
  EXPECT_EQ(j["api_version"], "1.0.0");
  EXPECT_EQ(j["topic"], "/rooms/{roomID}");
  EXPECT_EQ(j["application_id"], "app1");
  EXPECT_EQ(j["subscription_id"], "sub1");
  EXPECT_EQ(j["key_type"], "PRODUCTION");
  EXPECT_EQ(j["status"], 101);
  EXPECT_EQ(j["client_close_code"], 1000);
  EXPECT_EQ(j["backend_close_code"], 1000);
  EXPECT_EQ(j["close_code_to_client"], 1000);
  EXPECT_EQ(j["closed_by"], "client");
  EXPECT_EQ(j["frames_to_backend"], 3);
  EXPECT_EQ(j["bytes_to_backend"], 30);
  EXPECT_EQ(j["frames_to_client"], 4);
  EXPECT_EQ(j["bytes_to_client"], 40);
  EXPECT_EQ(j["throttled_frames"], 1);
  EXPECT_EQ(j["denied_frames"], 2);
  EXPECT_EQ(j["duration_ms"], 250);
  EXPECT_FALSE(j.contains("subprotocol"));  // empty: left out
}

TEST(AccessLogLine, RefusedUpgradeHasStatusAndNoRelayFields) {
  AccessRecord r;
  r.time_unix_ms = 1000;
  r.status = 401;
  r.vhost = "localhost";
  auto j = nlohmann::json::parse(FormatAccessLine(r, "e1"));
  EXPECT_EQ(j["status"], 401);
  EXPECT_FALSE(j.contains("frames_to_backend"));
  EXPECT_FALSE(j.contains("closed_by"));
  EXPECT_FALSE(j.contains("api"));
}

TEST(AccessLogLine, ClientTextIsEscapedAndInvalidUtf8Replaced) {
  AccessRecord r;
  r.vhost = "evil\"host\n\\\x01";
  r.subprotocol = "bad\xff";
  std::string line = FormatAccessLine(r, "e1");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["vhost"], "evil\"host\n\\\x01");
  EXPECT_EQ(j["subprotocol"], "bad\xEF\xBF\xBD");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitForLines(const std::string& path, size_t n) {
  for (int i = 0; i < 500; ++i) {
    std::string text = ReadAll(path);
    if (static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(AccessLog, WritesReopensAfterRotationAndDropsWhenFull) {
  char tmpl[] = "/tmp/wsgate-access-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/access.log";
  AccessLog log({path, "e1", false, 4});
  ASSERT_TRUE(log.Start().ok());
  ASSERT_TRUE(log.Submit(Relayed()));
  ASSERT_TRUE(WaitForLines(path, 1));
  // logrotate: move the file, then SIGHUP/SIGUSR1 → Reopen.
  ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
  log.Reopen();
  for (int i = 0; i < 200 && access(path.c_str(), F_OK) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(log.Submit(Relayed()));
  ASSERT_TRUE(WaitForLines(path, 1));
  std::string rotated = ReadAll(path + ".1");
  EXPECT_EQ(std::count(rotated.begin(), rotated.end(), '\n'), 1);
  log.Stop();
  EXPECT_FALSE(log.Submit(Relayed()));  // stopped: refused, counted by the caller
  // Bounded: with the writer stopped, the queue takes `capacity` and refuses the rest.
  AccessLog full({path, "e1", false, 2});
  int accepted = 0;
  for (int i = 0; i < 5; ++i) accepted += full.Submit(Relayed()) ? 1 : 0;  // not started: nobody drains
  EXPECT_EQ(accepted, 2);
}

TEST(AccessLog, UnwritablePathIsAStartupErrorNamingTheFlag) {
  AccessLog log({"/nonexistent-dir/access.log", "e1", false, 4});
  absl::Status s = log.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--access-log /nonexistent-dir/access.log"), std::string::npos) << s;
}

}  // namespace
}  // namespace wsgate::engine::server
