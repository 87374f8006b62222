// Bridges a callback-style domain call (the group coordinator answers
// JoinGroup/SyncGroup later, from whichever thread completes the rebalance)
// into a coroutine that resumes on the request's own executor.
#pragma once

#include <utility>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <memory>

namespace millrace::broker {

// start(callback) must call callback exactly once, from any thread.
template <typename Result, typename Start>
boost::asio::awaitable<Result> await_callback(boost::asio::any_io_executor ex, Start start) {
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(Result)>(
      [ex, start = std::move(start)](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        start(std::function<void(Result)>([h, ex](Result r) {
          boost::asio::post(ex, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
        }));
      },
      boost::asio::use_awaitable);
}

}  // namespace millrace::broker
