#include "client/cli/rate_limiter.h"

#include <gtest/gtest.h>

namespace millrace::cli {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

// How many records pass in `span`, acquiring as soon as allowed.
int passed_within(RateLimiter& l, Clock::time_point& t, std::chrono::nanoseconds span) {
  auto end = t + span;
  int n = 0;
  while (t <= end && n < 1000000) {  // bounded: a limiter that never waits fails, not hangs
    auto w = l.acquire(t);
    if (w == 0ns) ++n;
    else t += w;
  }
  return n;
}

TEST(RateLimiter, BurstThenOnePerInterval) {
  Clock::time_point t{};
  RateLimiter l(10, t);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(l.acquire(t), 0ns) << i;  // the burst: max(1, 10)
  auto w = l.acquire(t);
  EXPECT_GT(w, 99ms);
  EXPECT_LE(w, 100ms);
  t += w;
  EXPECT_EQ(l.acquire(t), 0ns);
  EXPECT_GT(l.acquire(t), 0ns);
}

TEST(RateLimiter, AverageRateHoldsOverTime) {
  Clock::time_point t{};
  RateLimiter l(20, t);
  int n = passed_within(l, t, 10s);
  EXPECT_GE(n, 20 + 199);  // burst + 20/s for 10 s
  EXPECT_LE(n, 20 + 201);
}

TEST(RateLimiter, FractionalRates) {
  Clock::time_point t{};
  RateLimiter l(0.5, t);  // one record per 2 s, burst 1
  EXPECT_EQ(l.acquire(t), 0ns);
  auto w = l.acquire(t);
  EXPECT_GT(w, 1999ms);
  EXPECT_LE(w, 2000ms);
  EXPECT_EQ(passed_within(l, t, 10s), 5);
}

TEST(RateLimiter, AfterTheBurstEveryRecordIsOneIntervalApart) {
  Clock::time_point t{};
  RateLimiter l(4, t);  // burst 4, then one per 250 ms
  for (int i = 0; i < 4; ++i) ASSERT_EQ(l.acquire(t), 0ns) << i;
  auto prev = t;
  for (int i = 0; i < 20; ++i) {
    for (auto w = l.acquire(t); w != 0ns; w = l.acquire(t)) t += w;  // ends: w > 0 moves t
    if (i > 0) {
      EXPECT_GE(t - prev, 249ms) << i;
      EXPECT_LE(t - prev, 251ms) << i;
    }
    prev = t;
  }
}

TEST(RateLimiter, FractionalRateAboveOne) {
  Clock::time_point t{};
  RateLimiter l(2.5, t);  // burst 2.5: 2 at once, then 2.5/s
  EXPECT_EQ(l.acquire(t), 0ns);
  EXPECT_EQ(l.acquire(t), 0ns);
  auto w = l.acquire(t);  // half a token left: 0.5 / 2.5 = 200 ms
  EXPECT_GT(w, 199ms);
  EXPECT_LE(w, 200ms);
  Clock::time_point t2{};
  RateLimiter l2(2.5, t2);
  EXPECT_EQ(passed_within(l2, t2, 10s), 2 + 25);  // 2.5 banked + 25 earned = 27.5
}

TEST(RateLimiter, IdleTimeDoesNotBankMoreThanTheBurst) {
  Clock::time_point t{};
  RateLimiter l(5, t);
  t += 1h;
  int now = 0;
  while (now < 1000 && l.acquire(t) == 0ns) ++now;  // bounded for a broken limiter
  EXPECT_EQ(now, 5);
  // and afterwards the rate is back to one per 200 ms
  auto w = l.acquire(t);
  EXPECT_GT(w, 0ns);
  EXPECT_LE(w, 200ms);
  RateLimiter slow(0.25, t);  // burst 1 even below one record per second
  t += 24h;
  EXPECT_EQ(slow.acquire(t), 0ns);
  EXPECT_GT(slow.acquire(t), 3999ms);
}

}  // namespace
}  // namespace millrace::cli
