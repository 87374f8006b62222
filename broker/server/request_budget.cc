#include "broker/server/request_budget.h"

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
  auto w = std::make_shared<Waiter>();
  w->n = n;
  if (parked) *parked = w;
  bool granted = co_await asio::async_initiate<decltype(asio::use_awaitable), void(bool)>(
      [this, w](auto handler) {
        w->resume = resumer(std::move(handler));
        std::vector<std::shared_ptr<Waiter>> ready;
        {
          std::lock_guard l(mu_);
          queue_.push_back(w);
          grant_locked(ready);  // released between try_acquire and here
        }
        for (auto& r : ready) r->resume(true);
      },
      asio::use_awaitable);
  if (parked) parked->reset();
  co_return Grant{granted, true, granted ? Units(this, n) : Units()};
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
  for (auto& w : ready) w->resume(true);
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
  if (found) w->resume(false);
  for (auto& r : ready) r->resume(true);
}

void RequestBudget::cancel_all() {
  std::deque<std::shared_ptr<Waiter>> all;
  {
    std::lock_guard l(mu_);
    all.swap(queue_);
  }
  for (auto& w : all) w->resume(false);
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
