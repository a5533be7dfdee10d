// File: engine/server/buffer_pool.cc
#include "engine/server/buffer_pool.h"

namespace wsgate::engine::server {

int32_t BufferPool::TakePool() {
  if (free_pool_.empty()) {
    pool_.emplace_back(new uint8_t[size_]);
    int32_t id = static_cast<int32_t>(count_ + pool_.size() - 1);
    refs_.resize(static_cast<size_t>(id) + 1, 0);
    return id;
  }
  int32_t id = free_pool_.back();
  free_pool_.pop_back();
  return id;
}

std::unique_ptr<http::RequestParser> BufferPool::TakeParser(const http::Limits& limits) {
  if (spare_parsers_.empty()) return std::make_unique<http::RequestParser>(limits);
  std::unique_ptr<http::RequestParser> p = std::move(spare_parsers_.back());
  spare_parsers_.pop_back();
  *p = http::RequestParser(limits);
  return p;
}

void BufferPool::GiveBack(std::unique_ptr<http::RequestParser> parser) {
  if (parser != nullptr && spare_parsers_.size() < kSpareParsers) spare_parsers_.push_back(std::move(parser));
}

SendScratch* BufferPool::BorrowScratch() {
  if (spare_scratch_.empty()) return new SendScratch;
  SendScratch* s = spare_scratch_.back().release();
  spare_scratch_.pop_back();
  return s;
}

void BufferPool::ReturnScratch(SendScratch* s) {
  std::unique_ptr<SendScratch> owned(s);
  if (owned != nullptr && spare_scratch_.size() < kSpareScratch) spare_scratch_.push_back(std::move(owned));
}

}  // namespace wsgate::engine::server
