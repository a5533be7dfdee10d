// Unit tests for `wsgatectl top`'s table (tools/wsgatectl/top_view.h): rates between two
// GetTraffic replies per API summed over engines and revisions, the TOTAL row's errors, an
// engine that restarted or did not answer, and the plain-text layout scripts read.
#include "tools/wsgatectl/top_view.h"

#include <gtest/gtest.h>

namespace wsgate::tools::ctl {
namespace {

struct Api {
  std::string id, name;
  uint64_t active, total, in, out, throttled, denied, refused, error_closes;
};

v1::EngineTraffic* Engine(v1::GetTrafficResponse& r, const std::string& target, const std::string& engine_id,
                          int64_t at_ms, const std::vector<Api>& apis) {
  v1::EngineTraffic* e = r.add_engines();
  e->set_engine(target);
  e->set_engine_id(engine_id);
  e->set_sampled_unix_ms(at_ms);
  v1::EngineStats* s = e->mutable_stats();
  for (const Api& a : apis) {
    v1::ApiStats* out = s->add_apis();
    out->set_api_id(a.id);
    out->set_name(a.name);
    out->set_version("1.0.0");
    out->set_active_connections(a.active);
    out->set_total_connections(a.total);
    out->mutable_client_to_backend()->set_frames(a.in);
    out->mutable_backend_to_client()->set_frames(a.out);
    out->mutable_client_to_backend()->set_throttled_frames(a.throttled);
    out->mutable_backend_to_client()->set_denied_frames(a.denied);
    out->set_refused_upgrades(a.refused);
    out->set_error_closes(a.error_closes);
    // The engine's totals: these APIs, plus refusals that matched no API.
    s->set_active_connections(s->active_connections() + a.active);
    s->set_total_connections(s->total_connections() + a.total);
    s->mutable_client_to_backend()->set_frames(s->client_to_backend().frames() + a.in);
    s->mutable_backend_to_client()->set_frames(s->backend_to_client().frames() + a.out);
    s->mutable_client_to_backend()->set_throttled_frames(s->client_to_backend().throttled_frames() + a.throttled);
    s->mutable_backend_to_client()->set_denied_frames(s->backend_to_client().denied_frames() + a.denied);
  }
  return e;
}

const TopRow* Row(const TopTable& t, const std::string& api) {
  for (const auto& r : t.apis)
    if (r.api == api) return &r;
  return nullptr;
}

TEST(TopView, RatesPerApiSummedOverEnginesAndRevisions) {
  v1::GetTrafficResponse before, after;
  Engine(before, "unix:/a", "ea", 1000, {{"chats-r1", "Chats", 2, 10, 100, 200, 0, 0, 0, 0},
                                         {"quotes-r1", "Quotes", 1, 1, 0, 10, 0, 0, 0, 0}});
  Engine(before, "unix:/b", "eb", 1000, {{"chats-r1", "Chats", 1, 5, 50, 50, 0, 0, 0, 0}});
  // Two seconds later; engine b also serves a new revision (another id) of Chats.
  Engine(after, "unix:/a", "ea", 3000, {{"chats-r1", "Chats", 3, 14, 140, 260, 6, 0, 2, 0},
                                        {"quotes-r1", "Quotes", 1, 1, 0, 12, 0, 4, 0, 0}});
  Engine(after, "unix:/b", "eb", 3000, {{"chats-r1", "Chats", 0, 5, 50, 50, 0, 0, 0, 0},
                                        {"chats-r2", "Chats", 2, 2, 20, 40, 0, 0, 0, 2}});
  TopTable t = ComputeTop(before, after);
  EXPECT_EQ(t.engines_answering, 2);
  EXPECT_DOUBLE_EQ(t.seconds, 2.0);
  ASSERT_EQ(t.apis.size(), 2u);
  EXPECT_EQ(t.apis[0].api, "Chats:1.0.0") << "busiest first";
  const TopRow* chats = Row(t, "Chats:1.0.0");
  ASSERT_NE(chats, nullptr);
  EXPECT_EQ(chats->connections, 5u);           // 3 + 0 + 2
  EXPECT_DOUBLE_EQ(chats->new_per_s, 3.0);     // (4 + 2) / 2 s; r2 is new: counted from zero
  EXPECT_DOUBLE_EQ(chats->in_per_s, 30.0);     // (40 + 20) / 2
  EXPECT_DOUBLE_EQ(chats->out_per_s, 50.0);    // (60 + 40) / 2
  EXPECT_DOUBLE_EQ(chats->throttled_per_s, 3.0);
  EXPECT_DOUBLE_EQ(chats->errors_per_s, 2.0);  // 2 refused + 2 closes with 1011, over 2 s
  const TopRow* quotes = Row(t, "Quotes:1.0.0");
  ASSERT_NE(quotes, nullptr);
  EXPECT_DOUBLE_EQ(quotes->out_per_s, 1.0);
  EXPECT_DOUBLE_EQ(quotes->denied_per_s, 2.0);
  EXPECT_EQ(t.total.connections, 6u);
  EXPECT_DOUBLE_EQ(t.total.in_per_s, 30.0);
  EXPECT_DOUBLE_EQ(t.total.out_per_s, 51.0);
}

TEST(TopView, TotalErrorsCountEveryRefusalAndEvery1011Close) {
  v1::GetTrafficResponse before, after;
  Engine(before, "unix:/a", "ea", 0, {});
  v1::EngineStats* s = Engine(after, "unix:/a", "ea", 1000, {})->mutable_stats();
  (*s->mutable_handshake_failures())["404"] = 3;  // matched no API: only in TOTAL
  (*s->mutable_handshake_failures())["401"] = 1;
  (*s->mutable_closes())["1011"] = 2;
  (*s->mutable_closes())["1000"] = 7;  // a normal close is no error
  TopTable t = ComputeTop(before, after);
  EXPECT_TRUE(t.apis.empty());
  EXPECT_DOUBLE_EQ(t.total.errors_per_s, 6.0);
}

TEST(TopView, RestartedEngineCountsFromZeroAndAnEngineWithoutAnEarlierReplyAddsNoRates) {
  v1::GetTrafficResponse before, after;
  Engine(before, "unix:/a", "old-id", 0, {{"chats-r1", "Chats", 5, 1000, 9000, 9000, 0, 0, 0, 0}});
  before.add_engines()->set_engine("unix:/b");
  before.mutable_engines(1)->set_error("unreachable");
  Engine(after, "unix:/a", "new-id", 1000, {{"chats-r1", "Chats", 1, 1, 10, 20, 0, 0, 0, 0}});
  Engine(after, "unix:/b", "eb", 1000, {{"chats-r1", "Chats", 4, 500, 5000, 5000, 0, 0, 0, 0}});
  v1::EngineTraffic* down = after.add_engines();
  down->set_engine("unix:/c");
  down->set_error("connection refused");
  TopTable t = ComputeTop(before, after);
  EXPECT_EQ(t.engines_answering, 2);
  ASSERT_EQ(t.unreachable.size(), 1u);
  EXPECT_EQ(t.unreachable[0], "unix:/c: connection refused");
  const TopRow* chats = Row(t, "Chats:1.0.0");
  ASSERT_NE(chats, nullptr);
  EXPECT_EQ(chats->connections, 5u);         // both engines' gauges
  EXPECT_DOUBLE_EQ(chats->in_per_s, 10.0);   // a since its restart; b has no earlier reply
  EXPECT_DOUBLE_EQ(chats->new_per_s, 1.0);
  EXPECT_DOUBLE_EQ(t.total.in_per_s, 10.0);
}

TEST(TopView, PlainTableHasTitleHeaderRowsTotalAndUnreachableEngines) {
  v1::GetTrafficResponse before, after;
  Engine(before, "unix:/a", "ea", 0, {{"chats-r1", "Chats", 2, 2, 0, 0, 0, 0, 0, 0}});
  Engine(after, "unix:/a", "ea", 2000, {{"chats-r1", "Chats", 2, 2, 5, 9, 0, 0, 0, 0}});
  after.add_engines()->set_engine("unix:/down");
  after.mutable_engines(1)->set_error("unreachable");
  std::string text = FormatTop(ComputeTop(before, after), 1764590400000);
  EXPECT_EQ(text,
            "wsgate top  2025-12-01T12:00:00Z  1 engine, rates over 2.0 s\n"
            "API                        CONNS    NEW/s       IN/s      OUT/s  THROTTLED/s  DENIED/s  ERRORS/s\n"
            "Chats:1.0.0                    2      0.0        2.5        4.5          0.0       0.0       0.0\n"
            "TOTAL                          2      0.0        2.5        4.5          0.0       0.0       0.0\n"
            "engine not answering: unix:/down: unreachable\n");
}

}  // namespace
}  // namespace wsgate::tools::ctl
