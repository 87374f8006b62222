#include "cluster/replication/io_pool.h"

namespace millrace::cluster {

IoPool::IoPool(int threads) {
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

IoPool::~IoPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : workers_) t.join();
}

void IoPool::drain(const std::function<void(size_t)>& fn, size_t n) {
  for (size_t i = next_.fetch_add(1); i < n; i = next_.fetch_add(1)) fn(i);
}

void IoPool::work() {
  uint64_t seen = 0;
  std::unique_lock lock(mu_);
  for (;;) {
    start_.wait(lock, [&] { return stop_ || round_ != seen; });
    if (stop_) return;
    seen = round_;
    if (!fn_) continue;  // woke after that round ended: nothing left of it
    const auto* fn = fn_;
    const size_t n = n_;
    ++busy_;
    lock.unlock();
    drain(*fn, n);
    lock.lock();
    if (--busy_ == 0) done_.notify_all();
  }
}

void IoPool::run(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (n == 1 || workers_.empty()) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  {
    std::lock_guard lock(mu_);
    fn_ = &fn;
    n_ = n;
    next_.store(0);
    ++round_;
  }
  start_.notify_all();
  drain(fn, n);
  // Every index is taken; wait for the workers still running theirs. A worker
  // that wakes only after this finds fn_ null and waits for the next round.
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return busy_ == 0 && next_.load() >= n; });
  fn_ = nullptr;
}

}  // namespace millrace::cluster
