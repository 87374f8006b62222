#include "cluster/partition/hw_waiters.h"

#include <utility>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <utility>

namespace millrace::cluster {

namespace asio = boost::asio;

uint64_t HwWaiters::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

void HwWaiters::notify() {
  std::vector<Timer> woken;
  {
    std::lock_guard lock(mu_);
    ++version_;
    woken.swap(timers_);
  }
  for (auto& t : woken) asio::post(t->get_executor(), [t] { t->cancel(); });
}

size_t HwWaiters::waiters() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

bool HwWaiters::park(uint64_t seen, const Timer& t) {
  std::lock_guard lock(mu_);
  if (version_ != seen) return false;
  timers_.push_back(t);
  return true;
}

void HwWaiters::unpark(const Timer& t) {
  std::lock_guard lock(mu_);
  timers_.erase(std::remove(timers_.begin(), timers_.end(), t), timers_.end());
}

std::vector<uint64_t> hw_versions(std::span<HwWaiters* const> ws) {
  std::vector<uint64_t> out;
  out.reserve(ws.size());
  for (auto* w : ws) out.push_back(w->version());
  return out;
}

asio::awaitable<void> wait_for_hw(std::vector<HwWaiters*> ws, std::vector<uint64_t> seen,
                                  std::chrono::steady_clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(ex, deadline);
  // Park on each in turn; one that moved since `seen` (before or while we
  // park on the others) means there may be data: undo and return.
  for (size_t i = 0; i < ws.size(); ++i) {
    if (!ws[i]->park(seen[i], timer)) {
      for (size_t j = 0; j < i; ++j) ws[j]->unpark(timer);
      co_return;
    }
  }
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  for (auto* w : ws) w->unpark(timer);
}

}  // namespace millrace::cluster
