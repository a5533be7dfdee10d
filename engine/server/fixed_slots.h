// File: engine/server/fixed_slots.h
//
// A shard's fixed-file indexes (direct descriptors, issue 20): which entries of its ring's
// fixed-file table are free. The loop takes one per socket it installs and gives it back only
// when the ring's close of that entry has completed (or, when the close could not be queued,
// after emptying the entry at once), so an index is never reused while an op may still name it.
// Release() checks an index is given back exactly once. Owned by one shard thread.
#pragma once

#include <cstdint>
#include <vector>

namespace wsgate::engine::server {

class FixedSlots {
 public:
  explicit FixedSlots(unsigned capacity = 0) { Reset(capacity); }
  // Every index in [0, capacity) free again.
  void Reset(unsigned capacity);
  // A free index (lowest first on a fresh table), or -1 when every one is taken.
  int Take();
  // Gives `index` back; it must be taken (aborts on a second release).
  void Release(unsigned index);

  unsigned capacity() const { return static_cast<unsigned>(taken_.size()); }
  unsigned in_use() const { return capacity() - static_cast<unsigned>(free_.size()); }

 private:
  std::vector<uint32_t> free_;  // a stack: the most recently released index is reused first
  std::vector<bool> taken_;
};

}  // namespace wsgate::engine::server
