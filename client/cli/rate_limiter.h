// A token bucket for `millrace consume --max-rate`: at most `per_second`
// records per second on average, bursts of at most max(1, per_second). Pure:
// the caller passes the time and sleeps for what acquire() returns.
#pragma once

#include <algorithm>
#include <chrono>

namespace millrace::cli {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // REQUIRES: per_second > 0.
  RateLimiter(double per_second, Clock::time_point now)
      : rate_(per_second), burst_(std::max(1.0, per_second)), tokens_(burst_), last_(now) {}

  // Zero when one record may pass now (its token is taken); otherwise how long
  // until one may (nothing is taken: call again after waiting).
  std::chrono::nanoseconds acquire(Clock::time_point now) {
    if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
      last_ = now;
    }
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return std::chrono::nanoseconds(0);
    }
    auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate_);
    return std::max(std::chrono::nanoseconds(1), std::chrono::duration_cast<std::chrono::nanoseconds>(wait));
  }

 private:
  double rate_, burst_, tokens_;
  Clock::time_point last_;
};

}  // namespace millrace::cli
