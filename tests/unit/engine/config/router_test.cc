// Unit tests for engine/config/router: vhosts, versioned and default-version contexts, topic
// templates and their order, WSO2's 404 messages, and URL mapping.
#include "engine/config/router.h"

#include <gtest/gtest.h>

#include "tests/unit/engine/config/config_test_util.h"

namespace wsgate::engine::config {
namespace {

using testing::CompileOrDie;
using testing::kChatsSnapshot;

class RouterTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Snapshot> snapshot_ = CompileOrDie(kChatsSnapshot);
};

TEST_F(RouterTest, RoutesTheWalkthroughTopics) {
  RouteResult r = Route(*snapshot_, "localhost:9099", "/chats/1.0.0/notifications");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.api->name, "Chats");
  EXPECT_EQ(r.topic->name, "/notifications");
  EXPECT_EQ(UpstreamTarget(*r.api->production, r, ""), "/notifications");

  r = Route(*snapshot_, "LOCALHOST", "/chats/1.0.0/rooms/room1/");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.topic->name, "/rooms/{roomID}");
  ASSERT_EQ(r.params.size(), 1u);
  EXPECT_EQ(r.params[0].name, "roomID");
  EXPECT_EQ(r.params[0].value, "room1");
  EXPECT_EQ(UpstreamTarget(*r.api->production, r, ""), "/rooms?room=room1");
  EXPECT_EQ(UpstreamTarget(*r.api->production, r, "lang=en"), "/rooms?room=room1&lang=en");
}

TEST_F(RouterTest, DefaultVersionAndAliases) {
  RouteResult r = Route(*snapshot_, "127.0.0.1:9099", "/chats/rooms/room2");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.params[0].value, "room2");
  // The Wild API is not the default version.
  EXPECT_EQ(Route(*snapshot_, "localhost", "/wild/anything").status, RouteStatus::kNoApi);
}

TEST_F(RouterTest, NotFoundCarriesWso2Messages) {
  RouteResult r = Route(*snapshot_, "localhost", "/nope/1.0.0/notifications");
  EXPECT_EQ(r.status, RouteStatus::kNoApi);
  EXPECT_EQ(r.message(), "No matching API found to dispatch the request");
  r = Route(*snapshot_, "other-host", "/chats/1.0.0/notifications");
  EXPECT_EQ(r.status, RouteStatus::kNoApi);
  r = Route(*snapshot_, "localhost", "/chats/1.0.0/unknown");
  EXPECT_EQ(r.status, RouteStatus::kNoTopic);
  EXPECT_EQ(r.message(), "No matching resource found to dispatch the request");
  EXPECT_EQ(Route(*snapshot_, "localhost", "/chats/1.0.0/rooms").status, RouteStatus::kNoTopic);
  EXPECT_EQ(Route(*snapshot_, "localhost", "/chats/1.0.0/rooms/a/b").status, RouteStatus::kNoTopic);
  // Prefixes match whole segments only.
  EXPECT_EQ(Route(*snapshot_, "localhost", "/wild/2x/a").status, RouteStatus::kNoApi);
  EXPECT_EQ(Route(*snapshot_, "localhost", "/wil/2/a").status, RouteStatus::kNoApi);
  // With a default-version API, an unknown version segment is just an unknown topic.
  EXPECT_EQ(Route(*snapshot_, "localhost", "/chats/1.0.0x/notifications").status, RouteStatus::kNoTopic);
  EXPECT_EQ(Route(*snapshot_, "localhost", "/").status, RouteStatus::kNoApi);
  EXPECT_EQ(Route(*snapshot_, "", "/chats/1.0.0/notifications").status, RouteStatus::kNoApi);
}

TEST_F(RouterTest, MostSpecificTopicWinsAndWildcardCatchesTheRest) {
  RouteResult r = Route(*snapshot_, "localhost", "/wild/2/a/b/c");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.topic->name, "/a/b/c");
  r = Route(*snapshot_, "localhost", "/wild/2/a/z/c");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.topic->name, "/a/{x}/c");
  r = Route(*snapshot_, "localhost", "/wild/2/deep/er/path");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.topic->name, "/*");
  // No mapping: the sub-path is appended to the endpoint's base path.
  EXPECT_EQ(UpstreamTarget(*r.api->sandbox, r, "q=1"), "/base/deep/er/path?q=1");
  r = Route(*snapshot_, "localhost", "/wild/2");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(r.topic->name, "/*");
  EXPECT_EQ(UpstreamTarget(*r.api->sandbox, r, ""), "/base");
}

// A {uri.var.X} value lands encoded for its place: in the query it cannot add a parameter, in a
// path it cannot add a segment or start the query (issue #11, item 4).
TEST_F(RouterTest, UriVarsAreEncodedForTheQuery) {
  RouteResult r = Route(*snapshot_, "localhost", "/chats/1.0.0/rooms/room1&room=common");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(UpstreamTarget(*r.api->production, r, ""), "/rooms?room=room1%26room%3Dcommon");
  r = Route(*snapshot_, "localhost", "/chats/1.0.0/rooms/a+b%20c%23d");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(UpstreamTarget(*r.api->production, r, "x=1"), "/rooms?room=a%2Bb%20c%23d&x=1");
  // An escape the client sent is decoded once and re-encoded, never double-encoded.
  r = Route(*snapshot_, "localhost", "/chats/1.0.0/rooms/r%31");
  EXPECT_EQ(UpstreamTarget(*r.api->production, r, ""), "/rooms?room=r1");
}

