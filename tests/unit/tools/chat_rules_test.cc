// Unit tests for tools/chat-backend/chat_rules: the sample backend's routing table, exact strings
// and fan-out rules (wso2-websocket-facts.md §1.2, §1.3).
#include "tools/chat-backend/chat_rules.h"

#include <gtest/gtest.h>

#include <vector>

namespace wsgate::tools::chat {
namespace {

struct RouteCase {
  const char* name;
  const char* target;
  RouteDecision::Kind kind;
  Channel channel;
};

class RouteTargetTest : public testing::TestWithParam<RouteCase> {};

TEST_P(RouteTargetTest, MatchesTheOriginal) {
  const RouteCase& c = GetParam();
  RouteDecision d = RouteTarget(c.target);
  EXPECT_EQ(d.kind, c.kind);
  if (c.kind == RouteDecision::kAccept) {
    EXPECT_EQ(d.channel, c.channel);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, RouteTargetTest,
    testing::Values(
        RouteCase{"notifications", "/notifications", RouteDecision::kAccept, Channel::kNotifications},
        RouteCase{"notifications_any_query", "/notifications?x=1&room=room1", RouteDecision::kAccept,
                  Channel::kNotifications},
        RouteCase{"room1", "/rooms?room=room1", RouteDecision::kAccept, Channel::kRoom1},
        RouteCase{"room2", "/rooms?room=room2", RouteDecision::kAccept, Channel::kRoom2},
        RouteCase{"common", "/rooms?room=common", RouteDecision::kAccept, Channel::kCommon},
        RouteCase{"room_percent_encoded", "/rooms?room=room%31", RouteDecision::kAccept, Channel::kRoom1},
        RouteCase{"room_with_other_params", "/rooms?a=b&room=room2&c", RouteDecision::kAccept, Channel::kRoom2},
        RouteCase{"unknown_room", "/rooms?room=room3", RouteDecision::kUnknownRoom, Channel::kRoom1},
        RouteCase{"empty_room", "/rooms?room=", RouteDecision::kUnknownRoom, Channel::kRoom1},
        RouteCase{"no_room", "/rooms", RouteDecision::kUnknownRoom, Channel::kRoom1},
        RouteCase{"repeated_room", "/rooms?room=room1&room=room1", RouteDecision::kUnknownRoom, Channel::kRoom1},
        RouteCase{"prototype_name", "/rooms?room=constructor", RouteDecision::kUnknownRoom, Channel::kRoom1},
        RouteCase{"room_case_matters", "/rooms?room=Room1", RouteDecision::kUnknownRoom, Channel::kRoom1},
        RouteCase{"root", "/", RouteDecision::kUnknownPath, Channel::kRoom1},
        RouteCase{"trailing_slash", "/notifications/", RouteDecision::kUnknownPath, Channel::kRoom1},
        RouteCase{"rooms_trailing_slash", "/rooms/?room=room1", RouteDecision::kUnknownPath, Channel::kRoom1},
        RouteCase{"gateway_path", "/chats/1.0.0/notifications", RouteDecision::kUnknownPath, Channel::kRoom1},
        RouteCase{"fragment_ends_path", "/notifications#x", RouteDecision::kAccept, Channel::kNotifications}),
    [](const testing::TestParamInfo<RouteCase>& p) { return p.param.name; });

TEST(Messages, AreTheOriginalStrings) {
  EXPECT_EQ(WelcomeMessage(Channel::kNotifications), "Subscribed to notifications!");
  EXPECT_EQ(WelcomeMessage(Channel::kRoom1), "You joined room1!");
  EXPECT_EQ(WelcomeMessage(Channel::kRoom2), "You joined room2!");
  EXPECT_EQ(WelcomeMessage(Channel::kCommon), "You joined the common room!");
  EXPECT_FALSE(JoinNotice(Channel::kNotifications).has_value());
  EXPECT_EQ(JoinNotice(Channel::kRoom1), "Someone joined room1!");
  EXPECT_EQ(JoinNotice(Channel::kRoom2), "Someone joined room2!");
  EXPECT_EQ(JoinNotice(Channel::kCommon), "Someone joined the common room!");
}

std::vector<Hub::ConnId> Peers(const Hub& hub, Hub::ConnId id) {
  std::vector<Hub::ConnId> out;
  hub.ForEachPeer(id, [&](Hub::ConnId p) { out.push_back(p); });
  return out;
}

std::vector<Hub::ConnId> OpenMembers(const Hub& hub, Channel channel) {
  std::vector<Hub::ConnId> out;
  hub.ForEachOpenMember(channel, [&](Hub::ConnId p) { out.push_back(p); });
  return out;
}

TEST(Hub, BroadcastSkipsTheSenderAndOtherChannels) {
  Hub hub;
  hub.Join(1, Channel::kRoom1);
  hub.Join(2, Channel::kRoom1);
  hub.Join(3, Channel::kRoom1);
  hub.Join(4, Channel::kRoom2);
  hub.Join(5, Channel::kNotifications);
  EXPECT_EQ(Peers(hub, 1), (std::vector<Hub::ConnId>{2, 3}));
  EXPECT_EQ(Peers(hub, 3), (std::vector<Hub::ConnId>{1, 2}));
  EXPECT_TRUE(Peers(hub, 4).empty());  // alone in room2
  EXPECT_TRUE(Peers(hub, 5).empty());  // notifications never get room chat
  EXPECT_EQ(OpenMembers(hub, Channel::kNotifications), (std::vector<Hub::ConnId>{5}));
}

TEST(Hub, ClosingAndDepartedClientsReceiveNothing) {
  Hub hub;
  hub.Join(1, Channel::kCommon);
  hub.Join(2, Channel::kCommon);
  hub.Join(3, Channel::kCommon);
  hub.MarkClosing(2);
  EXPECT_EQ(Peers(hub, 1), (std::vector<Hub::ConnId>{3}));
  EXPECT_FALSE(hub.IsOpen(2));
  hub.Leave(3);
  EXPECT_TRUE(Peers(hub, 1).empty());
  EXPECT_EQ(hub.MemberCount(Channel::kCommon), 2u);
  hub.Leave(2);
  hub.Leave(2);   // twice is harmless
  hub.Leave(99);  // unknown is harmless
  EXPECT_EQ(hub.MemberCount(Channel::kCommon), 1u);
  EXPECT_TRUE(Peers(hub, 99).empty());
}

TEST(Hub, JoiningTwiceKeepsOneMembership) {
  Hub hub;
  hub.Join(1, Channel::kRoom1);
  hub.Join(1, Channel::kRoom2);
  EXPECT_EQ(hub.MemberCount(Channel::kRoom1), 1u);
  EXPECT_EQ(hub.MemberCount(Channel::kRoom2), 0u);
}

}  // namespace
}  // namespace wsgate::tools::chat
