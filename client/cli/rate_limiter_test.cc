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
  while (t <= end) {
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

TEST(RateLimiter, IdleTimeDoesNotBankMoreThanTheBurst) {
  Clock::time_point t{};
  RateLimiter l(5, t);
  t += 1h;
  int now = 0;
  while (l.acquire(t) == 0ns) ++now;
  EXPECT_EQ(now, 5);
}

}  // namespace
}  // namespace millrace::cli
