// Bridges storage::Log::flush_up_to (callback on the flush thread) into
// coroutines that resume on the caller's executor with the flush Status.
//
//   await_flush(log, o, ex)      starts the flush when awaited.
//   PendingFlush::start(log, o, ex) starts it at once and is awaited later
//                                (pipelined Produce: the fsync begins in stage 1,
//                                stage 2 awaits it). The flush callback holds
//                                the shared state, so it may fire after the
//                                awaiting request, or its connection, is gone.
#pragma once

#include <utility>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <optional>

#include "storage/log.h"

namespace millrace::broker {

inline boost::asio::awaitable<storage::Status> await_flush(storage::Log& log, Offset up_to,
                                                           boost::asio::any_io_executor ex) {
  return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(storage::Status)>(
      [&log, up_to, ex](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        log.flush_up_to(up_to, [h, ex](storage::Status st) {
          boost::asio::post(ex, [h, st = std::move(st)]() mutable { (*h)(std::move(st)); });
        });
      },
      boost::asio::use_awaitable);
}

// A flush already asked for; one coroutine on `ex` awaits it with wait().
// Thread: the result is set on `ex` (posted from the flush thread), so
// start(), wait() and the completion all run on ex's one thread.
class PendingFlush {
 public:
  static std::shared_ptr<PendingFlush> start(storage::Log& log, Offset up_to, boost::asio::any_io_executor ex) {
    auto p = std::shared_ptr<PendingFlush>(new PendingFlush(ex));
    log.flush_up_to(up_to, [p, ex](storage::Status st) {
      boost::asio::post(ex, [p, st = std::move(st)]() mutable {
        p->status_ = std::move(st);
        p->timer_.cancel();
      });
    });
    return p;
  }

  // REQUIRES: called once, on `ex`.
  boost::asio::awaitable<storage::Status> wait() {
    if (!status_) {
      timer_.expires_at(boost::asio::steady_timer::time_point::max());
      boost::system::error_code ec;  // cancel() is the completion
      co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    co_return status_ ? *status_ : storage::Status(storage::Errc::kClosed, "flush did not complete");
  }

 private:
  explicit PendingFlush(boost::asio::any_io_executor ex) : timer_(ex) {}
  boost::asio::steady_timer timer_;
  std::optional<storage::Status> status_;
};

}  // namespace millrace::broker
