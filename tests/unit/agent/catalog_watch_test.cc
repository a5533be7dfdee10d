// Several agents on one PostgreSQL catalog (issue 19 item 2): a data-plane change committed
// through one Catalog reaches every other Catalog's change listener (its pusher) within a second
// by LISTEN/NOTIFY, and within the fallback period (2 s) when a notification is missed. Runs as
// agent_catalog_watch_test_postgres; the SQLite run skips (one agent per data directory there).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "agent/catalog.h"
#include "tests/support/local_server.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

using Clock = std::chrono::steady_clock;

// The versions a Catalog's listener was called with.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> versions;
  void Add(uint64_t v) {
    std::lock_guard lock(mu);
    versions.push_back(v);
    cv.notify_all();
  }
  bool WaitFor(uint64_t v, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return std::count(versions.begin(), versions.end(), v) > 0; });
  }
  std::vector<uint64_t> Get() {
    std::lock_guard lock(mu);
    return versions;
  }
};

class CatalogWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    if (!::wsgate::testing::TestCatalogIsPostgres())
      GTEST_SKIP() << "PostgreSQL only: a SQLite catalog has one agent (its data directory is locked)";
    dir_ = ::wsgate::testing::MakeTempDir("wsgate-watch-");
    target_ = ::wsgate::testing::TestCatalogTarget(dir_);
    for (auto* c : {&a_, &b_}) {
      auto opened = Catalog::Open(target_, CatalogOptions());
      ASSERT_TRUE(opened.ok()) << opened.status();
      *c = *std::move(opened);
    }
    a_->SetChangeListener([this](uint64_t v) { seen_a_.Add(v); });
    b_->SetChangeListener([this](uint64_t v) { seen_b_.Add(v); });
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    ::wsgate::testing::RemoveTree(dir_);
  }
  static v1::ThrottlePolicy Policy(const std::string& name) {
    v1::ThrottlePolicy p;
    p.set_name(name);
    p.set_events(10);
    p.set_unit(v1::MINUTE);
    return p;
  }

  std::string dir_, target_;
  std::unique_ptr<Catalog> a_, b_;
  Seen seen_a_, seen_b_;
};

TEST_F(CatalogWatchTest, AChangeThroughEitherAgentReachesTheOtherWithinASecond) {
  Clock::time_point start = Clock::now();
  ASSERT_TRUE(a_->CreatePolicy(Policy("TenPerMinute")).ok());
  uint64_t v = a_->config_version();
  ASSERT_TRUE(seen_b_.WaitFor(v, std::chrono::milliseconds(1000))) << "agent B never heard of version " << v;
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000));
  // B's snapshot (what its engines get) has A's change.
  auto snap = b_->BuildSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->version(), v);
  EXPECT_TRUE(std::any_of(snap->throttle_policies().begin(), snap->throttle_policies().end(),
                          [](const v1::ThrottlePolicy& p) { return p.name() == "TenPerMinute"; }));

  // And back: B's change reaches A.
  ASSERT_TRUE(b_->CreatePolicy(Policy("AlsoTen")).ok());
  uint64_t w = b_->config_version();
  EXPECT_EQ(w, v + 1);
  ASSERT_TRUE(seen_a_.WaitFor(w, std::chrono::milliseconds(1000)));
  // Each agent's listener heard each version once: its own commit, not again from its NOTIFY.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(seen_a_.Get(), (std::vector<uint64_t>{v, w}));
  EXPECT_EQ(seen_b_.Get(), (std::vector<uint64_t>{v, w}));
}

// Mutations through different agents run one after the other: the 5-revision limit holds when
// two agents create revisions of one API at once.
TEST_F(CatalogWatchTest, ConcurrentMutationsThroughTwoAgentsKeepTheRules) {
  v1::ApiSpec spec;
  spec.set_name("Chats");
  spec.set_context("/chats");
  spec.set_version("1.0.0");
  spec.mutable_production_endpoint()->set_url("ws://localhost:8080");
  ASSERT_TRUE(a_->CreateApi(spec).ok());
  std::mutex mu;
  int created = 0, refused = 0;
  std::vector<std::string> other;
  auto run = [&](Catalog* c) {
    for (int i = 0; i < 4; ++i) {
      absl::StatusOr<v1::Revision> r = c->CreateRevision("Chats:1.0.0", "");
      std::lock_guard lock(mu);
      if (r.ok())
        ++created;
      else if (absl::IsResourceExhausted(r.status()))
        ++refused;
      else
        other.push_back(r.status().ToString());
    }
  };
  std::thread ta(run, a_.get()), tb(run, b_.get());
  ta.join();
  tb.join();
  EXPECT_EQ(created, 5);
  EXPECT_EQ(refused, 3);
  EXPECT_TRUE(other.empty()) << other[0];
  auto revisions = b_->ListRevisions("Chats:1.0.0");
  ASSERT_TRUE(revisions.ok()) << revisions.status();
  EXPECT_EQ(revisions->size(), 5u);
}

TEST_F(CatalogWatchTest, AMissedNotificationIsCaughtByThePeriodicCheck) {
  // A commit that notifies nobody (as if the notification were lost): only the check finds it.
  {
    Db db;
    ASSERT_TRUE(db.Open(target_).ok());
    ASSERT_TRUE(db.Exec("UPDATE meta SET value = CAST(value AS BIGINT) + 1 WHERE key = 'config_version'").ok());
  }
  uint64_t v = a_->config_version();
  Clock::time_point start = Clock::now();
  ASSERT_TRUE(seen_b_.WaitFor(v, std::chrono::milliseconds(3000)));
  EXPECT_TRUE(seen_a_.WaitFor(v, std::chrono::milliseconds(3000)));
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2600));
}

}  // namespace
}  // namespace wsgate::agent
