// Buffers for response frames, reused once released.
//
// A consumer reading a backlog receives multi-megabyte Fetch responses back to
// back. A fresh allocation of that size is a fresh mmap: every page faults in and
// is zeroed by the kernel while the socket read fills it, then is unmapped again
// on free (~6% of the consumer's CPU at 1 GB/s). The pool keeps a few released
// large buffers and hands them out again.
//
//   take(n) -> Buffer of at least n bytes (uninitialised). Frames under kMinPooled
//              bytes come straight from the heap (malloc reuses those well).
//   ~Buffer -> back to the pool while it holds under kMaxFreeBytes, else freed.
//
// Sizes are rounded up to a power of two so a buffer fits any later frame of the
// same class; only the touched part of a buffer is ever backed by memory.
// Thread-safe: the io thread takes, whichever thread drops a frame releases; a
// Buffer keeps its pool alive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace millrace::client {

class FrameBufferPool : public std::enable_shared_from_this<FrameBufferPool> {
 public:
  static constexpr size_t kMinPooled = 256 * 1024;
  static constexpr size_t kMaxFreeBytes = 64u * 1024 * 1024;

  struct Release {
    std::shared_ptr<FrameBufferPool> pool;   // null: plain delete[]
    size_t capacity = 0;
    void operator()(uint8_t* p) const;
  };
  using Buffer = std::unique_ptr<uint8_t[], Release>;

  static std::shared_ptr<FrameBufferPool> create() { return std::shared_ptr<FrameBufferPool>(new FrameBufferPool()); }
  ~FrameBufferPool();

  Buffer take(size_t n);
  size_t free_bytes() const;   // for tests
  size_t free_buffers() const;

 private:
  FrameBufferPool() = default;
  void give_back(uint8_t* p, size_t capacity);

  mutable std::mutex mu_;
  std::vector<std::pair<size_t, uint8_t*>> free_;   // GUARDED_BY(mu_): (capacity, buffer)
  size_t free_bytes_ = 0;                           // GUARDED_BY(mu_)
};

}  // namespace millrace::client
