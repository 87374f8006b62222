#include "client/buffer_pool.h"

namespace millrace::client {

BufferPool::Outcome BufferPool::allocate(size_t bytes, std::chrono::milliseconds max_block) {
  if (bytes > total_) return Outcome::kTooLarge;
  std::unique_lock lock(mu_);
  ++waiters_;
  bool got = cv_.wait_for(lock, max_block, [&] { return closed_ || available_ >= bytes; });
  --waiters_;
  if (closed_) return Outcome::kClosed;
  if (!got) return Outcome::kTimedOut;
  available_ -= bytes;
  return Outcome::kOk;
}

void BufferPool::deallocate(size_t bytes) {
  {
    std::lock_guard lock(mu_);
    available_ += bytes;
    if (available_ > total_) available_ = total_;
  }
  cv_.notify_all();
}

void BufferPool::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

size_t BufferPool::available() const {
  std::lock_guard lock(mu_);
  return available_;
}

size_t BufferPool::waiters() const {
  std::lock_guard lock(mu_);
  return waiters_;
}

}  // namespace millrace::client
