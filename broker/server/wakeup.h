// Wakeup: wakes one coroutine parked in wait() when another calls notify(),
// both on the same io_context thread (a condition variable for coroutines).
// A notify() with no waiter is lost, so a waiter re-checks its condition in a
// loop: `while (!cond) co_await w.wait();`. Between the check and the park
// nothing else runs (one thread, no suspension), so no wake-up is missed.
#pragma once

#include <utility>  // before awaitable.hpp (Boost 1.74)
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace millrace::broker {

class Wakeup {
 public:
  explicit Wakeup(const boost::asio::any_io_executor& ex) : timer_(ex) {}

  boost::asio::awaitable<void> wait() {
    timer_.expires_at(boost::asio::steady_timer::time_point::max());
    boost::system::error_code ec;  // operation_aborted is the wake-up
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace millrace::broker
