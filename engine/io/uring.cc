// File: engine/io/uring.cc
#include "engine/io/uring.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace wsgate::engine::io {

Uring::~Uring() {
  if (ring_ready_) {
    if (buf_ring_ != nullptr) io_uring_unregister_buf_ring(&ring_, options_.buffer_group);
    io_uring_queue_exit(&ring_);
  }
  if (buf_ring_ != nullptr) munmap(buf_ring_, buf_ring_bytes_);
}

absl::Status Uring::Init(const RingOptions& options) {
  options_ = options;
  if ((options.buffer_count & (options.buffer_count - 1)) != 0 || options.buffer_count > 32768)
    return absl::InvalidArgumentError("buffer_count must be a power of two <= 32768");
  // Try the best flags first; older kernels reject them with EINVAL.
  const unsigned attempts[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                               IORING_SETUP_COOP_TASKRUN, 0};
  int rc = -EINVAL;
  for (unsigned flags : attempts) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE;
    params.cq_entries = options.cq_entries != 0 ? options.cq_entries : options.entries * 4;
    rc = io_uring_queue_init_params(options.entries, &ring_, &params);
    if (rc == 0) {
      setup_flags_ = flags;
      break;
    }
    if (rc != -EINVAL) break;
  }
  if (rc != 0) return absl::UnavailableError(absl::StrCat("io_uring_queue_init: ", strerror(-rc)));
  ring_ready_ = true;

  buf_ring_bytes_ = sizeof(io_uring_buf) * options.buffer_count;
  void* mem = mmap(nullptr, buf_ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) return absl::ResourceExhaustedError("mmap for the buffer ring failed");
  buf_ring_ = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(buf_ring_);
  reg.ring_entries = options.buffer_count;
  reg.bgid = options.buffer_group;
  rc = io_uring_register_buf_ring(&ring_, &reg, 0);
  if (rc != 0) {
    munmap(buf_ring_, buf_ring_bytes_);
    buf_ring_ = nullptr;
    return absl::UnavailableError(absl::StrCat("io_uring_register_buf_ring: ", strerror(-rc)));
  }
  io_uring_buf_ring_init(buf_ring_);
  buffers_.reset(new uint8_t[size_t{options.buffer_count} * options.buffer_size]);
  int mask = io_uring_buf_ring_mask(options.buffer_count);
  for (unsigned i = 0; i < options.buffer_count; ++i)
    io_uring_buf_ring_add(buf_ring_, Buffer(static_cast<uint16_t>(i)), options.buffer_size, static_cast<uint16_t>(i),
                          mask, static_cast<int>(i));
  io_uring_buf_ring_advance(buf_ring_, static_cast<int>(options.buffer_count));
  if (options.fixed_files > 0) {
    // Bounded by RLIMIT_NOFILE (EMFILE past it); older kernels answer EINVAL.
    rc = io_uring_register_files_sparse(&ring_, options.fixed_files);
    if (rc == 0) fixed_files_ = options.fixed_files;
    else fixed_files_error_ = absl::StrCat("io_uring_register_files_sparse(", options.fixed_files, "): ", strerror(-rc));
  }
  return absl::OkStatus();
}

std::string Uring::Describe() const {
  std::string flags;
  if (setup_flags_ & IORING_SETUP_SINGLE_ISSUER) flags += "SINGLE_ISSUER ";
  if (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) flags += "DEFER_TASKRUN ";
  if (setup_flags_ & IORING_SETUP_COOP_TASKRUN) flags += "COOP_TASKRUN ";
  if (flags.empty()) flags = "default ";
  return absl::StrCat(flags, "entries=", options_.entries, " cq=", ring_.cq.ring_entries, " buffers=",
                      options_.buffer_count, "x", options_.buffer_size, " fixed_files=", fixed_files_);
}

io_uring_sqe* Uring::Sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe != nullptr) return sqe;
  io_uring_submit(&ring_);
  sqe = io_uring_get_sqe(&ring_);
  if (sqe != nullptr) return sqe;
  // The kernel took nothing: its completion queue is full. Move what is ready aside (Drain hands
  // it out first) so the kernel can post, then submit again.
  io_uring_cqe* cqe;
  unsigned head, seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    backlog_.push_back(*cqe);
    ++seen;
  }
  io_uring_cq_advance(&ring_, seen);
  backlogged_ += seen;
  io_uring_submit(&ring_);
  return io_uring_get_sqe(&ring_);
}

