#include "client/frame_buffer_pool.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace millrace::client {
namespace {

TEST(FrameBufferPool, SmallFramesAreNotPooled) {
  auto pool = FrameBufferPool::create();
  { auto b = pool->take(100); b[99] = 1; }
  EXPECT_EQ(pool->free_buffers(), 0u);
}

TEST(FrameBufferPool, ReleasedBufferIsHandedOutAgainForTheSameSizeClass) {
  auto pool = FrameBufferPool::create();
  uint8_t* first;
  {
    auto b = pool->take(3 << 20);
    first = b.get();
  }
  EXPECT_EQ(pool->free_buffers(), 1u);
  EXPECT_EQ(pool->free_bytes(), 4u << 20);   // rounded up to a power of two
  auto again = pool->take((3 << 20) + 12345);   // same class
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(pool->free_buffers(), 0u);
  auto other = pool->take(5 << 20);   // another class: a new buffer
  EXPECT_NE(other.get(), first);
}

TEST(FrameBufferPool, KeepsAtMostMaxFreeBytes) {
  auto pool = FrameBufferPool::create();
  {
    std::vector<FrameBufferPool::Buffer> live;
    for (int i = 0; i < 6; ++i) live.push_back(pool->take(16u << 20));
  }
  EXPECT_LE(pool->free_bytes(), FrameBufferPool::kMaxFreeBytes);
  EXPECT_EQ(pool->free_buffers(), FrameBufferPool::kMaxFreeBytes / (16u << 20));
}

TEST(FrameBufferPool, BufferOutlivesItsPoolHandle) {
  auto pool = FrameBufferPool::create();
  auto b = pool->take(1 << 20);
  pool.reset();   // the connection is gone; the frame is still being decoded
  b[0] = 7;
  EXPECT_EQ(b[0], 7);
}   // released into the pool the buffer kept alive, then freed with it

TEST(FrameBufferPool, ReleasedFromAnotherThread) {
  auto pool = FrameBufferPool::create();
  for (int round = 0; round < 50; ++round) {
    auto b = pool->take(1 << 20);
    std::thread t([buf = std::move(b)]() mutable { buf[0] = 1; buf.reset(); });
    t.join();
  }
  EXPECT_EQ(pool->free_buffers(), 1u);
}

// As on a consumer: the io thread takes frames while application threads release the
// ones poll() has decoded, at the same time (run under TSan by make tsan).
TEST(FrameBufferPool, TakeAndReleaseFromManyThreadsAtOnce) {
  auto pool = FrameBufferPool::create();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([pool, t] {
      for (int i = 0; i < 200; ++i) {
        auto b = pool->take(FrameBufferPool::kMinPooled << (i + t) % 3);
        b[0] = static_cast<uint8_t>(i);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(pool->free_bytes(), FrameBufferPool::kMaxFreeBytes);
  EXPECT_GE(pool->free_buffers(), 1u);
}

}  // namespace
}  // namespace millrace::client
