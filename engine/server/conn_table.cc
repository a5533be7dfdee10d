// File: engine/server/conn_table.cc
#include "engine/server/conn_table.h"

#include "engine/common/check.h"

namespace wsgate::engine::server {

Conn* ConnTable::Allocate(size_t limit) {
  if (live_ >= limit) return nullptr;
  Conn* c;
  if (!free_.empty()) {
    uint32_t slot = free_.back();
    free_.pop_back();
    in_free_list_[slot] = false;
    c = &At(slot);
  } else {
    if (size_ % kChunk == 0) chunks_.push_back(std::make_unique<Conn[]>(kChunk));
    in_free_list_.push_back(false);
    c = &At(size_);
    c->slot = size_++;
  }
  WSGATE_CHECK_MSG(c->phase == Phase::kFree && !c->timer.linked(), "allocating a connection slot that is in use");
  uint32_t slot = c->slot, generation = (c->generation + 1) & 0xFFFFFF;
  *c = Conn();
  c->slot = slot;
  c->generation = generation;
  c->timer.owner = slot;
  ++live_;
  return c;
}

Conn* ConnTable::Lookup(const io::Tag& tag) const {
  if (tag.slot >= size_) return nullptr;
  Conn* c = &chunks_[tag.slot / kChunk][tag.slot % kChunk];  // the table is const, not its Conns
  if (c->generation != tag.generation || c->phase == Phase::kFree) return nullptr;
  return c;
}

void ConnTable::Release(Conn& c) {
  WSGATE_CHECK_MSG(c.phase == Phase::kFree && c.inflight == 0, "releasing a connection that is still live");
  WSGATE_CHECK_MSG(!in_free_list_[c.slot], "connection slot released twice");
  in_free_list_[c.slot] = true;
  free_.push_back(c.slot);
  --live_;
}

}  // namespace wsgate::engine::server
