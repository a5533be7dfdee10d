// File: engine/server/fixed_slots.cc
#include "engine/server/fixed_slots.h"

#include "engine/common/check.h"

namespace wsgate::engine::server {

void FixedSlots::Reset(unsigned capacity) {
  taken_.assign(capacity, false);
  free_.clear();
  free_.reserve(capacity);
  for (unsigned i = capacity; i > 0; --i) free_.push_back(i - 1);
}

int FixedSlots::Take() {
  if (free_.empty()) return -1;
  uint32_t index = free_.back();
  free_.pop_back();
  taken_[index] = true;
  return static_cast<int>(index);
}

void FixedSlots::Release(unsigned index) {
  WSGATE_CHECK_MSG(index < taken_.size(), "releasing a fixed-file index outside the table");
  WSGATE_CHECK_MSG(taken_[index], "fixed-file index released twice");
  taken_[index] = false;
  free_.push_back(index);
}

}  // namespace wsgate::engine::server
