// Unit tests for the pusher's choice between ApplyDelta and ApplySnapshot (agent/pusher.h,
// issue 20) against a fake engine control service on a Unix socket: the first push and a
// non-credential change go in full, a new consumer key goes as a delta on the acknowledged
// version, and a delta the engine refuses with FAILED_PRECONDITION is followed by the full
// snapshot.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>

#include "agent/pusher.h"
#include "tests/unit/agent/catalog_fixture.h"
#include "wsgate/v1/engine.grpc.pb.h"

namespace wsgate::agent {
namespace {

class FakeEngine final : public v1::EngineControl::Service {
 public:
  grpc::Status ApplySnapshot(grpc::ServerContext*, const v1::ApplySnapshotRequest* req, v1::ApplyResponse* resp) override {
    std::lock_guard lock(mu_);
    ++full_;
    agent_ = req->snapshot().agent_id();
    version_ = req->snapshot().version();
    resp->set_applied_version(version_);
    return grpc::Status::OK;
  }
  grpc::Status ApplyDelta(grpc::ServerContext*, const v1::ApplyDeltaRequest* req, v1::ApplyResponse* resp) override {
    std::lock_guard lock(mu_);
    ++deltas_;
    if (refuse_deltas_ || req->base_version() != version_ || req->agent_id() != agent_)
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not my base; send a full snapshot");
    version_ = req->version();
    last_delta_ = *req;
    resp->set_applied_version(version_);
    return grpc::Status::OK;
  }
  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*, v1::EngineStatus* status) override {
    std::lock_guard lock(mu_);
    status->set_engine_id("fake");
    status->set_agent_id(agent_);
    status->set_applied_version(version_);
    return grpc::Status::OK;
  }
  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*, v1::EngineStats*) override {
    return grpc::Status::OK;
  }

  std::mutex mu_;
  int full_ = 0, deltas_ = 0;
  bool refuse_deltas_ = false;
  std::string agent_;
  uint64_t version_ = 0;
  v1::ApplyDeltaRequest last_delta_;
};

class PusherDeltaTest : public CatalogFixture {
 protected:
  void SetUp() override {
    CatalogFixture::SetUp();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_ + "/engine.sock", grpc::InsecureServerCredentials());
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    pusher_ = std::make_unique<Pusher>(*catalog_, std::vector<EngineTarget>{{"unix:" + dir_ + "/engine.sock", "Production and Sandbox"}});
    catalog_->SetChangeListener([this](uint64_t) { pusher_->Notify(); });
    pusher_->Start();
  }
  void TearDown() override {
    pusher_.reset();
    server_->Shutdown();
    CatalogFixture::TearDown();
  }
  // Waits until the fake engine applied the catalog's current version; returns (full, deltas).
  std::pair<int, int> Settle() {
    EXPECT_TRUE(pusher_->WaitForVersion(catalog_->config_version(), 10000)) << catalog_->config_version();
    std::lock_guard lock(fake_.mu_);
    EXPECT_EQ(fake_.version_, catalog_->config_version());
    return {fake_.full_, fake_.deltas_};
  }

  FakeEngine fake_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Pusher> pusher_;
};

TEST_F(PusherDeltaTest, CredentialChangesGoAsDeltasAndARefusedBaseFallsBackToTheFullSnapshot) {
  EXPECT_EQ(Settle(), std::make_pair(1, 0)) << "the first push is a full snapshot";
  v1::CreateApplicationRequest app;
  app.set_name("ChatApp");
  ASSERT_TRUE(catalog_->CreateApplication(app).ok());
  EXPECT_EQ(Settle(), std::make_pair(2, 0)) << "a new application is not a credential: full snapshot";

  auto keys = catalog_->GenerateKeys("ChatApp", v1::PRODUCTION, false);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(Settle(), std::make_pair(2, 1)) << "a new consumer key: one delta";
  {
    std::lock_guard lock(fake_.mu_);
    ASSERT_EQ(fake_.last_delta_.upsert_consumer_keys_size(), 1);
    EXPECT_EQ(fake_.last_delta_.upsert_consumer_keys(0).client_id(), keys->consumer_key());
    fake_.refuse_deltas_ = true;
  }
  ASSERT_TRUE(catalog_->RotateSigningKey(v1::ES256).ok());
  EXPECT_EQ(Settle(), std::make_pair(3, 2)) << "the refused delta, then the full snapshot";
}

}  // namespace
}  // namespace wsgate::agent
