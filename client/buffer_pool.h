// The producer's memory bound (buffer.memory): every open or queued batch holds a
// reservation of max(batch.size, its first record) bytes until it is completed.
// allocate() blocks the calling application thread up to max_block, then fails;
// a request bigger than the whole pool fails at once. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace millrace::client {

class BufferPool {
 public:
  explicit BufferPool(size_t total_bytes) : total_(total_bytes), available_(total_bytes) {}
  enum class Outcome { kOk, kTimedOut, kTooLarge, kClosed };
  Outcome allocate(size_t bytes, std::chrono::milliseconds max_block);
  void deallocate(size_t bytes);
  // Wakes blocked allocators with kClosed (producer close).
  void close();
  size_t available() const;
  size_t total() const { return total_; }
  size_t waiters() const;

 private:
  const size_t total_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t available_;       // GUARDED_BY(mu_)
  size_t waiters_ = 0;     // GUARDED_BY(mu_)
  bool closed_ = false;    // GUARDED_BY(mu_)
};

}  // namespace millrace::client
