// Unit tests for engine/config/incremental: a delta applied to the compiled snapshot answers
// every lookup the way compiling the merged proto snapshot does (random deltas, chained), keeps
// the snapshot it came from unchanged, shares what it did not touch, and is refused like
// MergeDelta refuses.
#include "engine/config/incremental.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "engine/config/compile.h"
#include "engine/config/delta.h"
#include "engine/tls/crypto.h"

namespace wsgate::engine::config {
namespace {

constexpr int kApps = 12;
constexpr int kApis = 4;

std::string App(int i) { return "app" + std::to_string(i); }
std::string ApiId(int i) { return "api" + std::to_string(i); }
std::string Hash(int i) {
  std::string h(32, 'h');
  h.replace(0, std::to_string(i).size(), std::to_string(i));
  return h;
}

const std::string& Pem(int i) {
  static const std::string pems[2] = {
      (*tls::PrivateKey::Generate(tls::SignatureAlgorithm::kEs256))->PublicKeyPem(),
      (*tls::PrivateKey::Generate(tls::SignatureAlgorithm::kEs256))->PublicKeyPem()};
  return pems[i % 2];
}

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  v1::Subscription Sub(int id) {
    v1::Subscription s;
    s.set_id("sub" + std::to_string(id));
    // Mostly one subscription per (application, API), sometimes a second one of a pair.
    s.set_application_id(App(id % kApps));
    s.set_api_id(ApiId(Pick(20) == 0 ? Pick(kApis) : (id / kApps) % kApis));
    s.set_plan(Pick(2) ? "Gold" : "");
    s.set_state(Pick(4) == 0 ? v1::BLOCKED_PRODUCTION : v1::ACTIVE);
    return s;
  }
  v1::ConsumerKey Key(int id) {
    v1::ConsumerKey k;
    k.set_client_id("client" + std::to_string(id));
    k.set_application_id(Pick(50) == 0 ? "no-such-app" : App(Pick(kApps)));  // sometimes refused
    k.set_key_type(Pick(2) ? v1::SANDBOX : v1::PRODUCTION);
    return k;
  }
  v1::OpaqueToken Token(int id) {
    v1::OpaqueToken t;
    t.set_sha256(Hash(id));
    t.set_client_id("client" + std::to_string(Pick(60)));
    t.set_expires_unix_s(1000 + Pick(100));
    t.add_scopes(Pick(2) ? "read" : "write");
    return t;
  }
  v1::SigningKey Signing(int id) {
    v1::SigningKey k;
    k.set_kid("kid" + std::to_string(id));
    k.set_algorithm(v1::ES256);
    k.set_public_key_pem(Pem(Pick(2)));
    k.set_retire_after_unix_s(Pick(1000));
    return k;
  }

  v1::Snapshot Base() {
    v1::Snapshot s;
    s.set_agent_id("agent");
    s.set_version(1);
    auto* p = s.add_throttle_policies();
    p->set_name("Gold");
    p->set_events(50000);
    p->set_unit(v1::DAY);
    for (int i = 0; i < kApps; ++i) s.add_applications()->set_id(App(i));
    for (int i = 0; i < 40; ++i) *s.add_subscriptions() = Sub(i);
    for (int i = 0; i < 60; ++i) {
      v1::ConsumerKey k = Key(i);
      k.set_application_id(App(i % kApps));
      *s.add_consumer_keys() = k;
    }
    for (int i = 0; i < 30; ++i) *s.add_opaque_tokens() = Token(i);
    for (int i = 0; i < 20; ++i) s.add_revoked_tokens()->set_jti("jti" + std::to_string(i));
    for (int i = 0; i < 3; ++i) *s.add_signing_keys() = Signing(i);
    return s;
  }

