// File: engine/server/segment_queue.h
//
// A FIFO of send segments backed by a power-of-two circular array that grows by doubling and
// never shrinks. Unlike std::deque it allocates nothing per message once a connection has seen
// its peak queue depth, which keeps the relay path free of heap allocation.
//
// Growing moves the elements: anything that must outlive a push (the bytes a send in flight
// points at) must not live inside an element. Owned by one Pipe; not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace wsgate::engine::server {

template <typename T>
class SegmentQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  T& front() { return slots_[head_]; }
  T& operator[](size_t i) { return slots_[(head_ + i) & (capacity_ - 1)]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(T value) {
    if (size_ == capacity_) Grow();
    slots_[(head_ + size_) & (capacity_ - 1)] = std::move(value);
    ++size_;
  }
  void pop_front() {
    Release(slots_[head_]);
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
  }
  void pop_back() {
    --size_;
    Release(slots_[(head_ + size_) & (capacity_ - 1)]);
  }
  void clear() {
    while (size_ > 0) pop_front();
    head_ = 0;
  }
  // Frees the slots of an empty queue (the next push allocates again).
  void shrink() {
    if (size_ != 0) return;
    slots_.reset();
    capacity_ = 0;
    head_ = 0;
  }

 private:
  // Frees what a popped element owned. Assigning T() is not enough: a std::string assigned an
  // empty one keeps its heap buffer (libstdc++), so every idle connection kept the bytes of its
  // upgrade request and 101 (~600 bytes) in its queues' slots. Moving out and destroying frees it.
  static void Release(T& slot) {
    { T gone = std::move(slot); }
    slot = T();
  }
  void Grow() {
    // Start small: an idle connection's queues stay at two slots; a busy one doubles to its peak.
    size_t capacity = capacity_ == 0 ? 2 : capacity_ * 2;
    std::unique_ptr<T[]> slots(new T[capacity]);
    for (size_t i = 0; i < size_; ++i) slots[i] = std::move((*this)[i]);
    slots_ = std::move(slots);
    capacity_ = capacity;
    head_ = 0;
  }

  std::unique_ptr<T[]> slots_;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace wsgate::engine::server
