// Shared by the config tests: the walkthrough's Chats API as a text-format snapshot, and a
// resolver that needs no DNS.
#pragma once

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <string>

#include "engine/config/compile.h"
#include "tests/support/loopback_resolver.h"

namespace wsgate::engine::config::testing {

inline const char kChatsSnapshot[] = R"pb(
  version: 7
  agent_id: "agent-1"
  vhosts { name: "localhost" ws_port: 9099 wss_port: 8099 aliases: "127.0.0.1" }
  apis {
    id: "api-chats" name: "Chats" context: "/chats" version: "1.0.0" revision: 1
    is_default_version: true state: PUBLISHED vhosts: "localhost"
    production_endpoint { url: "ws://localhost:8080" }
    topics { name: "/notifications" publish: true subscribe: true url_mapping: "/notifications" }
    topics { name: "/rooms/{roomID}" publish: true subscribe: true url_mapping: "/rooms?room={uri.var.roomID}" }
  }
  apis {
    id: "api-wild" name: "Wild" context: "/wild" version: "2" vhosts: "localhost"
    sandbox_endpoint { url: "wss://backend.example:8443/base/" }
    topics { name: "/*" }
    topics { name: "/a/{x}/c" scopes: "read" }
    topics { name: "/a/b/c" }
  }
)pb";

inline Resolver FakeResolver() {
  return [](const std::string& host, uint16_t port) -> absl::StatusOr<std::vector<sockaddr_storage>> {
    if (host == "unresolvable.invalid") return absl::UnavailableError("cannot resolve unresolvable.invalid");
    return wsgate::testing::ResolveToLoopback(host, port);
  };
}

inline v1::Snapshot ParseSnapshot(const std::string& text) {
  v1::Snapshot s;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &s)) << text;
  return s;
}

inline std::shared_ptr<const Snapshot> CompileOrDie(const std::string& text) {
  auto s = Compile(ParseSnapshot(text), FakeResolver());
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : nullptr;
}

}  // namespace wsgate::engine::config::testing
