// File: tests/support/engine_fixture.h
//
// An in-process gateway for integration tests: the real engine Server (io_uring shards) on
// 127.0.0.1:0 in front of the real chat backend, configured with the walkthrough's Chats API,
// an application subscribed to it, and a signing key to mint access tokens with.
//
//   class MyTest : public wsgate::testing::EngineFixture {};
//   TEST_F(MyTest, X) { WsClient c; c.Connect(engine_port(), "/chats/1.0.0/notifications",
//                                             {Bearer(Token())}); }
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/server/server.h"
#include "engine/tls/crypto.h"
#include "tests/support/ws_client.h"
#include "tools/chat-backend/chat_server.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::testing {

class EngineFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The walkthrough's config: Chats API (/chats/1.0.0, default version) with /notifications and
  // /rooms/{roomID}, app "app1" subscribed, consumer keys "prod-key" (PRODUCTION) and
  // "sand-key" (SANDBOX), signing key "k1" (RS256), issuer "wsgate".
  v1::Snapshot BaseSnapshot(uint64_t version = 1);
  void Apply(const v1::Snapshot& s);
  // Adds an event-count policy of `events` per DAY to `s` (stop_on_quota_reach as given).
  static v1::ThrottlePolicy* AddPolicy(v1::Snapshot& s, const std::string& name, uint64_t events, bool stop = true);
  // Reads the backend's first message on a freshly joined client and expects `welcome`.
  static void ExpectWelcome(WsClient& c, const std::string& path, const std::string& welcome);
  // A client upgraded on `path` with a fresh token (Authorization header), its welcome read.
  std::unique_ptr<WsClient> Join(const std::string& path, const std::string& welcome);

  // What a client that expected to be refused got: the status (101 if it was upgraded after all),
  // the response head and the body that followed it (read to the server's EOF).
  struct Refusal {
    int status = 0;
    std::string head;
    std::string body;
  };
  Refusal Refuse(const std::string& path, const std::vector<std::string>& headers);

  // `n` clients that connect over TCP and send nothing, once the engine holds all of them (they
  // sit in the request phase, each taking a connection place).
  std::vector<std::unique_ptr<WsClient>> HoldTcpClients(int n);
  // A listener on 127.0.0.1 that never accepts: TCP connects (the kernel completes it), but no
  // answer ever comes. Returns the fd (the caller closes it); *port gets its port.
  static int SilentListener(uint16_t* port);

  // A signed access token.
  std::string Token(const std::string& client_id = "prod-key", int64_t ttl_s = 3600, const std::string& jti = "jti-1",
                    const std::string& extra_claims = "");
  static std::string Bearer(const std::string& token) { return "Authorization: Bearer " + token; }

  uint16_t engine_port() const { return engine_->port(); }
  uint16_t wss_port() const { return engine_->wss_port(); }
  // A self-signed certificate for localhost/127.0.0.1 (made once per test binary) that the
  // engine serves on wss; clients verify against it as their CA.
  static const std::string& CertFile();
  static const std::string& KeyFile();
  static const std::string& CertDir();
  uint16_t backend_port() const { return backend_->port(); }

  std::unique_ptr<engine::server::Server> engine_;
  std::unique_ptr<tools::chat::ChatServer> backend_;
  std::thread backend_thread_;
  std::unique_ptr<engine::tls::PrivateKey> signing_key_;
  int shards_ = 2;
  // Set before SetUp() to change the engine's limits (0: the engine's defaults).
  int max_connections_ = 0;
  unsigned ring_entries_ = 0, cq_entries_ = 0;
  // Operations (issue 13): an access log for the engine (not owned), and whether SetUp applies
  // BaseSnapshot (false: the engine starts unconfigured, as before the agent's first push).
  engine::server::AccessLog* access_log_ = nullptr;
  bool apply_base_snapshot_ = true;
  // The engine's ws listeners (ServerOptions::ws_listen) and its resolver (unset: the system's).
  std::string ws_listen_ = "127.0.0.1:0";
  engine::config::Resolver resolver_;
  // Cluster-wide quotas (issue 19): the engine's --quota-* options (default: local counting).
  engine::quota::QuotaOptions quota_;
};

}  // namespace wsgate::testing
