// Unit tests for engine/config/settings: every EngineSettings field's default, its range check
// (INVALID_ARGUMENT naming the field and the range), and the per-API / per-endpoint overrides.
#include "engine/config/settings.h"

#include <gtest/gtest.h>

#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::config {
namespace {

using testing::FakeResolver;
using testing::kChatsSnapshot;
using testing::ParseSnapshot;

struct Field {
  const char* name;
  uint64_t min, max;
};

// Each field's allowed range, as documented in docs/configuration.md.
const Field kFields[] = {
    {"max_header_bytes", 1024, 1048576},   {"handshake_timeout_ms", 100, 600000},
    {"upstream_connect_timeout_ms", 100, 600000}, {"max_message_bytes", 128, 1073741824},
    {"queue_bytes", 16384, 1073741824},    {"ping_interval_ms", 1000, 3600000},
    {"pong_timeout_ms", 1000, 3600000},    {"close_timeout_ms", 100, 600000},
    {"max_connections", 1, 10000000},
};

absl::Status CompileWith(const std::string& field, uint64_t value) {
  v1::EngineSettings in;
  const auto* f = in.GetDescriptor()->FindFieldByName(field);
  EXPECT_NE(f, nullptr) << field;
  if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT64)
    in.GetReflection()->SetUInt64(&in, f, value);
  else
    in.GetReflection()->SetUInt32(&in, f, static_cast<uint32_t>(value));
  Settings out;
  return CompileSettings(in, &out);
}

TEST(SettingsTest, EveryFieldIsRangeCheckedWithItsNameAndRange) {
  for (const Field& f : kFields) {
    EXPECT_TRUE(CompileWith(f.name, f.min).ok()) << f.name;
    EXPECT_TRUE(CompileWith(f.name, f.max).ok()) << f.name;
    for (uint64_t bad : {f.min - 1, f.max + 1}) {
      if (bad == 0) continue;  // 0 is "the default", never out of range
      absl::Status s = CompileWith(f.name, bad);
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << f.name << " " << bad;
      EXPECT_EQ(s.message(), absl::StrCat("settings.", f.name, ": ", bad, " is out of range [", f.min, ", ", f.max, "]"));
    }
  }
  EXPECT_EQ(CompileWith("ping_interval_ms", 50).message(), "settings.ping_interval_ms: 50 is out of range [1000, 3600000]");
}

TEST(SettingsTest, ZeroKeepsEachDefaultAndSetFieldsAreTaken) {
  Settings defaults, out;
  ASSERT_TRUE(CompileSettings(v1::EngineSettings(), &out).ok());
  EXPECT_EQ(out.max_header_bytes, defaults.max_header_bytes);
  EXPECT_EQ(out.max_message_bytes, 16ull << 20);
  EXPECT_EQ(out.ping_interval_ms, 30000u);
  EXPECT_EQ(out.max_connections, 0u);
  v1::EngineSettings in;
  in.set_max_header_bytes(2048);
  in.set_handshake_timeout_ms(1500);
  in.set_upstream_connect_timeout_ms(2500);
  in.set_max_message_bytes(4096);
  in.set_queue_bytes(65536);
  in.set_ping_interval_ms(5000);
  in.set_pong_timeout_ms(6000);
  in.set_close_timeout_ms(700);
  in.set_max_connections(42);
  ASSERT_TRUE(CompileSettings(in, &out).ok());
  EXPECT_EQ(out.max_header_bytes, 2048u);
  EXPECT_EQ(out.handshake_timeout_ms, 1500u);
  EXPECT_EQ(out.upstream_connect_timeout_ms, 2500u);
  EXPECT_EQ(out.max_message_bytes, 4096u);
  EXPECT_EQ(out.queue_bytes, 65536u);
  EXPECT_EQ(out.ping_interval_ms, 5000u);
  EXPECT_EQ(out.pong_timeout_ms, 6000u);
  EXPECT_EQ(out.close_timeout_ms, 700u);
  EXPECT_EQ(out.max_connections, 42u);
}

TEST(SettingsTest, PerApiMaxMessageBytesOverridesTheEngineWideSetting) {
  v1::Snapshot in = ParseSnapshot(kChatsSnapshot);
  in.mutable_settings()->set_max_message_bytes(1 << 20);
  in.mutable_apis(0)->set_max_message_bytes(2048);
  auto s = Compile(in, FakeResolver());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->MaxMessageBytes("api-chats"), 2048u);
  EXPECT_EQ((*s)->MaxMessageBytes("api-wild"), 1u << 20);  // 0: the engine-wide setting
  EXPECT_EQ((*s)->MaxMessageBytes("unknown"), 1u << 20);

  in.mutable_apis(1)->set_max_message_bytes(10);
  EXPECT_EQ(Compile(in, FakeResolver()).status().message(), "apis[1].max_message_bytes: 10 is out of range [128, 1073741824]");
}

TEST(SettingsTest, EndpointConnectTimeoutIsCheckedAndKept) {
  v1::Snapshot in = ParseSnapshot(kChatsSnapshot);
  in.mutable_apis(0)->mutable_production_endpoint()->set_connect_timeout_ms(250);
  auto s = Compile(in, FakeResolver());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->apis_by_id.at("api-chats")->production->connect_timeout_ms, 250u);
  in.mutable_apis(0)->mutable_production_endpoint()->set_connect_timeout_ms(5);
  EXPECT_EQ(Compile(in, FakeResolver()).status().message(),
            "apis[0].production_endpoint.connect_timeout_ms: 5 is out of range [100, 600000]");
}

}  // namespace
}  // namespace wsgate::engine::config
