// End-to-end tests of the cluster-quota flags (issue 19 item 3) on the real wsgate-engine
// binary: a bad --quota-store / --quota-fallback stops the start with a message naming the flag
// (exit 2), and --check-config checks them too (exit 1) without contacting the store.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/subprocess.h"

namespace {

using wsgate::testing::RunToEnd;

constexpr int kTimeoutMs = 15000;
const std::string kExample = WSGATE_SOURCE_DIR "/docs/examples/chats.textproto";

TEST(EngineQuotaFlags, ABadStoreOrFallbackStopsTheStartNamingTheFlag) {
  std::string out;
  EXPECT_EQ(RunToEnd({WSGATE_ENGINE, "--quota-store", "redis://cache:99999", "--ws-listen", "127.0.0.1:0",
                      "--admin-listen", ""},
                     kTimeoutMs, &out),
            2)
      << out;
  EXPECT_NE(out.find("--quota-store: 'redis://cache:99999' has a bad port (1-65535) (expected local, "
                     "redis://HOST:PORT[/DB] or unix:///PATH[?db=N])"),
            std::string::npos)
      << out;
  EXPECT_EQ(RunToEnd({WSGATE_ENGINE, "--quota-store", "redis://127.0.0.1:6379", "--quota-fallback", "fail-maybe",
                      "--ws-listen", "127.0.0.1:0", "--admin-listen", ""},
                     kTimeoutMs, &out),
            2)
      << out;
  EXPECT_NE(out.find("--quota-fallback: 'fail-maybe' is not one of fail-local, fail-open, fail-closed"),
            std::string::npos)
      << out;
}

TEST(EngineQuotaFlags, CheckConfigChecksTheQuotaFlagsWithoutContactingTheStore) {
  std::string out;
  EXPECT_EQ(RunToEnd({WSGATE_ENGINE, "--check-config", kExample, "--quota-store", "rediss://tls-cache:6380"},
                     kTimeoutMs, &out),
            1)
      << out;
  EXPECT_NE(out.find("--quota-store: 'rediss://tls-cache:6380' is not a store address"), std::string::npos) << out;
  // A good address that nothing listens on: valid (the check opens no socket).
  EXPECT_EQ(RunToEnd({WSGATE_ENGINE, "--check-config", kExample, "--quota-store", "redis://127.0.0.1:1/3",
                      "--quota-fallback", "fail-closed", "--quota-engines", "4"},
                     kTimeoutMs, &out),
            0)
      << out;
  EXPECT_NE(out.find("chats.textproto is ok"), std::string::npos) << out;
}

}  // namespace
