// File: engine/io/ring.h
//
// What a shard needs from an io_uring, as an interface: prepare tagged ops, wait for and drain
// completions, and lend out provided receive buffers. `Uring` (uring.h) is the liburing
// implementation; tests drive a shard through `FakeRing` (tests/support/fake_ring.h), feeding
// completions by hand. Only io/ includes <liburing.h>; the completion type is the kernel's.
//
// User data layout (64 bits), so a stale completion can never reach a reused connection slot:
//
//   63      56 55                  32 31                                0
//   +---------+----------------------+-----------------------------------+
//   |   op    |  generation (24 bit) |             slot (32 bit)         |
//   +---------+----------------------+-----------------------------------+
//
// Buffers: `buffer_count()` buffers of `buffer_size()` bytes. A multishot recv picks one per
// completion; the shard hands it back with Recycle() once every byte that referenced it has been
// sent. Buffer lifecycle: kernel-owned (in the ring) → completion (owned by the shard, referenced
// by queued send segments) → Recycle() → kernel-owned.
//
// Direct descriptors (fixed files): a ring may hold a table of `fixed_files()` sockets of its
// own, outside the process's descriptor table (which RLIMIT_NOFILE bounds; each table is bounded
// by that limit on its own). An op names its socket as an io::File, a descriptor or (fixed) a
// table index; InstallFile puts a regular descriptor into an index (the caller then closes the
// descriptor), PrepCloseDirect empties one. Who uses which index is the caller's business.
//
// Preparation: every Prep* returns false when the op could not be queued even after submitting
// what was prepared (the submission queue stayed full). Callers must handle it; an op is never
// dropped silently. Owned by one thread; not thread-safe.
#pragma once

#include <linux/io_uring.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "absl/functional/function_ref.h"

struct msghdr;

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

using Completion = io_uring_cqe;

// The socket an op works on: a regular descriptor, or with `fixed` an index in the ring's
// fixed-file table (the SQE carries IOSQE_FIXED_FILE). Converts from a plain descriptor.
struct File {
  File(int f, bool is_fixed = false) : fd(f), fixed(is_fixed) {}  // NOLINT(google-explicit-constructor)
  int fd;
  bool fixed;
};

class Ring {
 public:
  virtual ~Ring() = default;

  [[nodiscard]] virtual bool PrepMultishotAccept(int listen_fd, Tag tag) = 0;
  [[nodiscard]] virtual bool PrepRecvMultishot(File f, Tag tag) = 0;  // buffer-select
  [[nodiscard]] virtual bool PrepSendmsg(File f, const msghdr* msg, Tag tag) = 0;
  [[nodiscard]] virtual bool PrepConnect(File f, const sockaddr* addr, socklen_t len, Tag tag) = 0;
  [[nodiscard]] virtual bool PrepShutdown(File f, Tag tag) = 0;  // SHUT_RDWR
  // Empties fixed-file index `index` (the socket closes once no op holds it).
  [[nodiscard]] virtual bool PrepCloseDirect(unsigned index, Tag tag) = 0;
  [[nodiscard]] virtual bool PrepRead(int fd, void* buf, size_t len, Tag tag) = 0;
  [[nodiscard]] virtual bool PrepCancel(Tag target, Tag tag) = 0;
  // The fixed-file table: its size (0: none, the kernel refused it or none was asked for), and
  // installing a descriptor at an index (0, or -errno; the table keeps its own reference, so the
  // caller closes `fd` afterwards) or emptying one at once (the fallback of PrepCloseDirect).
  virtual unsigned fixed_files() const { return 0; }
  virtual int InstallFile(unsigned index, int fd) = 0;
  virtual void RemoveFile(unsigned index) = 0;

  // Submits what is prepared now, without waiting (e.g. a cancel that should land before the
  // kernel posts more completions).
  virtual void SubmitNow() = 0;

  // Submits what is prepared and waits up to `timeout_ns` (0: not at all) for a completion.
  virtual void Wait(int64_t timeout_ns) = 0;
  // Hands every available completion to fn, oldest first; fn may prepare ops. Returns how many.
  virtual int Drain(absl::FunctionRef<void(const Completion&)> fn) = 0;

  virtual uint8_t* Buffer(uint16_t id) = 0;
  virtual unsigned buffer_size() const = 0;
  virtual unsigned buffer_count() const = 0;
  // Returns buffer `id` to the kernel.
  virtual void Recycle(uint16_t id) = 0;
  // Buffers currently owned by the shard (not in the kernel's ring).
  unsigned buffers_out() const { return buffers_out_; }
  void NoteBufferTaken() { ++buffers_out_; }

  // Completions the kernel could not post to a full completion queue (kept on its overflow
  // list and delivered late), since start; and completions moved aside so a submit could go
  // through while the queue was full.
  virtual uint64_t cq_overflows() const = 0;
  virtual uint64_t cq_backlogged() const = 0;

 protected:
  unsigned buffers_out_ = 0;
};

// The buffer id in a completion that carries IORING_CQE_F_BUFFER.
inline bool HasBuffer(const Completion& cqe) { return (cqe.flags & IORING_CQE_F_BUFFER) != 0; }
inline uint16_t BufferId(const Completion& cqe) { return static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT); }
inline bool HasMore(const Completion& cqe) { return (cqe.flags & IORING_CQE_F_MORE) != 0; }

}  // namespace wsgate::engine::io
