// File: tools/chat-backend/chat_rules.h
//
// The sample backend's behaviour as pure logic (WSO2 samples-apim websocket-backend, see
// wso2-websocket-facts.md §1): which handshake targets are accepted, the exact strings it sends,
// and who receives what. The server (chat_server.h) only moves bytes; every rule lives here so it
// can be unit-tested without sockets.
//
//   RouteDecision d = RouteTarget("/rooms?room=room1");   // kAccept, Channel::kRoom1
//   hub.Join(id, d.channel);
//   hub.ForEachPeer(id, [&](ConnId peer) { Send(peer, msg); });
//
// Owned by the server's single event-loop thread; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace wsgate::tools::chat {

enum class Channel : uint8_t { kNotifications = 0, kRoom1, kRoom2, kCommon };
inline constexpr int kChannelCount = 4;

struct RouteDecision {
  enum Kind : uint8_t {
    kAccept,       // a known channel: perform the WebSocket handshake
    kUnknownRoom,  // /rooms with a missing, repeated or unknown room: the original destroys the TCP socket
    kUnknownPath,  // any other path: the original never answers
  };
  Kind kind = kUnknownPath;
  Channel channel = Channel::kNotifications;
};

// `target` is the request-target, e.g. "/rooms?room=room1". The path is compared exactly (no
// trailing-slash folding, as the original); the query is parsed like Node's querystring.
RouteDecision RouteTarget(std::string_view target);

// Sent to the client that just connected: "Subscribed to notifications!", "You joined room1!",
// "You joined the common room!".
std::string_view WelcomeMessage(Channel channel);
// Sent to every open notifications client when someone joins a room ("Someone joined room1!");
// nullopt for the notifications channel itself.
std::optional<std::string_view> JoinNotice(Channel channel);
// "notifications", "room1", "room2", "common".
std::string_view ChannelName(Channel channel);

// Channel membership and the broadcast rule: a message goes to every *other* *open* member of the
// sender's channel, in join order.
class Hub {
 public:
  using ConnId = uint64_t;

  void Join(ConnId id, Channel channel);
  // The connection started closing (close sent or received): it receives nothing more.
  void MarkClosing(ConnId id);
  // The connection is gone. Unknown ids are ignored.
  void Leave(ConnId id);

  // Calls fn(peer) for each open member of `id`'s channel other than `id`.
  template <typename Fn>
  void ForEachPeer(ConnId id, Fn&& fn) const {
    auto it = members_.find(id);
    if (it == members_.end()) return;
    for (ConnId peer : channels_[static_cast<int>(it->second.channel)])
      if (peer != id && IsOpen(peer)) fn(peer);
  }
  // Calls fn(member) for each open member of `channel`.
  template <typename Fn>
  void ForEachOpenMember(Channel channel, Fn&& fn) const {
    for (ConnId member : channels_[static_cast<int>(channel)])
      if (IsOpen(member)) fn(member);
  }

  bool IsOpen(ConnId id) const;
  size_t MemberCount(Channel channel) const { return channels_[static_cast<int>(channel)].size(); }

 private:
  struct Member {
    Channel channel;
    bool open;
  };
  absl::flat_hash_map<ConnId, Member> members_;
  std::vector<ConnId> channels_[kChannelCount];  // join order
};

}  // namespace wsgate::tools::chat
