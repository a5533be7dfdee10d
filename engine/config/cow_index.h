// File: engine/config/cow_index.h
//
// CowIndex<V>: a string-keyed index that compiled snapshots share copy-on-write, so a config
// delta costs the entries it touches, not the size of the index (issue 20, incremental apply).
// The keys are spread over a fixed number of buckets (a power of two chosen from the size at
// build time), each a flat_hash_map held by shared_ptr. Copying a CowIndex copies only the bucket
// pointers; Insert/Erase on the copy clone the one bucket they touch when another index still
// shares it, and every other bucket stays shared with the snapshot it came from.
//
//   CowIndex<ConsumerKey> keys;          // on the control thread, while building
//   keys.Reserve(n); keys.Insert(id, k);
//   CowIndex<ConsumerKey> next = keys;   // O(buckets): shares everything
//   next.Erase(id);                      // clones one bucket; `keys` is unchanged
//   if (const ConsumerKey* k = next.Find(id)) ...   // any thread, once published read-only
//
// A new credential kind is one CowIndex member of the Snapshot. Mutation is for the one thread
// that builds a snapshot; a published (const) index is read by every shard without locks.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::config {

// The value of a set-like index (CowSet).
struct Present {};

template <typename V>
class CowIndex {
 public:
  using Bucket = absl::flat_hash_map<std::string, V>;
  // Entries per bucket the index is sized for: a delta clones about this many.
  static constexpr size_t kTargetPerBucket = 256;
  static constexpr size_t kMinBuckets = 16;

  CowIndex() : buckets_(kMinBuckets) {}

  // Sizes an empty index for about `n` entries. Later growth only makes buckets fuller (lookups
  // stay O(1)); Insert re-buckets once they average 8 × kTargetPerBucket.
  void Reserve(size_t n) {
    if (size_ == 0) buckets_.assign(BucketsFor(n), nullptr);
  }

  const V* Find(std::string_view key) const {
    const auto& b = buckets_[BucketOf(key)];
    if (b == nullptr) return nullptr;
    auto it = b->find(common::Sv(key));
    return it == b->end() ? nullptr : &it->second;
  }
  bool contains(std::string_view key) const { return Find(key) != nullptr; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Inserts or replaces. Returns true when the key was new.
  bool Insert(std::string key, V value) {
    if (size_ >= buckets_.size() * kTargetPerBucket * 8) Rebucket(BucketsFor(size_ * 2));
    Bucket& b = Own(BucketOf(key));
    auto [it, fresh] = b.insert_or_assign(std::move(key), std::move(value));
    size_ += fresh ? 1 : 0;
    return fresh;
  }
  bool Insert(std::string key) { return Insert(std::move(key), V{}); }
  // Returns true when the key was there.
  bool Erase(std::string_view key) {
    size_t i = BucketOf(key);
    if (buckets_[i] == nullptr || !buckets_[i]->contains(common::Sv(key))) return false;
    Own(i).erase(common::Sv(key));
    --size_;
    return true;
  }

  // fn(const std::string& key, const V& value) for every entry, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& b : buckets_)
      if (b != nullptr)
        for (const auto& [k, v] : *b) fn(k, v);
  }

  // --- introspection for tests and benchmarks
  size_t bucket_count() const { return buckets_.size(); }
  // How many buckets this index shares (the same object) with `other`.
  size_t SharedBuckets(const CowIndex& other) const {
    size_t n = 0;
    for (size_t i = 0; i < buckets_.size() && i < other.buckets_.size(); ++i)
      n += buckets_[i] != nullptr && buckets_[i] == other.buckets_[i];
    return n;
  }

 private:
  static size_t BucketsFor(size_t n) {
    size_t want = n / kTargetPerBucket;
    return want <= kMinBuckets ? kMinBuckets : std::bit_ceil(want);
  }
  // The top bits of the hash: flat_hash_map itself uses the low ones, so each bucket's table
  // still sees well-spread hashes.
  size_t BucketOf(std::string_view key) const {
    uint64_t h = absl::Hash<absl::string_view>{}(common::Sv(key));
    return static_cast<size_t>(h >> (64 - std::countr_zero(buckets_.size()))) & (buckets_.size() - 1);
  }
  // The bucket for writing: created, or cloned when any other index (an older snapshot) holds
  // it. use_count() is exact here: only the building thread can add holders to this bucket.
  Bucket& Own(size_t i) {
    auto& b = buckets_[i];
    if (b == nullptr) b = std::make_shared<Bucket>();
    else if (b.use_count() > 1) b = std::make_shared<Bucket>(*b);
    return *b;
  }
  void Rebucket(size_t count) {
    std::vector<std::shared_ptr<Bucket>> old(count);
    old.swap(buckets_);
    size_ = 0;
    for (auto& b : old)
      if (b != nullptr)
        for (const auto& [k, v] : *b) Insert(k, v);
  }

  std::vector<std::shared_ptr<Bucket>> buckets_;
  size_t size_ = 0;
};

using CowSet = CowIndex<Present>;

}  // namespace wsgate::engine::config
