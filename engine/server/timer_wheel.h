// File: engine/server/timer_wheel.h
//
// A hashed timer wheel for per-connection deadlines: scheduling, cancelling and firing cost
// O(1) per timer, and advancing the clock costs the slots passed plus the timers that are due,
// never the number of connections. Each connection embeds one TimerNode holding its earliest
// deadline; when it fires, the shard works out what was due and schedules the next one.
//
//   TimerWheel wheel(/*resolution_ms=*/100, /*slots=*/1024, clock.NowMs());
//   wheel.Schedule(conn.timer, now + 10000);
//   wheel.Advance(clock.NowMs(), [&](TimerNode& n) { ... });   // n is unlinked when called
//
// A timer fires at the first Advance after its tick has wholly passed: at most one resolution
// late, never early, and an Advance within a tick already handled costs nothing (the shard
// advances after every completion batch). A deadline further away than one revolution
// (resolution × slots) stays in its slot and is skipped until its round comes. Intrusive and
// allocation-free after construction; not thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/common/check.h"

namespace wsgate::engine::server {

class TimerNode {
 public:
  TimerNode() = default;
  // A node is copied or moved only while unlinked (a connection slot being reset).
  TimerNode(const TimerNode& o) : owner(o.owner) { WSGATE_DCHECK(!o.linked()); }
  TimerNode& operator=(const TimerNode& o) {
    WSGATE_DCHECK(!linked() && !o.linked());
    owner = o.owner;
    return *this;
  }
  ~TimerNode() = default;

  bool linked() const { return next_ != nullptr; }
  int64_t due_ms() const { return due_ms_; }

  uint32_t owner = 0;  // the user's id for the node (a connection slot); not touched by the wheel

 private:
  friend class TimerWheel;
  TimerNode* prev_ = nullptr;
  TimerNode* next_ = nullptr;
  int64_t due_ms_ = 0;
};

class TimerWheel {
 public:
  TimerWheel(int64_t resolution_ms, size_t slots, int64_t now_ms)
      : resolution_ms_(resolution_ms), mask_(slots - 1), heads_(slots), tick_(now_ms / resolution_ms - 1) {
    WSGATE_CHECK(slots > 0 && (slots & (slots - 1)) == 0 && resolution_ms > 0);
    for (TimerNode& h : heads_) h.prev_ = h.next_ = &h;
  }
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // (Re)schedules `n` to fire at `due_ms`.
  void Schedule(TimerNode& n, int64_t due_ms) {
    if (n.linked()) Unlink(n);
    n.due_ms_ = due_ms;
    int64_t tick = std::max(due_ms / resolution_ms_, tick_ + 1);  // never into a slot already passed
    TimerNode& head = heads_[static_cast<size_t>(tick) & mask_];
    n.prev_ = head.prev_;
    n.next_ = &head;
    head.prev_->next_ = &n;
    head.prev_ = &n;
    ++size_;
  }
  // Schedules `n` at `due_ms` unless it is already due sooner.
  void ScheduleNoLater(TimerNode& n, int64_t due_ms) {
    if (!n.linked() || due_ms < n.due_ms_) Schedule(n, due_ms);
  }
  void Cancel(TimerNode& n) {
    if (n.linked()) Unlink(n);
  }

  // Fires the timers of every tick that has wholly passed by `now_ms` (so a timer fires at most
  // one resolution late, and an advance within the same tick as the last costs nothing), in slot
  // order; `fn(TimerNode&)` gets each one unlinked and may schedule it (or others) again.
  template <typename Fn>
  void Advance(int64_t now_ms, Fn&& fn) {
    int64_t target = now_ms / resolution_ms_ - 1;  // the last tick wholly passed
    if (target <= tick_) return;
    // Past one revolution, each slot is visited once.
    int64_t from = std::max(tick_ + 1, target - static_cast<int64_t>(mask_));
    due_.clear();
    for (int64_t t = from; t <= target; ++t) {
      TimerNode& head = heads_[static_cast<size_t>(t) & mask_];
      for (TimerNode* n = head.next_; n != &head;) {
        TimerNode* next = n->next_;
        if (n->due_ms_ <= now_ms) {  // else: a later revolution's timer hashed here
          Unlink(*n);
          due_.push_back(n);
        }
        n = next;
      }
    }
    tick_ = target;
    for (TimerNode* n : due_) fn(*n);
  }

  size_t size() const { return size_; }

 private:
  void Unlink(TimerNode& n) {
    n.prev_->next_ = n.next_;
    n.next_->prev_ = n.prev_;
    n.prev_ = n.next_ = nullptr;
    --size_;
  }

  int64_t resolution_ms_;
  size_t mask_;
  std::vector<TimerNode> heads_;  // sentinels of circular lists; never reallocated
  int64_t tick_;                  // the last tick wholly passed (its timers have fired)
  size_t size_ = 0;
  std::vector<TimerNode*> due_;
};

}  // namespace wsgate::engine::server