  v1::ApplyDeltaRequest Delta(uint64_t base_version) {
    v1::ApplyDeltaRequest d;
    d.set_agent_id("agent");
    d.set_base_version(base_version);
    d.set_version(base_version + 1 + static_cast<uint64_t>(Pick(3)));
    int ops = 1 + Pick(6);
    for (int i = 0; i < ops; ++i) {
      switch (Pick(9)) {
        case 0: d.add_add_revoked_tokens()->set_jti("jti" + std::to_string(Pick(60))); break;
        case 1: *d.add_add_opaque_tokens() = Token(Pick(50)); break;
        case 2: d.add_remove_opaque_token_sha256(Hash(Pick(50))); break;
        case 3: *d.add_upsert_subscriptions() = Sub(Pick(60)); break;
        case 4: d.add_remove_subscription_ids("sub" + std::to_string(Pick(60))); break;
        case 5: *d.add_upsert_consumer_keys() = Key(Pick(80)); break;
        case 6: d.add_remove_client_ids("client" + std::to_string(Pick(80))); break;
        case 7: *d.add_upsert_signing_keys() = Signing(Pick(6)); break;
        case 8: d.add_remove_kids("kid" + std::to_string(Pick(6))); break;
      }
    }
    return d;
  }

 private:
  std::mt19937 rng_;
};

// Every lookup the data path makes, over every key the generator can produce.
void ExpectSameLookups(const Snapshot& got, const Snapshot& want, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.consumer_keys.size(), want.consumer_keys.size());
  EXPECT_EQ(got.opaque_tokens.size(), want.opaque_tokens.size());
  EXPECT_EQ(got.revoked_jtis.size(), want.revoked_jtis.size());
  EXPECT_EQ(got.signing_keys.size(), want.signing_keys.size());
  EXPECT_EQ(got.subscriptions.size(), want.subscriptions.size());
  for (int i = 0; i < 80; ++i) {
    std::string id = "client" + std::to_string(i);
    const ConsumerKey *a = got.consumer_keys.Find(id), *b = want.consumer_keys.Find(id);
    ASSERT_EQ(a == nullptr, b == nullptr) << id;
    if (a != nullptr) {
      EXPECT_TRUE(a->application_id == b->application_id && a->key_type == b->key_type) << id;
    }
  }
  for (int i = 0; i < 50; ++i) {
    const OpaqueToken *a = got.opaque_tokens.Find(Hash(i)), *b = want.opaque_tokens.Find(Hash(i));
    ASSERT_EQ(a == nullptr, b == nullptr) << i;
    if (a != nullptr) {
      EXPECT_TRUE(a->client_id == b->client_id && a->expires_unix_s == b->expires_unix_s && a->scopes == b->scopes) << i;
    }
  }
  for (int i = 0; i < 60; ++i) {
    std::string jti = "jti" + std::to_string(i);
    EXPECT_EQ(got.revoked_jtis.contains(jti), want.revoked_jtis.contains(jti)) << jti;
  }
  for (int i = 0; i < 6; ++i) {
    std::string kid = "kid" + std::to_string(i);
    const SigningKey *a = got.signing_keys.Find(kid), *b = want.signing_keys.Find(kid);
    ASSERT_EQ(a == nullptr, b == nullptr) << kid;
    if (a != nullptr) {
      EXPECT_EQ(a->retire_after_unix_s, b->retire_after_unix_s) << kid;
    }
  }
  for (int app = 0; app < kApps; ++app)
    for (int api = 0; api < kApis; ++api) {
      const Subscription *a = got.FindSubscription(App(app), ApiId(api)), *b = want.FindSubscription(App(app), ApiId(api));
      ASSERT_EQ(a == nullptr, b == nullptr) << App(app) << "/" << ApiId(api);
      if (a != nullptr) {
        EXPECT_TRUE(a->id == b->id && a->plan == b->plan && a->state == b->state) << a->id;
      }
    }
}

TEST(ApplyCompiledDelta, RandomDeltasGiveTheLookupsOfTheCompiledMergedSnapshot) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    Gen gen(seed);
    v1::Snapshot proto = gen.Base();
    const v1::Snapshot base_proto = proto;
    auto first = Compile(proto);
    ASSERT_TRUE(first.ok()) << first.status();
    std::shared_ptr<const Snapshot> current = *first;
    int applied = 0, refused = 0, recompiled = 0;
    for (int step = 0; step < 150; ++step) {
      v1::ApplyDeltaRequest d = gen.Delta(proto.version());
      std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step) + ": " + d.ShortDebugString();
      auto merged = MergeDelta(proto, d);
      ASSERT_TRUE(merged.ok()) << where;
      auto want = Compile(*merged);
      auto got = ApplyCompiledDelta(*current, d);
      std::shared_ptr<const Snapshot> next;
      if (got.ok() && *got == nullptr) {  // the server merges and recompiles then: `want` is the outcome
        ++recompiled;
        if (!want.ok()) continue;
        next = *want;
      } else {
        ASSERT_EQ(got.ok(), want.ok()) << where << "\nincremental: " << got.status() << "\ncompile: " << want.status();
        if (!got.ok()) {
          EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << where;
          ++refused;
          continue;  // both refuse: the engine keeps the current snapshot
        }
        next = *got;
        ++applied;
      }
      ExpectSameLookups(*next, **want, where);
      if (::testing::Test::HasFatalFailure()) return;
      proto = *std::move(merged);
      current = next;
    }
    EXPECT_GT(applied, 50) << "seed " << seed;
    EXPECT_GT(refused + recompiled, 0) << "seed " << seed << ": the generator should reach the other paths too";
    // The first snapshot is untouched by everything derived from it.
    ExpectSameLookups(**first, **Compile(base_proto), "the first snapshot");
  }
}

