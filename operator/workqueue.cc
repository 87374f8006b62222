#include "operator/workqueue.h"

namespace millrace::op {

std::chrono::milliseconds ExponentialBackoff::delay(int failures) const {
  if (failures < 1) return std::chrono::milliseconds(0);
  auto d = base_;
  for (int i = 1; i < failures; ++i) {
    if (d >= max_ / 2) return max_;
    d *= 2;
  }
  return std::min(d, max_);
}

void WorkQueue::add_locked(const std::string& key) {
  if (shutdown_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // re-queued by done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lk(mu_);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard lk(mu_);
  if (shutdown_) return;
  if (delay.count() <= 0) {
    add_locked(key);
    return;
  }
  delayed_.emplace(Clock::now() + delay, key);
  cv_.notify_all();
}

std::chrono::milliseconds WorkQueue::add_rate_limited(const std::string& key) {
  int n;
  {
    std::lock_guard lk(mu_);
    n = ++failures_[key];
  }
  auto d = backoff_.delay(n);
  add_after(key, d);
  return d;
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lk(mu_);
  failures_.erase(key);
}

int WorkQueue::failures(const std::string& key) const {
  std::lock_guard lk(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promote_due_locked(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    auto key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    add_locked(key);
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (shutdown_) return std::nullopt;
    promote_due_locked(Clock::now());
    if (!queue_.empty()) break;
    ++waiting_;
    if (delayed_.empty()) {
      cv_.wait(lk);
    } else {
      cv_.wait_until(lk, delayed_.begin()->first);
    }
    --waiting_;
  }
  auto key = queue_.front();
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lk(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutdown() {
  std::lock_guard lk(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

size_t WorkQueue::size() const {
  std::lock_guard lk(mu_);
  return queue_.size();
}

int WorkQueue::waiting() const {
  std::lock_guard lk(mu_);
  return waiting_;
}

}  // namespace millrace::op
