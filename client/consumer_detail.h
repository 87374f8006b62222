// Small helpers shared by the consumer's files (consumer.cc, consumer_group.cc,
// consumer_fetcher.cc); not part of the client's interface.
#pragma once

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>

namespace millrace::client::consumer_detail {

inline int64_t mono_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline boost::asio::awaitable<void> sleep_for(boost::asio::io_context& io, int64_t ms) {
  boost::asio::steady_timer t(io);
  t.expires_after(std::chrono::milliseconds(ms));
  boost::system::error_code ec;
  co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

}  // namespace millrace::client::consumer_detail