TEST(RouterMapping, UriVarsAreEncodedForAPathSegment) {
  auto snapshot = testing::CompileOrDie(R"pb(
    version: 1 agent_id: "a"
    vhosts { name: "localhost" }
    apis {
      id: "p" name: "P" context: "/p" version: "1" vhosts: "localhost"
      production_endpoint { url: "ws://localhost:8080/base" }
      topics { name: "/u/{id}" url_mapping: "/users/{uri.var.id}/feed?id={uri.var.id}" }
    }
  )pb");
  RouteResult r = Route(*snapshot, "localhost", "/p/1/u/x;y%3Fz%25w&k=v");
  ASSERT_EQ(r.status, RouteStatus::kOk);
  EXPECT_EQ(UpstreamTarget(*r.api->production, r, ""), "/base/users/x%3By%3Fz%25w&k=v/feed?id=x%3By%3Fz%25w%26k%3Dv");
  r = Route(*snapshot, "localhost", "/p/1/u/caf%C3%A9");
  EXPECT_EQ(UpstreamTarget(*r.api->production, r, ""), "/base/users/caf%C3%A9/feed?id=caf%C3%A9");
}

// Issue 12: every place a {uri.var.X} can land, with the values that could change the URL's
// shape: an encoded '/' (a new path segment), '&' and '=' (a new query parameter), '?' and '#'
// (a new query or fragment), a lone '%' (a broken escape), '+' and a space.
TEST(RouterMapping, UriVarsCannotChangeTheTargetsShapeAnywhere) {
  auto snapshot = testing::CompileOrDie(R"pb(
    version: 1 agent_id: "a"
    vhosts { name: "localhost" }
    apis {
      id: "p" name: "P" context: "/p" version: "1" vhosts: "localhost"
      production_endpoint { url: "ws://localhost:8080" }
      topics { name: "/m/{v}" url_mapping: "/seg/{uri.var.v}/mid-{uri.var.v}-x?first={uri.var.v}&k=lit{uri.var.v}" }
    }
  )pb");
  struct Case {
    const char* value;    // as the client sent it in the request path
    const char* in_path;  // what it becomes in a path segment
    const char* in_query; // ... and in a query value
  } cases[] = {
      {"a%2Fb", "a%2Fb", "a%2Fb"},                // '/' never adds a segment
      {"room1&room=x", "room1&room=x", "room1%26room%3Dx"},  // '&' '=' are data in a path, escaped in a query
      {"q%3Fr", "q%3Fr", "q%3Fr"},                // '?' never starts the query
      {"h%23f", "h%23f", "h%23f"},                // '#' never starts a fragment
      {"100%", "100%25", "100%25"},               // a lone '%' is escaped, not passed on broken
      {"100%25", "100%25", "100%25"},             // an escaped '%' stays escaped once
      {"a+b%20c", "a+b%20c", "a%2Bb%20c"},        // '+' is literal in a path, escaped in a query
      {"plain-1.2_x~", "plain-1.2_x~", "plain-1.2_x~"},
  };
  for (const Case& c : cases) {
    std::string path = std::string("/p/1/m/") + c.value;  // the params view into it
    RouteResult r = Route(*snapshot, "localhost", path);
    ASSERT_EQ(r.status, RouteStatus::kOk) << c.value;
    std::string p = c.in_path, q = c.in_query;
    EXPECT_EQ(UpstreamTarget(*r.api->production, r, "z=1"),
              "/seg/" + p + "/mid-" + p + "-x?first=" + q + "&k=lit" + q + "&z=1")
        << c.value;
  }
}

// Before the first push the engine answers 503, not WSO2's 404 (issue #11, item 7).
TEST(RouterNotConfigured, AnUnconfiguredSnapshotIs503) {
  RouteResult r = Route(*EmptySnapshot(), "localhost", "/chats/1.0.0/notifications");
  EXPECT_EQ(r.status, RouteStatus::kNotConfigured);
  EXPECT_EQ(r.http_status(), 503);
  EXPECT_EQ(r.message(), "Service Unavailable: the gateway has no configuration yet");
  auto defaults = CompileDefaults({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_FALSE((*defaults)->configured);
  EXPECT_EQ(Route(**defaults, "localhost", "/x").http_status(), 503);
  // Any compiled snapshot counts as configured, even one without APIs.
  auto empty_push = Compile(v1::Snapshot(), testing::FakeResolver());
  ASSERT_TRUE(empty_push.ok());
  EXPECT_TRUE((*empty_push)->configured);
  r = Route(**empty_push, "localhost", "/chats/1.0.0/notifications");
  EXPECT_EQ(r.status, RouteStatus::kNoApi);
  EXPECT_EQ(r.http_status(), 404);
}

}  // namespace
}  // namespace wsgate::engine::config
