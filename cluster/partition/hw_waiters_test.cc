// HwWaiters wake a parked fetch only for its own partitions (C18); moved from
// broker/core/append_notifier_test.cc with the map it replaced.
// Deterministic: io_context::poll() runs what is ready and never blocks, so
// "not woken" is checked without sleeping.
#include "cluster/partition/hw_waiters.h"

#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace millrace::cluster {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class HwWaitersTest : public ::testing::Test {
 protected:
  // Parks a waiter on `ws`; returns the flag it sets when woken.
  std::shared_ptr<bool> park(std::vector<HwWaiters*> ws) {
    auto done = std::make_shared<bool>(false);
    auto seen = hw_versions(ws);
    asio::co_spawn(
        io_,
        [ws, seen, done]() -> asio::awaitable<void> {
          co_await wait_for_hw(ws, seen, std::chrono::steady_clock::now() + 1h);
          *done = true;
        },
        asio::detached);
    io_.poll();
    return done;
  }

  asio::io_context io_;
  HwWaiters a0_, a1_, b0_;
};

TEST_F(HwWaitersTest, AppendElsewhereDoesNotWake) {
  auto done = park({&a0_});
  ASSERT_FALSE(*done);
  EXPECT_EQ(a0_.waiters(), 1u);
  b0_.notify();
  a1_.notify();
  io_.poll();
  EXPECT_FALSE(*done);
  a0_.notify();
  io_.poll();
  EXPECT_TRUE(*done);
  EXPECT_EQ(a0_.waiters(), 0u);
}

TEST_F(HwWaitersTest, AnyWatchedPartitionWakesAndEveryRegistrationIsRemoved) {
  auto done = park({&a0_, &b0_});
  EXPECT_EQ(a0_.waiters(), 1u);
  EXPECT_EQ(b0_.waiters(), 1u);
  b0_.notify();
  io_.poll();
  EXPECT_TRUE(*done);
  EXPECT_EQ(a0_.waiters(), 0u);
  EXPECT_EQ(b0_.waiters(), 0u);
}

TEST_F(HwWaitersTest, AppendBetweenSnapshotAndWaitReturnsAtOnce) {
  std::vector<HwWaiters*> ws = {&a0_, &b0_};
  auto seen = hw_versions(ws);
  b0_.notify();  // the data arrived after the fetch looked, before it parked
  bool done = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await wait_for_hw(ws, seen, std::chrono::steady_clock::now() + 1h);
        done = true;
      },
      asio::detached);
  io_.poll();
  EXPECT_TRUE(done);
  EXPECT_EQ(a0_.waiters(), 0u);  // the registration on a0 was undone
  EXPECT_EQ(b0_.waiters(), 0u);
}

TEST_F(HwWaitersTest, DeadlineWakesWithoutNotify) {
  std::vector<HwWaiters*> ws = {&a0_};
  bool done = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await wait_for_hw(ws, hw_versions(ws), std::chrono::steady_clock::now());
        done = true;
      },
      asio::detached);
  io_.run_for(5s);  // returns as soon as the expired timer completed the waiter
  EXPECT_TRUE(done);
  EXPECT_EQ(a0_.waiters(), 0u);
}

}  // namespace
}  // namespace millrace::cluster
