// Tests for engine/admin/metrics.h: what the /metrics page makes of the shards' counters.
#include "engine/admin/metrics.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "engine/admin/config_dump.h"
#include "engine/server/stats.h"

namespace wsgate::engine::admin {
namespace {

using server::ApiCounters;
using server::ShardStats;

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(LatencyHistogram, BucketsByUpperBoundInclusive) {
  server::LatencyHistogram h;
  h.ObserveMs(1);     // le 0.001
  h.ObserveMs(2);     // le 0.0025
  h.ObserveMs(100);   // le 0.1
  h.ObserveMs(60000); // +Inf
  EXPECT_EQ(h.counts[0], 1u);
  EXPECT_EQ(h.counts[1], 1u);
  EXPECT_EQ(h.counts[6], 1u);
  EXPECT_EQ(h.counts[server::LatencyHistogram::kBuckets], 1u);
  EXPECT_EQ(h.count, 4u);
  EXPECT_EQ(h.sum_ms, 60103u);
}

TEST(RenderMetrics, SumsShardsAndKeepsPerShardLoadApart) {
  MetricsInput in;
  in.config_version = 7;
  in.ready = true;
  for (int i = 0; i < 2; ++i) {
    ShardStats s;
    s.completions = 10 + i;
    s.loop_busy_ns = 1500000000;
    s.total_connections = 2;
    s.handshake_failures[401] = 1;
    s.backend_failures["connect_error"] = 1;
    s.closes_by_side[{1000, "client"}] = 1;
    s.handshake_latency.ObserveMs(3);
    auto api = std::make_unique<ApiCounters>("Chats", "1.0.0");
    api->environment = "Production";
    api->client_to_backend.frames = 5;
    api->client_to_backend.bytes = 50;
    api->active_by_topic["/rooms/{roomID}"] = 1;
    api->throttled_by_app["app1"] = 2;
    // Two revisions (ids) of one API are one series.
    s.apis[i == 0 ? "chats-r1" : "chats-r2"] = std::move(api);
    in.shards.push_back(std::move(s));
  }
  std::string text = RenderMetrics(in);
  EXPECT_TRUE(Has(text, "wsgate_engine_config_version 7")) << text;
  EXPECT_TRUE(Has(text, "wsgate_engine_ready 1"));
  EXPECT_TRUE(Has(text, "wsgate_engine_loop_completions_total{shard=\"0\"} 10"));
  EXPECT_TRUE(Has(text, "wsgate_engine_loop_completions_total{shard=\"1\"} 11"));
  EXPECT_TRUE(Has(text, "wsgate_engine_loop_busy_seconds_total{shard=\"1\"} 1.5"));
  EXPECT_TRUE(Has(text, "wsgate_engine_upgrades_total{code=\"101\"} 4"));
  EXPECT_TRUE(Has(text, "wsgate_engine_upgrades_total{code=\"401\"} 2"));
  EXPECT_TRUE(Has(text, "wsgate_engine_backend_failures_total{reason=\"connect_error\"} 2"));
  EXPECT_TRUE(Has(text, "wsgate_engine_closes_total{code=\"1000\",side=\"client\"} 2"));
  EXPECT_TRUE(Has(text, "wsgate_engine_handshake_duration_seconds_bucket{le=\"0.005\"} 2"));
  EXPECT_TRUE(Has(text, "wsgate_engine_handshake_duration_seconds_count 2"));
  EXPECT_TRUE(Has(text, "wsgate_engine_frames_total{api=\"Chats\",api_version=\"1.0.0\",environment=\"Production\","
                        "direction=\"to_backend\"} 10"));
  EXPECT_TRUE(Has(text, "wsgate_engine_payload_bytes_total{api=\"Chats\",api_version=\"1.0.0\",environment=\"Production\","
                        "direction=\"to_backend\"} 100"));
  EXPECT_TRUE(Has(text, "wsgate_engine_connections{api=\"Chats\",api_version=\"1.0.0\",environment=\"Production\","
                        "topic=\"/rooms/{roomID}\"} 2"));
  EXPECT_TRUE(Has(text, "wsgate_engine_throttled_frames_total{api=\"Chats\",api_version=\"1.0.0\","
                        "environment=\"Production\",application=\"app1\"} 4"));
  // Every generic shard counter is there, gauges without _total.
  EXPECT_TRUE(Has(text, "# TYPE wsgate_engine_active_connections gauge"));
  EXPECT_TRUE(Has(text, "# TYPE wsgate_engine_tls_failures_total counter"));
  EXPECT_TRUE(Has(text, "# TYPE wsgate_engine_access_log_dropped_total counter"));
  EXPECT_EQ(text.find("wsgate_engine_completions_total"), std::string::npos);  // per shard only
}

TEST(RenderMetrics, EveryFamilyIsDeclaredOnce) {
  MetricsInput in;
  in.shards.emplace_back();
  std::string text = RenderMetrics(in);
  size_t pos = 0;
  std::set<std::string> seen;
  while ((pos = text.find("# TYPE ", pos)) != std::string::npos) {
    size_t end = text.find(' ', pos + 7);
    EXPECT_TRUE(seen.insert(text.substr(pos + 7, end - pos - 7)).second) << text.substr(pos + 7, end - pos - 7);
    pos = end;
  }
  EXPECT_GT(seen.size(), 30u);
}

TEST(ConfigDump, PrivateKeysAndTokenHashesAreRemoved) {
  v1::Snapshot s;
  s.set_version(3);
  auto* v = s.add_vhosts();
  v->set_name("localhost");
  v->mutable_tls()->set_cert_pem("-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n");
  v->mutable_tls()->set_key_pem("-----BEGIN PRIVATE KEY-----\nSECRETKEY\n-----END PRIVATE KEY-----\n");
  v->mutable_tls()->set_key_file("/etc/wsgate/key.pem");
  auto* t = s.add_opaque_tokens();
  t->set_sha256(std::string(32, '\x7f'));
  t->set_client_id("client");
  s.mutable_backend_signing_key()->set_kid("backend-1");  // issue 14 item 7
  s.mutable_backend_signing_key()->set_private_key_pem("-----BEGIN PRIVATE KEY-----\nBACKENDKEY\n-----END PRIVATE KEY-----\n");
  std::string json = ConfigDumpJson(s);
  EXPECT_EQ(json.find("BACKENDKEY"), std::string::npos) << json;
  EXPECT_NE(json.find("\"private_key_pem\": \"REDACTED\""), std::string::npos) << json;
  EXPECT_EQ(json.find("SECRETKEY"), std::string::npos) << json;
  EXPECT_EQ(json.find("f39/f39/"), std::string::npos) << json;  // base64 of the 0x7f bytes
  EXPECT_NE(json.find("\"key_pem\": \"REDACTED\""), std::string::npos) << json;
  EXPECT_NE(json.find("/etc/wsgate/key.pem"), std::string::npos);
  EXPECT_NE(json.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(json.find("\"client_id\": \"client\""), std::string::npos);
  EXPECT_NE(json.find("\"version\": \"3\""), std::string::npos);
}

}  // namespace
}  // namespace wsgate::engine::admin
