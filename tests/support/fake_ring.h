// File: tests/support/fake_ring.h
//
// An io::Ring for unit tests of the shard loop: every Prep* is recorded instead of reaching a
// kernel, and the test feeds completions by hand (data with and without IORING_CQE_F_MORE,
// errors, ENOBUFS, stale tags), in exactly the order it wants. Buffers are plain memory the test
// fills through Recv(). FakeClock is the loop's clock, moved by the test.
//
//   FakeRing ring(64);
//   Loop loop(options, fds, ring, clock);
//   ring.Push(FakeRing::Done(tag, 0));            // a completion
//   ring.Push(ring.Recv(tag, "bytes", /*more=*/false));
//   loop.RunOnce(0);
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "engine/common/clock.h"
#include "engine/io/ring.h"

namespace wsgate::testing {

class FakeClock final : public common::Clock {
 public:
  int64_t NowMs() const override { return ms; }
  int64_t NowUnixS() const override { return unix_s; }
  void Advance(int64_t delta_ms) {
    ms += delta_ms;
    unix_s = base_unix_s + ms / 1000;
  }
  int64_t ms = 1'000'000;
  int64_t base_unix_s = 1'800'000'000;
  int64_t unix_s = base_unix_s + ms / 1000;
};

class FakeRing final : public engine::io::Ring {
 public:
  enum class Kind { kAccept, kRecv, kSendmsg, kConnect, kRead, kCancel, kShutdown, kCloseDirect };
  struct Op {
    Op(Kind k, engine::io::File f, engine::io::Tag t) : kind(k), fd(f.fd), fixed(f.fixed), tag(t) {}
    Kind kind;
    int fd = -1;         // a descriptor, or with `fixed` a fixed-file index (kCloseDirect: the index)
    bool fixed = false;
    engine::io::Tag tag;
    engine::io::Tag target;    // kCancel
    const msghdr* msg = nullptr;  // kSendmsg: what the loop asked to send (valid until completed)
    void* read_buf = nullptr;     // kRead
  };

  explicit FakeRing(unsigned buffers = 64, unsigned buffer_size = 16384)
      : count_(buffers), size_(buffer_size), memory_(size_t{buffers} * buffer_size), free_(buffers, true) {}

  // --- Prep: recorded; `refuse` makes the next N fail as a full submission queue would.
  bool PrepMultishotAccept(int fd, engine::io::Tag tag) override { return Record(Op(Kind::kAccept, fd, tag)); }
  bool PrepRecvMultishot(engine::io::File f, engine::io::Tag tag) override { return Record(Op(Kind::kRecv, f, tag)); }
  bool PrepSendmsg(engine::io::File f, const msghdr* msg, engine::io::Tag tag) override {
    Op op{Kind::kSendmsg, f, tag};
    op.msg = msg;
    return Record(op);
  }
  bool PrepConnect(engine::io::File f, const sockaddr*, socklen_t, engine::io::Tag tag) override {
    return Record(Op(Kind::kConnect, f, tag));
  }
  bool PrepShutdown(engine::io::File f, engine::io::Tag tag) override { return Record(Op(Kind::kShutdown, f, tag)); }
  bool PrepCloseDirect(unsigned index, engine::io::Tag tag) override {
    return Record(Op(Kind::kCloseDirect, engine::io::File(static_cast<int>(index), true), tag));
  }
  // The fixed-file table: `fixed_table` entries (0 by default: the loop uses plain descriptors);
  // `installed[i]` is the descriptor put at index i (-1: empty).
  unsigned fixed_files() const override { return static_cast<unsigned>(installed.size()); }
  int InstallFile(unsigned index, int fd) override {
    if (index >= installed.size()) return -EINVAL;
    if (refuse_install) return -ENFILE;
    installed[index] = fd;
    return 0;
  }
  void RemoveFile(unsigned index) override { installed[index] = -1; }
  void SetFixedFiles(unsigned n) { installed.assign(n, -1); }
  std::vector<int> installed;
  bool refuse_install = false;
  bool PrepRead(int fd, void* buf, size_t, engine::io::Tag tag) override {
    Op op{Kind::kRead, fd, tag};
    op.read_buf = buf;
    return Record(op);
  }
  bool PrepCancel(engine::io::Tag target, engine::io::Tag tag) override {
    Op op{Kind::kCancel, -1, tag};
    op.target = target;
    return Record(op);
  }
  void SubmitNow() override {}
  void Wait(int64_t) override {}
  int Drain(absl::FunctionRef<void(const engine::io::Completion&)> fn) override {
    int n = 0;
    while (!ready_.empty()) {
      engine::io::Completion c = ready_.front();
      ready_.pop_front();
      fn(c);
      ++n;
    }
    return n;
  }

  uint8_t* Buffer(uint16_t id) override { return memory_.data() + size_t{id} * size_; }
  unsigned buffer_size() const override { return size_; }
  unsigned buffer_count() const override { return count_; }
  void Recycle(uint16_t id) override {
    free_[id] = true;
    --buffers_out_;
    ++recycled;
  }
  uint64_t cq_overflows() const override { return 0; }
  uint64_t cq_backlogged() const override { return 0; }

  // --- Completions
  void Push(const engine::io::Completion& c) { ready_.push_back(c); }
  static engine::io::Completion Done(engine::io::Tag tag, int res, bool more = false) {
    engine::io::Completion c{};
    c.user_data = tag.Encode();
    c.res = res;
    c.flags = more ? IORING_CQE_F_MORE : 0;
    return c;
  }
  // A recv completion carrying `bytes` in a free buffer, as the kernel would pick one.
  engine::io::Completion Recv(engine::io::Tag tag, const std::string& bytes, bool more) {
    uint16_t id = 0;
    while (id < count_ && !free_[id]) ++id;
    if (id == count_ || bytes.size() > size_) std::abort();  // the test asked for more than it made
    free_[id] = false;
    std::memcpy(Buffer(id), bytes.data(), bytes.size());
    engine::io::Completion c = Done(tag, static_cast<int>(bytes.size()), more);
    c.flags |= IORING_CQE_F_BUFFER | (uint32_t{id} << IORING_CQE_BUFFER_SHIFT);
    return c;
  }

  // --- What the loop prepared
  std::vector<Op> ops;
  int refuse = 0;  // the next `refuse` Prep* calls fail
  uint64_t recycled = 0;
  // The latest prepared op of `kind` for connection slot `slot` (op byte `op`, 0: any).
  std::optional<Op> Last(Kind kind, uint8_t op = 0) const {
    for (auto it = ops.rbegin(); it != ops.rend(); ++it)
      if (it->kind == kind && (op == 0 || it->tag.op == op)) return *it;
    return std::nullopt;
  }
  // The bytes a recorded sendmsg asked to send.
  static std::string Bytes(const Op& op) {
    std::string out;
    for (size_t i = 0; i < op.msg->msg_iovlen; ++i)
      out.append(static_cast<const char*>(op.msg->msg_iov[i].iov_base), op.msg->msg_iov[i].iov_len);
    return out;
  }
  size_t Count(Kind kind, uint8_t op = 0) const {
    size_t n = 0;
    for (const Op& o : ops) n += o.kind == kind && (op == 0 || o.tag.op == op);
    return n;
  }

 private:
  bool Record(Op op) {
    if (refuse > 0) {
      --refuse;
      return false;
    }
    ops.push_back(op);
    return true;
  }

  unsigned count_, size_;
  std::vector<uint8_t> memory_;
  std::vector<bool> free_;
  std::deque<engine::io::Completion> ready_;
};

}  // namespace wsgate::testing