TEST(ApplyCompiledDelta, ARevocationClonesOneBucketAndSharesTheRest) {
  v1::Snapshot proto;
  proto.set_agent_id("agent");
  proto.set_version(3);
  proto.add_applications()->set_id("app");
  for (int i = 0; i < 20000; ++i) {
    auto* k = proto.add_consumer_keys();
    k->set_client_id("client" + std::to_string(i));
    k->set_application_id("app");
    proto.add_revoked_tokens()->set_jti("old" + std::to_string(i));
  }
  auto base = Compile(proto);
  ASSERT_TRUE(base.ok()) << base.status();
  v1::ApplyDeltaRequest d;
  d.set_agent_id("agent");
  d.set_base_version(3);
  d.set_version(4);
  d.add_add_revoked_tokens()->set_jti("jti-new");
  d.add_remove_client_ids("client17");
  auto next = ApplyCompiledDelta(**base, d);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_NE(*next, nullptr);
  const Snapshot& a = **base;
  const Snapshot& b = **next;
  EXPECT_EQ(b.version, 4u);
  EXPECT_TRUE(b.revoked_jtis.contains("jti-new"));
  EXPECT_FALSE(a.revoked_jtis.contains("jti-new"));
  EXPECT_EQ(b.consumer_keys.Find("client17"), nullptr);
  EXPECT_NE(a.consumer_keys.Find("client17"), nullptr);
  EXPECT_EQ(b.consumer_keys.SharedBuckets(a.consumer_keys), a.consumer_keys.bucket_count() - 1);
  EXPECT_EQ(b.revoked_jtis.SharedBuckets(a.revoked_jtis), a.revoked_jtis.bucket_count() - 1);
  EXPECT_EQ(b.applications.SharedBuckets(a.applications), 1u) << "the one application's bucket is shared";
}

TEST(ApplyCompiledDelta, IsRefusedLikeMergeDelta) {
  v1::Snapshot proto;
  proto.set_agent_id("agent");
  proto.set_version(4);
  proto.add_applications()->set_id("app");
  auto base = Compile(proto);
  ASSERT_TRUE(base.ok());
  v1::ApplyDeltaRequest d;
  d.set_agent_id("agent");
  d.set_base_version(3);
  d.set_version(5);
  EXPECT_EQ(ApplyCompiledDelta(**base, d).status().code(), absl::StatusCode::kFailedPrecondition);
  d.set_base_version(4);
  d.set_agent_id("other");
  EXPECT_EQ(ApplyCompiledDelta(**base, d).status().code(), absl::StatusCode::kFailedPrecondition);
  d.set_agent_id("agent");
  d.set_version(4);
  EXPECT_EQ(ApplyCompiledDelta(**base, d).status().code(), absl::StatusCode::kInvalidArgument);
  d.set_version(5);
  auto* k = d.add_upsert_consumer_keys();
  k->set_client_id("c");
  k->set_application_id("nope");
  auto r = ApplyCompiledDelta(**base, d);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "upsert_consumer_keys[0].application_id: unknown application 'nope'");
  d.clear_upsert_consumer_keys();
  d.add_add_opaque_tokens()->set_sha256("short");
  EXPECT_EQ(ApplyCompiledDelta(**base, d).status().message(), "add_opaque_tokens[0].sha256: must be 32 bytes");
}

}  // namespace
}  // namespace wsgate::engine::config
