// File: tools/chat-backend/chat_rules.cc
#include "tools/chat-backend/chat_rules.h"

#include <algorithm>

#include "engine/http/url.h"

namespace wsgate::tools::chat {

RouteDecision RouteTarget(std::string_view target) {
  // Node's legacy url.parse: the pathname ends at '?' or '#'; the query ends at '#'.
  size_t path_end = target.find_first_of("?#");
  std::string_view path = target.substr(0, path_end);
  std::string_view query;
  if (path_end != std::string_view::npos && target[path_end] == '?') {
    query = target.substr(path_end + 1);
    query = query.substr(0, query.find('#'));
  }

  RouteDecision d;
  if (path == "/notifications") {
    d.kind = RouteDecision::kAccept;
    d.channel = Channel::kNotifications;
    return d;
  }
  if (path != "/rooms") return d;  // kUnknownPath

  d.kind = RouteDecision::kUnknownRoom;
  engine::http::QueryValue room = engine::http::FindQueryParam(query, "room");
  // A repeated parameter becomes an array in Node, and the room lookup fails.
  if (room.count != 1) return d;
  if (room.value == "room1") d.channel = Channel::kRoom1;
  else if (room.value == "room2") d.channel = Channel::kRoom2;
  else if (room.value == "common") d.channel = Channel::kCommon;
  else return d;
  d.kind = RouteDecision::kAccept;
  return d;
}

std::string_view WelcomeMessage(Channel channel) {
  switch (channel) {
    case Channel::kNotifications: return "Subscribed to notifications!";
    case Channel::kRoom1: return "You joined room1!";
    case Channel::kRoom2: return "You joined room2!";
    case Channel::kCommon: return "You joined the common room!";
  }
  return {};
}

std::optional<std::string_view> JoinNotice(Channel channel) {
  switch (channel) {
    case Channel::kNotifications: return std::nullopt;
    case Channel::kRoom1: return "Someone joined room1!";
    case Channel::kRoom2: return "Someone joined room2!";
    case Channel::kCommon: return "Someone joined the common room!";
  }
  return std::nullopt;
}

std::string_view ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kNotifications: return "notifications";
    case Channel::kRoom1: return "room1";
    case Channel::kRoom2: return "room2";
    case Channel::kCommon: return "common";
  }
  return "?";
}

void Hub::Join(ConnId id, Channel channel) {
  if (!members_.emplace(id, Member{channel, true}).second) return;
  channels_[static_cast<int>(channel)].push_back(id);
}

void Hub::MarkClosing(ConnId id) {
  auto it = members_.find(id);
  if (it != members_.end()) it->second.open = false;
}

void Hub::Leave(ConnId id) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  auto& list = channels_[static_cast<int>(it->second.channel)];
  list.erase(std::find(list.begin(), list.end(), id));
  members_.erase(it);
}

bool Hub::IsOpen(ConnId id) const {
  auto it = members_.find(id);
  return it != members_.end() && it->second.open;
}

}  // namespace wsgate::tools::chat
