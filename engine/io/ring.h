// File: engine/io/ring.h
//
// A shard's io_uring and its provided-buffer ring: the only code in wsgate that includes
// <liburing.h>. Everything above talks in "prepare this op with this tag" and "here is a
// completion", so the shard logic reads as a state machine, not as SQE plumbing.
//
// User data layout (64 bits), so a stale completion can never reach a reused connection slot:
//
//   63      56 55                  32 31                                0
//   +---------+----------------------+-----------------------------------+
//   |   op    |  generation (24 bit) |             slot (32 bit)         |
//   +---------+----------------------+-----------------------------------+
//
// Buffers: `count` buffers of `size` bytes registered as buffer group `group`. A multishot recv
// picks one per completion; the shard hands it back with Recycle() once every byte that
// referenced it has been sent. Buffer lifecycle: kernel-owned (in the ring) → completion (owned
// by the shard, referenced by queued send segments) → Recycle() → kernel-owned.
//
// Owned by one shard thread (IORING_SETUP_SINGLE_ISSUER); not thread-safe.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace wsgate::engine::io {

struct Tag {
  uint8_t op = 0;
  uint32_t generation = 0;  // 24 bits used
  uint32_t slot = 0;

  uint64_t Encode() const {
    return (uint64_t{op} << 56) | (uint64_t{generation & 0xFFFFFF} << 32) | slot;
  }
  static Tag Decode(uint64_t v) {
    return Tag{static_cast<uint8_t>(v >> 56), static_cast<uint32_t>((v >> 32) & 0xFFFFFF), static_cast<uint32_t>(v)};
  }
};

struct RingOptions {
  unsigned entries = 4096;
  unsigned buffer_count = 4096;   // power of two
  unsigned buffer_size = 16384;
  uint16_t buffer_group = 1;
};

class Ring {
 public:
  Ring() = default;
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Sets the ring up with SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them (falls back
  // otherwise), and registers the buffer ring.
  absl::Status Init(const RingOptions& options);
  // Which setup flags the kernel accepted, for the log.
  std::string Describe() const;

  // Preparation. Each returns false only if the submission queue is full even after a submit.
  bool PrepMultishotAccept(int listen_fd, Tag tag);
  bool PrepRecvMultishot(int fd, Tag tag);  // buffer-select from our group
  bool PrepSendmsg(int fd, const msghdr* msg, Tag tag);
  bool PrepSend(int fd, const void* data, size_t len, Tag tag);
  bool PrepConnect(int fd, const sockaddr* addr, socklen_t len, Tag tag);
  bool PrepRead(int fd, void* buf, size_t len, Tag tag);
  bool PrepCancel(Tag target, Tag tag);

  // Submits what is prepared and waits up to `timeout_ms` for at least one completion; then
  // calls fn(const io_uring_cqe&) for every completion available. Returns completions seen.
  template <typename Fn>
  int SubmitAndDrain(int timeout_ms, Fn&& fn) {
    return SubmitAndDrainNs(int64_t{timeout_ms} * 1000000, std::forward<Fn>(fn));
  }
  // The same with a nanosecond timeout (0: submit and take what is there, without waiting), for
  // callers that must wake at a precise time (the load generator's open-loop pacing).
  template <typename Fn>
  int SubmitAndDrainNs(int64_t timeout_ns, Fn&& fn) {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
    if (timeout_ns > 0) {
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    } else {
      io_uring_submit_and_get_events(&ring_);  // GETEVENTS: runs deferred task work (DEFER_TASKRUN)
    }
    int seen = 0;
    unsigned head;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      fn(*cqe);
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
    return seen;
  }

  // Submits what is prepared now, without waiting (e.g. a cancel that should land before the
  // kernel posts more completions).
  void SubmitNow() { io_uring_submit(&ring_); }

  uint8_t* Buffer(uint16_t id) { return buffers_.get() + size_t{id} * options_.buffer_size; }
  unsigned buffer_size() const { return options_.buffer_size; }
  unsigned buffer_count() const { return options_.buffer_count; }
  // Returns buffer `id` to the kernel.
  void Recycle(uint16_t id);
  // Buffers currently owned by the shard (not in the kernel's ring).
  unsigned buffers_out() const { return buffers_out_; }
  void NoteBufferTaken() { ++buffers_out_; }

 private:
  io_uring_sqe* Sqe();

  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned setup_flags_ = 0;
  RingOptions options_;
  io_uring_buf_ring* buf_ring_ = nullptr;
  size_t buf_ring_bytes_ = 0;
  std::unique_ptr<uint8_t[]> buffers_;
  unsigned buffers_out_ = 0;
};

// The buffer id in a completion that carries IORING_CQE_F_BUFFER.
inline bool HasBuffer(const io_uring_cqe& cqe) { return (cqe.flags & IORING_CQE_F_BUFFER) != 0; }
inline uint16_t BufferId(const io_uring_cqe& cqe) { return static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT); }
inline bool HasMore(const io_uring_cqe& cqe) { return (cqe.flags & IORING_CQE_F_MORE) != 0; }

}  // namespace wsgate::engine::io
