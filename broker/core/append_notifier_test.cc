// AppendNotifier wakes a parked waiter only for its own partitions (C18).
// Deterministic: io_context::poll() runs what is ready and never blocks, so
// "not woken" is checked without sleeping.
#include "broker/core/append_notifier.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace millrace::broker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class AppendNotifierTest : public ::testing::Test {
 protected:
  // Parks a waiter on `keys`; returns the flag it sets when woken.
  std::shared_ptr<bool> park(std::vector<NotifyKey> keys) {
    auto done = std::make_shared<bool>(false);
    auto seen = n_.versions(keys);
    asio::co_spawn(
        io_,
        [this, keys, seen, done]() -> asio::awaitable<void> {
          co_await n_.wait(keys, seen, std::chrono::steady_clock::now() + 1h);
          *done = true;
        },
        asio::detached);
    io_.poll();
    return done;
  }

  asio::io_context io_;
  AppendNotifier n_;
  const NotifyKey a0{"a", 0}, a1{"a", 1}, b0{"b", 0};
};

TEST_F(AppendNotifierTest, AppendElsewhereDoesNotWake) {
  auto done = park({a0});
  ASSERT_FALSE(*done);
  EXPECT_EQ(n_.waiters(a0), 1u);
  n_.notify(b0);
  n_.notify(a1);
  io_.poll();
  EXPECT_FALSE(*done);
  n_.notify(a0);
  io_.poll();
  EXPECT_TRUE(*done);
  EXPECT_EQ(n_.waiters(a0), 0u);
}

TEST_F(AppendNotifierTest, AnyWatchedPartitionWakesAndEveryRegistrationIsRemoved) {
  auto done = park({a0, b0});
  n_.notify(b0);
  io_.poll();
  EXPECT_TRUE(*done);
  EXPECT_EQ(n_.waiters(a0), 0u);
  EXPECT_EQ(n_.waiters(b0), 0u);
}

TEST_F(AppendNotifierTest, AppendBetweenSnapshotAndWaitReturnsAtOnce) {
  std::vector<NotifyKey> keys = {a0};
  auto seen = n_.versions(keys);
  n_.notify(a0);  // the data arrived after the fetch looked, before it parked
  bool done = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await n_.wait(keys, seen, std::chrono::steady_clock::now() + 1h);
        done = true;
      },
      asio::detached);
  io_.poll();
  EXPECT_TRUE(done);
  EXPECT_EQ(n_.waiters(a0), 0u);
}

TEST_F(AppendNotifierTest, DeadlineWakesWithoutNotify) {
  std::vector<NotifyKey> keys = {a0};
  bool done = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await n_.wait(keys, n_.versions(keys), std::chrono::steady_clock::now());
        done = true;
      },
      asio::detached);
  io_.run_for(5s);  // returns as soon as the expired timer completed the waiter
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace millrace::broker
