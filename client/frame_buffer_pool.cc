#include "client/frame_buffer_pool.h"

#include <bit>

namespace millrace::client {

void FrameBufferPool::Release::operator()(uint8_t* p) const {
  if (!p) return;
  if (pool) pool->give_back(p, capacity);
  else delete[] p;
}

FrameBufferPool::~FrameBufferPool() {
  for (auto& [cap, p] : free_) delete[] p;
}

FrameBufferPool::Buffer FrameBufferPool::take(size_t n) {
  if (n < kMinPooled) return Buffer(new uint8_t[n], Release{});
  size_t cap = std::bit_ceil(n);
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < free_.size(); ++i) {
      if (free_[i].first != cap) continue;
      uint8_t* p = free_[i].second;
      free_bytes_ -= cap;
      free_[i] = free_.back();
      free_.pop_back();
      return Buffer(p, Release{shared_from_this(), cap});
    }
  }
  return Buffer(new uint8_t[cap], Release{shared_from_this(), cap});
}

void FrameBufferPool::give_back(uint8_t* p, size_t capacity) {
  {
    std::lock_guard lock(mu_);
    if (free_bytes_ + capacity <= kMaxFreeBytes) {
      free_.emplace_back(capacity, p);
      free_bytes_ += capacity;
      return;
    }
  }
  delete[] p;
}

size_t FrameBufferPool::free_bytes() const {
  std::lock_guard lock(mu_);
  return free_bytes_;
}

size_t FrameBufferPool::free_buffers() const {
  std::lock_guard lock(mu_);
  return free_.size();
}

}  // namespace millrace::client
