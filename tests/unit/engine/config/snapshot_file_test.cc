// Unit tests for engine/config/snapshot_file: the formats an operator may write and the errors
// a bad file gets.
#include "engine/config/snapshot_file.h"

#include <gtest/gtest.h>

namespace wsgate::engine::config {
namespace {

TEST(SnapshotFile, TextFormatWithDefaults) {
  auto s = ParseSnapshotText("apis { id: \"a\" name: \"A\" }\n", "/etc/wsgate/a.textproto");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->apis_size(), 1);
  EXPECT_EQ(s->agent_id(), "file:/etc/wsgate/a.textproto");
  EXPECT_EQ(s->version(), 1u);
}

TEST(SnapshotFile, JsonWhenItStartsWithABrace) {
  auto s = ParseSnapshotText("  \n{\"version\": \"7\", \"agentId\": \"x\", \"apis\": [{\"id\": \"a\"}]}", "f.json");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->version(), 7u);
  EXPECT_EQ(s->agent_id(), "x");
  EXPECT_EQ(s->apis(0).id(), "a");
}

TEST(SnapshotFile, ErrorsNameTheFileFormatAndPlace) {
  auto text = ParseSnapshotText("version: 1\napis { nope: 3 }\n", "bad.textproto");
  ASSERT_FALSE(text.ok());
  std::string m(text.status().message());
  EXPECT_NE(m.find("--config bad.textproto: not a valid text-format snapshot: line 2 column"), std::string::npos) << m;
  EXPECT_NE(m.find("nope"), std::string::npos) << m;
  auto json = ParseSnapshotText("{\"version\": ", "bad.json");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(std::string(json.status().message()).find("--config bad.json: not a valid JSON snapshot"), std::string::npos);
  auto missing = LoadSnapshotFile("/nonexistent/wsgate.textproto");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(missing.status().message()).find("cannot read /nonexistent/wsgate.textproto"), std::string::npos);
}

TEST(SnapshotFile, TheShippedExampleLoads) {
  auto s = LoadSnapshotFile(WSGATE_SOURCE_DIR "/docs/examples/chats.textproto");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->apis(0).name(), "Chats");
}

}  // namespace
}  // namespace wsgate::engine::config
