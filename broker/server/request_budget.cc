#include "broker/server/request_budget.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <vector>

namespace millrace::broker {

namespace asio = boost::asio;

bool RequestBudget::try_acquire(int64_t n) {
  std::lock_guard l(mu_);
  if (!queue_.empty() || available_ < n) return false;
  available_ -= n;
  if (on_change) on_change(n);
  return true;
}

asio::awaitable<RequestBudget::Grant> RequestBudget::acquire(int64_t bytes, std::shared_ptr<Waiter>* parked) {
  if (!bounded()) co_return Grant{true, false, Units()};
  const int64_t n = std::clamp<int64_t>(bytes, 0, capacity_);
  if (try_acquire(n)) co_return Grant{true, false, Units(this, n)};
  auto w = std::make_shared<Waiter>(co_await asio::this_coro::executor);
  w->n = n;
  if (parked) *parked = w;
  {
    std::vector<std::shared_ptr<Waiter>> ready;
    {
      std::lock_guard l(mu_);
      queue_.push_back(w);
      grant_locked(ready);  // released between try_acquire and here
    }
    for (auto& r : ready) wake(r, true);
  }
  while (!w->done) {
    w->timer.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;  // cancel() is the wake-up
    co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (parked) parked->reset();
  co_return Grant{w->granted, true, w->granted ? Units(this, n) : Units()};
}

void RequestBudget::wake(const std::shared_ptr<Waiter>& w, bool granted) {
  asio::post(w->executor, [w, granted] {
    w->granted = granted;
    w->done = true;
    w->timer.cancel();
  });
}

void RequestBudget::grant_locked(std::vector<std::shared_ptr<Waiter>>& out) {
  while (!queue_.empty() && queue_.front()->n <= available_) {
    available_ -= queue_.front()->n;
    if (on_change) on_change(queue_.front()->n);
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
}

void RequestBudget::release(int64_t n) {
  std::vector<std::shared_ptr<Waiter>> ready;
  {
    std::lock_guard l(mu_);
    available_ += n;
    if (on_change) on_change(-n);
    grant_locked(ready);
  }
  for (auto& w : ready) wake(w, true);
}

void RequestBudget::cancel(const std::shared_ptr<Waiter>& w) {
  if (!w) return;
  std::vector<std::shared_ptr<Waiter>> ready;
  bool found = false;
  {
    std::lock_guard l(mu_);
    auto it = std::find(queue_.begin(), queue_.end(), w);
    if (it != queue_.end()) {
      found = true;
      queue_.erase(it);
      grant_locked(ready);  // the head may have been the one blocking the rest
    }
  }
  if (found) wake(w, false);
  for (auto& r : ready) wake(r, true);
}

void RequestBudget::cancel_all() {
  std::deque<std::shared_ptr<Waiter>> all;
  {
    std::lock_guard l(mu_);
    all.swap(queue_);
  }
  for (auto& w : all) wake(w, false);
}

int64_t RequestBudget::in_use() const {
  std::lock_guard l(mu_);
  return capacity_ - available_;
}

size_t RequestBudget::waiting() const {
  std::lock_guard l(mu_);
  return queue_.size();
}

}  // namespace millrace::broker
