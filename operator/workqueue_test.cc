#include "operator/workqueue.h"

#include <gtest/gtest.h>

#include <thread>

namespace millrace::op {
namespace {

using std::chrono::milliseconds;

TEST(ExponentialBackoff, DoublesFromBaseAndCapsAtMax) {
  ExponentialBackoff b(milliseconds(100), milliseconds(1000));
  EXPECT_EQ(b.delay(0), milliseconds(0));
  EXPECT_EQ(b.delay(1), milliseconds(100));
  EXPECT_EQ(b.delay(2), milliseconds(200));
  EXPECT_EQ(b.delay(4), milliseconds(800));
  EXPECT_EQ(b.delay(5), milliseconds(1000));
  EXPECT_EQ(b.delay(1000), milliseconds(1000));  // no overflow
}

TEST(WorkQueue, AddingAQueuedKeyTwiceQueuesItOnce) {
  WorkQueue q;
  q.add("ns/a");
  q.add("ns/a");
  q.add("ns/b");
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.get(), "ns/a");
  EXPECT_EQ(q.get(), "ns/b");
}

TEST(WorkQueue, KeyAddedWhileProcessingComesBackOnlyAfterDone) {
  WorkQueue q;
  q.add("ns/a");
  auto k = q.get();
  ASSERT_EQ(k, "ns/a");
  q.add("ns/a");  // an event arrives while a worker holds the key
  EXPECT_EQ(q.size(), 0u) << "must not be handed to a second worker";
  q.done("ns/a");
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.get(), "ns/a");
}

TEST(WorkQueue, RateLimitedKeyReturnsAfterGrowingBackoffAndForgetResets) {
  WorkQueue q(ExponentialBackoff(milliseconds(20), milliseconds(1000)));
  EXPECT_EQ(q.add_rate_limited("ns/a"), milliseconds(20));
  EXPECT_EQ(q.size(), 0u);
  auto t0 = Clock::now();
  EXPECT_EQ(q.get(), "ns/a");
  EXPECT_GE(Clock::now() - t0, milliseconds(15));
  q.done("ns/a");
  EXPECT_EQ(q.add_rate_limited("ns/a"), milliseconds(40));
  EXPECT_EQ(q.failures("ns/a"), 2);
  q.forget("ns/a");
  EXPECT_EQ(q.failures("ns/a"), 0);
  EXPECT_EQ(q.add_rate_limited("ns/a"), milliseconds(20));
}

TEST(WorkQueue, ShutdownWakesBlockedWorkers) {
  WorkQueue q;
  std::optional<std::string> got = "unset";
  std::thread t([&] { got = q.get(); });
  // Wait (bounded) until the worker is really blocked in get(), then shut down.
  for (auto end = Clock::now() + std::chrono::seconds(10); q.waiting() == 0 && Clock::now() < end;)
    std::this_thread::yield();
  ASSERT_EQ(q.waiting(), 1);
  q.shutdown();
  t.join();
  EXPECT_FALSE(got.has_value());
}

TEST(WorkQueue, DelayedAddDoesNotDuplicateAnImmediateOne) {
  WorkQueue q;
  q.add_after("ns/a", milliseconds(10));
  q.add("ns/a");
  EXPECT_EQ(q.get(), "ns/a");
  q.done("ns/a");
  // The delayed copy arrives later, once.
  EXPECT_EQ(q.get(), "ns/a");
  q.done("ns/a");
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
}  // namespace millrace::op
