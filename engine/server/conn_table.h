// File: engine/server/conn_table.h
//
// A shard's connection slots: stable Conn addresses, a free list, and a generation per slot so a
// completion tagged for a slot's previous occupant is recognised as stale (io::Tag carries slot
// and generation). Allocate() hands out a reset Conn with the next generation; Release() takes a
// slot back exactly once (checked). Owned by one shard thread.
//
// Conns are allocated in chunks of kChunk (issue 20): no allocator header per connection, and the
// long-lived Conns are not interleaved on the heap with the handshakes' short-lived state, whose
// holes would stay resident between idle connections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/io/ring.h"
#include "engine/server/conn.h"

namespace wsgate::engine::server {

class ConnTable {
 public:
  // A fresh Conn (phase kFree, new generation), or nullptr when `live() >= limit`.
  Conn* Allocate(size_t limit);
  // The live connection a completion belongs to, or nullptr for a stale tag.
  Conn* Lookup(const io::Tag& tag) const;
  // Returns a slot to the free list. The connection must be marked kFree by the caller first and
  // must not have been released already.
  void Release(Conn& c);

  Conn& At(uint32_t slot) { return chunks_[slot / kChunk][slot % kChunk]; }
  const Conn& At(uint32_t slot) const { return chunks_[slot / kChunk][slot % kChunk]; }
  size_t live() const { return live_; }
  // Every slot, live or not, in slot order (for walks that happen per push, drain or shutdown).
  template <typename Fn>
  void ForEach(Fn&& fn) {
    for (uint32_t i = 0; i < size_; ++i) fn(At(i));
  }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (uint32_t i = 0; i < size_; ++i) fn(At(i));
  }

 private:
  static constexpr uint32_t kChunk = 64;
  std::vector<std::unique_ptr<Conn[]>> chunks_;
  uint32_t size_ = 0;  // slots made so far
  std::vector<uint32_t> free_;
  std::vector<bool> in_free_list_;  // checks Release() against double frees
  size_t live_ = 0;
};

}  // namespace wsgate::engine::server
