// File: engine/io/uring.h
//
// The liburing implementation of io::Ring: SINGLE_ISSUER | DEFER_TASKRUN where the kernel has
// them (falls back otherwise), a completion queue four times the submission queue (multishot ops
// post many completions per SQE), and a provided-buffer ring registered as one buffer group.
//
// A full submission queue is submitted at once; if the kernel still leaves no room (its
// completion queue is full and it will not take more work), the completions that are ready are
// moved aside into a backlog, which Drain() hands out first, in order, and the submit is retried.
//
// With RingOptions::fixed_files, a sparse fixed-file table (io_uring_register_files_sparse,
// kernel 5.19+); a kernel that refuses it leaves the ring without one (fixed_files() 0, the
// reason in fixed_files_error()), not failed.
//
// Owned by one thread (IORING_SETUP_SINGLE_ISSUER); not thread-safe.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "engine/io/ring.h"

namespace wsgate::engine::io {

struct RingOptions {
  unsigned entries = 4096;        // submission queue
  unsigned cq_entries = 0;        // completion queue; 0: 4 × entries
  unsigned buffer_count = 4096;   // power of two
  unsigned buffer_size = 16384;
  uint16_t buffer_group = 1;
  unsigned fixed_files = 0;       // the fixed-file table's size; 0: none
};

class Uring final : public Ring {
 public:
  Uring() = default;
  ~Uring() override;
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;

  absl::Status Init(const RingOptions& options);
  // Which setup flags the kernel accepted, for the log.
  std::string Describe() const;

  [[nodiscard]] bool PrepMultishotAccept(int listen_fd, Tag tag) override;
  [[nodiscard]] bool PrepRecvMultishot(File f, Tag tag) override;
  [[nodiscard]] bool PrepSendmsg(File f, const msghdr* msg, Tag tag) override;
  [[nodiscard]] bool PrepSend(File f, const void* data, size_t len, Tag tag);
  [[nodiscard]] bool PrepConnect(File f, const sockaddr* addr, socklen_t len, Tag tag) override;
  [[nodiscard]] bool PrepShutdown(File f, Tag tag) override;
  [[nodiscard]] bool PrepCloseDirect(unsigned index, Tag tag) override;
  [[nodiscard]] bool PrepRead(int fd, void* buf, size_t len, Tag tag) override;
  [[nodiscard]] bool PrepCancel(Tag target, Tag tag) override;
  unsigned fixed_files() const override { return fixed_files_; }
  // Why the table asked for in RingOptions is missing (empty: it is there, or none was asked for).
  const std::string& fixed_files_error() const { return fixed_files_error_; }
  int InstallFile(unsigned index, int fd) override;
  void RemoveFile(unsigned index) override;
  void SubmitNow() override { io_uring_submit(&ring_); }

  void Wait(int64_t timeout_ns) override;
  int Drain(absl::FunctionRef<void(const Completion&)> fn) override;

  // Wait + Drain in one call, for the load generator's open-loop pacing.
  template <typename Fn>
  int SubmitAndDrainNs(int64_t timeout_ns, Fn&& fn) {
    Wait(timeout_ns);
    return Drain(std::forward<Fn>(fn));
  }

  uint8_t* Buffer(uint16_t id) override { return buffers_.get() + size_t{id} * options_.buffer_size; }
  unsigned buffer_size() const override { return options_.buffer_size; }
  unsigned buffer_count() const override { return options_.buffer_count; }
  void Recycle(uint16_t id) override;

  uint64_t cq_overflows() const override;
  uint64_t cq_backlogged() const override { return backlogged_; }

 private:
  io_uring_sqe* Sqe();
  bool NeedsFlush() const;  // the kernel holds completions (overflowed, deferred) a peek must flush
  template <typename Fill>
  bool Prep(Tag tag, Fill&& fill);

  io_uring ring_{};
  bool ring_ready_ = false;
  unsigned setup_flags_ = 0;
  RingOptions options_;
  io_uring_buf_ring* buf_ring_ = nullptr;
  size_t buf_ring_bytes_ = 0;
  std::unique_ptr<uint8_t[]> buffers_;
  std::vector<Completion> backlog_;  // completions moved aside by Sqe(); older than the ring's
  uint64_t backlogged_ = 0;
  unsigned fixed_files_ = 0;
  std::string fixed_files_error_;
};

}  // namespace wsgate::engine::io
