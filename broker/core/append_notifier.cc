#include "broker/core/append_notifier.h"

#include <utility>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace millrace::broker {

namespace asio = boost::asio;

std::vector<uint64_t> AppendNotifier::versions(std::span<const NotifyKey> keys) const {
  std::vector<uint64_t> out;
  out.reserve(keys.size());
  std::lock_guard lock(mu_);
  for (const auto& k : keys) {
    auto it = entries_.find(k);
    out.push_back(it == entries_.end() ? 0 : it->second.version);
  }
  return out;
}

void AppendNotifier::notify(const NotifyKey& key) {
  std::vector<Timer> woken;
  {
    std::lock_guard lock(mu_);
    auto& e = entries_[key];
    ++e.version;
    woken.swap(e.waiters);
  }
  for (auto& t : woken) asio::post(t->get_executor(), [t] { t->cancel(); });
}

size_t AppendNotifier::waiters(const NotifyKey& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.waiters.size();
}

asio::awaitable<void> AppendNotifier::wait(std::span<const NotifyKey> keys, std::vector<uint64_t> seen,
                                           std::chrono::steady_clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(ex, deadline);
  // Own the keys: the caller's span need not outlive the registration.
  std::vector<NotifyKey> mine(keys.begin(), keys.end());
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < mine.size(); ++i) {
      auto it = entries_.find(mine[i]);
      if ((it == entries_.end() ? 0 : it->second.version) != seen[i]) co_return;
    }
    for (const auto& k : mine) entries_[k].waiters.push_back(timer);
  }
  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  std::lock_guard lock(mu_);
  for (const auto& k : mine) {
    auto it = entries_.find(k);
    if (it == entries_.end()) continue;
    auto& w = it->second.waiters;
    w.erase(std::remove(w.begin(), w.end(), timer), w.end());
  }
}

}  // namespace millrace::broker
