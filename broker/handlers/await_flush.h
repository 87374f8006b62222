// Bridges storage::Log::flush_up_to (callback on the flush thread) into a
// coroutine that resumes on the caller's executor with the flush Status:
// await_flush(log, o, ex) starts the flush when awaited. (A flush started at
// once and awaited later, as Produce's two stages need, is
// cluster::AckWait::sync in cluster/partition/partition.h.)
#pragma once

#include <utility>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

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

}  // namespace millrace::broker
