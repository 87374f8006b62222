// RequestBudget: FIFO grants across io threads, clamping of a request larger
// than the budget, cancel of a parked waiter, and no deadlock when many
// coroutines on two threads hold and wait at once.
#include "broker/server/request_budget.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

namespace millrace::broker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs the context on its own thread until the test ends.
struct IoThread {
  asio::io_context ctx{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(ctx);
  std::thread t{[this] { ctx.run(); }};
  ~IoThread() {
    guard.reset();
    ctx.stop();
    t.join();
  }
};

bool wait_for(auto cond, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A coroutine that acquires `n` and parks its units in *out (or notes a cancel).
struct Taker {
  std::atomic<bool> done{false};
  std::atomic<bool> granted{false};
  std::atomic<int> order{-1};
  RequestBudget::Units units;
  std::shared_ptr<RequestBudget::Waiter> parked;
};

void spawn_take(asio::io_context& ctx, RequestBudget& b, int64_t n, Taker& t, std::atomic<int>& seq) {
  asio::co_spawn(ctx, [&b, n, &t, &seq]() -> asio::awaitable<void> {
    auto g = co_await b.acquire(n, &t.parked);
    t.units = std::move(g.units);
    t.granted = g.granted;
    t.order = seq.fetch_add(1);
    t.done = true;
  }, asio::detached);
}

TEST(RequestBudgetTest, GrantsAtOnceWhileItFitsThenParksUntilRelease) {
  IoThread io;
  RequestBudget b(10);
  std::atomic<int> seq{0};
  Taker a, c;
  spawn_take(io.ctx, b, 6, a, seq);
  ASSERT_TRUE(wait_for([&] { return a.done.load(); }));
  EXPECT_EQ(a.units.size(), 6);
  spawn_take(io.ctx, b, 5, c, seq);
  ASSERT_TRUE(wait_for([&] { return b.waiting() == 1; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(c.done.load());
  asio::post(io.ctx, [&] { a.units.reset(); });
  ASSERT_TRUE(wait_for([&] { return c.done.load(); }));
  EXPECT_TRUE(c.granted.load());
  EXPECT_EQ(b.in_use(), 5);
  asio::post(io.ctx, [&] { c.units.reset(); });
  ASSERT_TRUE(wait_for([&] { return b.in_use() == 0; }));
}

// A small request that would fit does not overtake a larger one parked before it.
TEST(RequestBudgetTest, FifoSmallDoesNotOvertakeParkedLarge) {
  IoThread io;
  RequestBudget b(10);
  std::atomic<int> seq{0};
  Taker holder, large, small;
  spawn_take(io.ctx, b, 8, holder, seq);
  ASSERT_TRUE(wait_for([&] { return holder.done.load(); }));
  spawn_take(io.ctx, b, 5, large, seq);
  ASSERT_TRUE(wait_for([&] { return b.waiting() == 1; }));
  spawn_take(io.ctx, b, 1, small, seq);  // 2 are free, but the large one is first
  ASSERT_TRUE(wait_for([&] { return b.waiting() == 2; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(small.done.load());
  asio::post(io.ctx, [&] { holder.units.reset(); });
  ASSERT_TRUE(wait_for([&] { return large.done.load() && small.done.load(); }));
  EXPECT_LT(large.order.load(), small.order.load());
}

// A request larger than the whole budget takes all of it, once nothing else is held.
TEST(RequestBudgetTest, LargerThanTheBudgetIsClampedAndServedAlone) {
  IoThread io;
  RequestBudget b(10);
  std::atomic<int> seq{0};
  Taker holder, huge;
  spawn_take(io.ctx, b, 1, holder, seq);
  ASSERT_TRUE(wait_for([&] { return holder.done.load(); }));
  spawn_take(io.ctx, b, 1000, huge, seq);
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(huge.done.load());
  asio::post(io.ctx, [&] { holder.units.reset(); });
  ASSERT_TRUE(wait_for([&] { return huge.done.load(); }));
  EXPECT_EQ(huge.units.size(), 10);
  EXPECT_EQ(b.in_use(), 10);
  asio::post(io.ctx, [&] { huge.units.reset(); });
  ASSERT_TRUE(wait_for([&] { return b.in_use() == 0; }));
}

// Cancelling the parked head lets the waiters behind it through.
TEST(RequestBudgetTest, CancelResumesTheWaiterUngrantedAndUnblocksTheQueue) {
  IoThread io;
  RequestBudget b(10);
  std::atomic<int> seq{0};
  Taker holder, head, next;
  spawn_take(io.ctx, b, 5, holder, seq);
  ASSERT_TRUE(wait_for([&] { return holder.done.load(); }));
  spawn_take(io.ctx, b, 10, head, seq);
  ASSERT_TRUE(wait_for([&] { return b.waiting() == 1; }));
  spawn_take(io.ctx, b, 3, next, seq);
  ASSERT_TRUE(wait_for([&] { return b.waiting() == 2; }));
  asio::post(io.ctx, [&] { b.cancel(head.parked); });
  ASSERT_TRUE(wait_for([&] { return head.done.load() && next.done.load(); }));
  EXPECT_FALSE(head.granted.load());
  EXPECT_EQ(head.units.size(), 0);
  EXPECT_TRUE(next.granted.load());
  EXPECT_EQ(b.in_use(), 8);
  asio::post(io.ctx, [&] {
    holder.units.reset();
    next.units.reset();
  });
  ASSERT_TRUE(wait_for([&] { return b.in_use() == 0; }));
}

TEST(RequestBudgetTest, UnboundedGrantsEverythingAndHoldsNothing) {
  IoThread io;
  RequestBudget b(-1);
  std::atomic<int> seq{0};
  Taker t;
  spawn_take(io.ctx, b, int64_t(1) << 40, t, seq);
  ASSERT_TRUE(wait_for([&] { return t.done.load(); }));
  EXPECT_TRUE(t.granted.load());
  EXPECT_EQ(t.units.size(), 0);
}

// 200 coroutines on two threads, each taking 1..2x the budget several times
// and holding it across a timer: all finish, the budget is never over-spent,
// and the gauge callback nets to zero.
TEST(RequestBudgetTest, ManyHoldersOnTwoThreadsAllFinishWithoutOverspending) {
  IoThread io1, io2;
  RequestBudget b(100);
  std::atomic<int64_t> gauge{0}, peak{0};
  b.on_change = [&](int64_t d) {
    int64_t now = gauge += d;
    int64_t p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {}
  };
  std::atomic<int> finished{0};
  std::mt19937 rng(7);
  constexpr int kCoroutines = 200;
  for (int i = 0; i < kCoroutines; ++i) {
    const int64_t n = 1 + int64_t(rng() % 200);  // up to twice the budget: clamped
    auto& ctx = (i % 2 ? io1 : io2).ctx;
    asio::co_spawn(ctx, [&b, &finished, n]() -> asio::awaitable<void> {
      for (int round = 0; round < 3; ++round) {
        auto g = co_await b.acquire(n);
        EXPECT_TRUE(g.granted);
        EXPECT_EQ(g.units.size(), std::min<int64_t>(n, 100));
        asio::steady_timer t(co_await asio::this_coro::executor, 100us);
        co_await t.async_wait(asio::use_awaitable);
      }
      ++finished;
    }, asio::detached);
  }
  ASSERT_TRUE(wait_for([&] { return finished.load() == kCoroutines; }, 30000ms))
      << finished.load() << " finished, " << b.waiting() << " waiting, " << b.in_use() << " in use";
  EXPECT_EQ(b.in_use(), 0);
  EXPECT_EQ(gauge.load(), 0);
  EXPECT_LE(peak.load(), 100);
}

}  // namespace
}  // namespace millrace::broker