void Uring::Wait(int64_t timeout_ns) {
  if (!backlog_.empty()) timeout_ns = 0;  // completions are waiting already
  if (timeout_ns > 0) {
    __kernel_timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  } else {
    io_uring_submit_and_get_events(&ring_);  // GETEVENTS: runs deferred task work (DEFER_TASKRUN)
  }
}

int Uring::Drain(absl::FunctionRef<void(const Completion&)> fn) {
  int seen = 0;
  std::vector<Completion> older;
  while (true) {
    // The backlog is older than anything still in the ring; a handler may add to it.
    if (!backlog_.empty()) {
      older.swap(backlog_);
      for (const Completion& c : older) fn(c);
      seen += static_cast<int>(older.size());
      older.clear();
      continue;
    }
    io_uring_cqe* cqe = nullptr;
    // io_uring_peek_cqe in two halves: the inline look at the ring, then, only when that finds
    // it empty while the kernel holds completions to flush (overflowed or deferred: liburing's
    // own test), its call into liburing. On an empty ring that call costs ~65 instructions and
    // finds nothing; every Drain ends on an empty ring.
    if (__io_uring_peek_cqe(&ring_, &cqe, nullptr) != 0) break;
    if (cqe == nullptr && (!NeedsFlush() || io_uring_peek_cqe(&ring_, &cqe) != 0 || cqe == nullptr)) break;
    Completion copy = *cqe;
    io_uring_cqe_seen(&ring_, cqe);  // the slot is free for the kernel before fn runs
    fn(copy);
    ++seen;
  }
  return seen;
}

bool Uring::NeedsFlush() const {
  return (IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
}

uint64_t Uring::cq_overflows() const { return ring_.cq.koverflow != nullptr ? *ring_.cq.koverflow : 0; }

// Takes an SQE, lets `fill` prepare it, and tags it; false when the queue stays full.
template <typename Fill>
bool Uring::Prep(Tag tag, Fill&& fill) {
  io_uring_sqe* sqe = Sqe();
  if (sqe == nullptr) return false;
  fill(sqe);
  io_uring_sqe_set_data64(sqe, tag.Encode());
  return true;
}

bool Uring::PrepMultishotAccept(int listen_fd, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) { io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, SOCK_CLOEXEC); });
}

namespace {
void Target(io_uring_sqe* sqe, File f) {
  if (f.fixed) sqe->flags |= IOSQE_FIXED_FILE;
}
}  // namespace

bool Uring::PrepRecvMultishot(File f, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) {
    io_uring_prep_recv_multishot(sqe, f.fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = options_.buffer_group;
    Target(sqe, f);
  });
}

bool Uring::PrepSendmsg(File f, const msghdr* msg, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) {
    io_uring_prep_sendmsg(sqe, f.fd, msg, MSG_NOSIGNAL);
    Target(sqe, f);
  });
}

bool Uring::PrepSend(File f, const void* data, size_t len, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) {
    io_uring_prep_send(sqe, f.fd, data, len, MSG_NOSIGNAL);
    Target(sqe, f);
  });
}

bool Uring::PrepConnect(File f, const sockaddr* addr, socklen_t len, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) {
    io_uring_prep_connect(sqe, f.fd, addr, len);
    Target(sqe, f);
  });
}

bool Uring::PrepShutdown(File f, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) {
    io_uring_prep_shutdown(sqe, f.fd, SHUT_RDWR);
    Target(sqe, f);
  });
}

bool Uring::PrepCloseDirect(unsigned index, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) { io_uring_prep_close_direct(sqe, index); });
}

int Uring::InstallFile(unsigned index, int fd) {
  int rc = io_uring_register_files_update(&ring_, index, &fd, 1);
  return rc == 1 ? 0 : (rc < 0 ? rc : -EIO);
}

void Uring::RemoveFile(unsigned index) {
  int none = -1;
  (void)io_uring_register_files_update(&ring_, index, &none, 1);
}

bool Uring::PrepRead(int fd, void* buf, size_t len, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, buf, static_cast<unsigned>(len), 0); });
}

bool Uring::PrepCancel(Tag target, Tag tag) {
  return Prep(tag, [&](io_uring_sqe* sqe) { io_uring_prep_cancel64(sqe, target.Encode(), 0); });
}

void Uring::Recycle(uint16_t id) {
  io_uring_buf_ring_add(buf_ring_, Buffer(id), options_.buffer_size, id, io_uring_buf_ring_mask(options_.buffer_count), 0);
  io_uring_buf_ring_advance(buf_ring_, 1);
  --buffers_out_;
}

}  // namespace wsgate::engine::io
