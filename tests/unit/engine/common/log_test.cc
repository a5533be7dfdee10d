// Unit tests for engine/common/log: the text and JSON line formats and the key=value fields.
#include "engine/common/log_format.h"

#include <gtest/gtest.h>

#include <string>

#include "nlohmann/json.hpp"

namespace wsgate::common {
namespace {

constexpr int64_t kMs = 1796138176123;  // 2026-12-01T15:16:16.123Z

TEST(LogFormat, TextIsTheHistoricLine) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, kMs, LogLevel::kWarning, "wsgate-agent", "engine unreachable engine=x"),
            "2026-12-01T15:16:16.123Z WARN wsgate-agent: engine unreachable engine=x\n");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, 1796138176005, LogLevel::kInfo, "e", "m"),
            "2026-12-01T15:16:16.005Z INFO e: m\n");
}

TEST(LogFormat, JsonHasTsLevelComponentMsgAndTheFields) {
  std::string line = FormatLogLine(LogFormat::kJson, kMs, LogLevel::kInfo, "wsgate-agent",
                                   "engine recovered engine=unix:/tmp/e.sock applied_version=4 after_ms=-12 "
                                   "error=\"no \\\"route\\\" to host\" id=007 big=123456789012345678901");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2026-12-01T15:16:16.123Z");
  EXPECT_EQ(j["level"], "INFO");
  EXPECT_EQ(j["component"], "wsgate-agent");
  EXPECT_EQ(j["msg"], "engine recovered engine=unix:/tmp/e.sock applied_version=4 after_ms=-12 "
                      "error=\"no \\\"route\\\" to host\" id=007 big=123456789012345678901");
  EXPECT_EQ(j["engine"], "unix:/tmp/e.sock");
  EXPECT_EQ(j["applied_version"], 4);
  EXPECT_EQ(j["after_ms"], -12);
  EXPECT_EQ(j["error"], "no \"route\" to host");
  EXPECT_EQ(j["id"], "007");  // not a number JSON would write back the same
  EXPECT_EQ(j["big"], "123456789012345678901");
  // The keys come in order: the line's own, then the message's.
  EXPECT_EQ(line.rfind("{\"ts\":", 0), 0u);
  EXPECT_LT(line.find("\"msg\""), line.find("\"engine\""));
}

TEST(LogFormat, JsonKeepsItsOwnKeysAndTheFirstOfARepeatedOne) {
  auto j = nlohmann::json::parse(
      FormatLogLine(LogFormat::kJson, kMs, LogLevel::kError, "c", "level=low msg=x ts=1 a=1 a=2 component=z"));
  EXPECT_EQ(j["level"], "ERROR");
  EXPECT_EQ(j["component"], "c");
  EXPECT_EQ(j["ts"], "2026-12-01T15:16:16.123Z");
  EXPECT_EQ(j["a"], 1);
}

TEST(LogFormat, JsonEscapesControlCharactersAndReplacesBadUtf8) {
  std::string line = FormatLogLine(LogFormat::kJson, kMs, LogLevel::kDebug, "c", "bad\n\"target\" \xff\xfe path=/a\tb");
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "DEBUG");
  EXPECT_EQ(j["msg"], "bad\n\"target\" \xEF\xBF\xBD\xEF\xBF\xBD path=/a\tb");
  EXPECT_EQ(j["path"], "/a\tb");
}

TEST(LogFields, OnlyWordsThatStartWithAKey) {
  auto f = LogFields("listening on 127.0.0.1:9 (port 9) a=b x==y 1=2 -k=v e=mc2=yes q=\"unterminated x");
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"a", "b"}));
  EXPECT_EQ(f[1], (std::pair<std::string, std::string>{"x", "=y"}));
  EXPECT_EQ(f[2], (std::pair<std::string, std::string>{"e", "mc2=yes"}));
  EXPECT_EQ(f[3], (std::pair<std::string, std::string>{"q", "unterminated x"}));
  EXPECT_TRUE(LogFields("no fields here").empty());
  EXPECT_TRUE(LogFields("").empty());
  auto empty = LogFields("k= next=1");
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0].second, "");
}

TEST(LogValue, QuotesWhatAWordCannotHold) {
  EXPECT_EQ(LogValue("unix:/a"), "unix:/a");
  EXPECT_EQ(LogValue(""), "\"\"");
  EXPECT_EQ(LogValue("connection refused"), "\"connection refused\"");
  EXPECT_EQ(LogValue("a\"b\\c"), "\"a\\\"b\\\\c\"");
  // And LogFields reads back what LogValue wrote.
  for (std::string v : {"plain", "two words", "q\"uote", "back\\slash", ""}) {
    auto f = LogFields("k=" + LogValue(v));
    ASSERT_EQ(f.size(), 1u) << v;
    EXPECT_EQ(f[0].second, v);
  }
}

TEST(LogFormat, ParsesTheFlagValues) {
  LogFormat f = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("JSON", &f));
  EXPECT_FALSE(ParseLogFormat("", &f));
}

}  // namespace
}  // namespace wsgate::common
