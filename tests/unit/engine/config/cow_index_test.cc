// Unit tests for engine/config/cow_index.h: insert/erase/lookup, a copy that changes leaves the
// original as it was, and how much two copies share after a change.
#include "engine/config/cow_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace wsgate::engine::config {
namespace {

TEST(CowIndex, InsertFindEraseAndSize) {
  CowIndex<int> idx;
  EXPECT_TRUE(idx.empty());
  EXPECT_EQ(idx.Find("a"), nullptr);
  EXPECT_TRUE(idx.Insert("a", 1));
  EXPECT_TRUE(idx.Insert("b", 2));
  EXPECT_FALSE(idx.Insert("a", 3)) << "a replacement is not a new key";
  ASSERT_NE(idx.Find("a"), nullptr);
  EXPECT_EQ(*idx.Find("a"), 3);
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_TRUE(idx.Erase("a"));
  EXPECT_FALSE(idx.Erase("a"));
  EXPECT_FALSE(idx.contains("a"));
  EXPECT_TRUE(idx.contains("b"));
  EXPECT_EQ(idx.size(), 1u);
  CowSet set;
  set.Insert("jti-1");
  EXPECT_TRUE(set.contains("jti-1"));
  EXPECT_FALSE(set.contains("jti-2"));
}

TEST(CowIndex, ACopyThatChangesLeavesTheOriginalUnchanged) {
  CowIndex<std::string> base;
  base.Reserve(100000);
  for (int i = 0; i < 100000; ++i) base.Insert("key-" + std::to_string(i), "v" + std::to_string(i));
  CowIndex<std::string> next = base;
  EXPECT_EQ(next.SharedBuckets(base), base.bucket_count()) << "a copy shares every bucket";
  next.Erase("key-7");
  next.Insert("key-8", "changed");
  next.Insert("key-new", "fresh");
  EXPECT_EQ(*base.Find("key-7"), "v7");
  EXPECT_EQ(*base.Find("key-8"), "v8");
  EXPECT_EQ(base.Find("key-new"), nullptr);
  EXPECT_EQ(base.size(), 100000u);
  EXPECT_EQ(next.Find("key-7"), nullptr);
  EXPECT_EQ(*next.Find("key-8"), "changed");
  EXPECT_EQ(*next.Find("key-new"), "fresh");
  EXPECT_EQ(next.size(), 100000u);
  // Three keys touched: at most three buckets cloned, the rest still the same objects.
  EXPECT_GE(next.SharedBuckets(base), base.bucket_count() - 3);
  EXPECT_LT(next.SharedBuckets(base), base.bucket_count());
  EXPECT_GE(base.bucket_count(), 100000 / CowIndex<std::string>::kTargetPerBucket / 2);
}

TEST(CowIndex, AnUnsharedBucketIsChangedInPlace) {
  CowIndex<int> idx;
  idx.Insert("a", 1);
  {
    CowIndex<int> older = idx;  // shares, then goes away (an old snapshot released by the shards)
  }
  CowIndex<int> same = idx;
  same.Insert("b", 2);  // clones: `idx` still holds it
  idx = same;
  same = CowIndex<int>();
  idx.Insert("c", 3);  // no other holder now: no clone needed, and the result is right either way
  EXPECT_EQ(*idx.Find("a"), 1);
  EXPECT_EQ(*idx.Find("b"), 2);
  EXPECT_EQ(*idx.Find("c"), 3);
}

TEST(CowIndex, GrowingPastItsSizeRebucketsAndKeepsEverything) {
  CowIndex<int> idx;  // sized for nothing
  for (int i = 0; i < 50000; ++i) idx.Insert(std::to_string(i), i);
  EXPECT_GT(idx.bucket_count(), CowIndex<int>::kMinBuckets);
  for (int i = 0; i < 50000; ++i) {
    const int* v = idx.Find(std::to_string(i));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, i);
  }
}

TEST(CowIndex, RandomOperationsMatchAStdMapAndOldVersionsStayIntact) {
  std::mt19937 rng(20);
  CowIndex<int> idx;
  std::map<std::string, int> model;
  std::vector<std::pair<CowIndex<int>, std::map<std::string, int>>> versions;
  for (int step = 0; step < 20000; ++step) {
    std::string key = "k" + std::to_string(rng() % 3000);
    if (rng() % 3 == 0) {
      EXPECT_EQ(idx.Erase(key), model.erase(key) == 1);
    } else {
      int v = static_cast<int>(rng() % 1000);
      EXPECT_EQ(idx.Insert(key, v), !model.contains(key));
      model[key] = v;
    }
    if (step % 2000 == 0) versions.emplace_back(idx, model);
  }
  versions.emplace_back(idx, model);
  for (const auto& [index, expected] : versions) {
    EXPECT_EQ(index.size(), expected.size());
    size_t seen = 0;
    index.ForEach([&](const std::string& k, int v) {
      ++seen;
      auto it = expected.find(k);
      ASSERT_NE(it, expected.end()) << k;
      EXPECT_EQ(it->second, v) << k;
    });
    EXPECT_EQ(seen, expected.size());
  }
}

}  // namespace
}  // namespace wsgate::engine::config
