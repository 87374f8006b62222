#include "broker/core/append_notifier.h"

#include <utility>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace millrace::broker {

namespace asio = boost::asio;

void AppendNotifier::notify() {
  std::vector<std::shared_ptr<asio::steady_timer>> woken;
  {
    std::lock_guard lock(mu_);
    version_.fetch_add(1, std::memory_order_acq_rel);
    woken.swap(waiters_);
  }
  for (auto& t : woken) asio::post(t->get_executor(), [t] { t->cancel(); });
}

asio::awaitable<void> AppendNotifier::wait(uint64_t seen_version, std::chrono::steady_clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(ex, deadline);
  {
    std::lock_guard lock(mu_);
    if (version_.load(std::memory_order_acquire) != seen_version) co_return;
    waiters_.push_back(timer);
  }
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  std::lock_guard lock(mu_);
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), timer), waiters_.end());
}

}  // namespace millrace::broker
