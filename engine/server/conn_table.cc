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
    c = conns_[slot].get();
  } else {
    conns_.push_back(std::make_unique<Conn>());
    in_free_list_.push_back(false);
    c = conns_.back().get();
    c->slot = static_cast<uint32_t>(conns_.size() - 1);
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
  if (tag.slot >= conns_.size()) return nullptr;
  Conn* c = conns_[tag.slot].get();
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
