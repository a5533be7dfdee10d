// File: engine/server/buffer_pool.h
//
// The memory a shard lends to connections, so the relay path allocates nothing per message:
// - buffers: ids below the ring's count are kernel recv buffers (io::Ring); the ids above are a
//   pool for TLS plaintext and ciphertext (grown on demand, never shrunk). A buffer goes back
//   (to the kernel, or to the pool) when the last queued segment pointing into it is sent
//   (Ref/Unref).
// - request parsers (4 KiB each), taken at a client's first bytes and given back as soon as its
//   request head is parsed: a burst of connects that have not sent yet costs no parser.
// - send scratch (iovecs for one sendmsg), lent from a send's start to its completion.
// Owned by one shard thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/http/request_parser.h"
#include "engine/io/ring.h"
#include "engine/server/conn.h"

namespace wsgate::engine::server {

class BufferPool {
 public:
  explicit BufferPool(io::Ring& ring)
      : ring_(ring), count_(ring.buffer_count()), size_(ring.buffer_size()), refs_(count_, 0) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  uint8_t* Data(int32_t id) {
    return id < static_cast<int32_t>(count_) ? ring_.Buffer(static_cast<uint16_t>(id))
                                             : pool_[static_cast<size_t>(id) - count_].get();
  }
  size_t buffer_size() const { return size_; }
  // A pool buffer (refcount 0): Ref it to keep it, or PutBack an unused one.
  int32_t TakePool();
  void PutBack(int32_t id) { free_pool_.push_back(id); }
  void Ref(int32_t id) { ++refs_[static_cast<size_t>(id)]; }
  void Unref(int32_t id) {
    if (--refs_[static_cast<size_t>(id)] != 0) return;
    if (id < static_cast<int32_t>(count_)) ring_.Recycle(static_cast<uint16_t>(id));
    else free_pool_.push_back(id);
  }

  std::unique_ptr<http::RequestParser> TakeParser(const http::Limits& limits);
  void GiveBack(std::unique_ptr<http::RequestParser> parser);

  SendScratch* BorrowScratch();
  void ReturnScratch(SendScratch* s);

 private:
  static constexpr size_t kSpareParsers = 64;
  static constexpr size_t kSpareScratch = 256;  // a burst may borrow thousands; only these stay

  io::Ring& ring_;
  unsigned count_, size_;  // the ring's, read once (not a virtual call per buffer)
  std::vector<uint32_t> refs_;  // one per forwarded range: a 1 MiB buffer can hold 500k frames
  std::vector<std::unique_ptr<uint8_t[]>> pool_;
  std::vector<int32_t> free_pool_;
  std::vector<std::unique_ptr<http::RequestParser>> spare_parsers_;
  std::vector<std::unique_ptr<SendScratch>> spare_scratch_;
};

}  // namespace wsgate::engine::server
