// Wakes Fetch requests parked in long poll when any partition gets data.
//
// A waiter reads version(), checks its partitions, and if it needs more data
// calls wait(seen_version, deadline): it returns at once if an append
// happened since `seen_version`, else when notify() is called or the deadline
// passes. Every append wakes every waiter (single node, few waiters); each
// re-checks its own partitions. Timers are cancelled on their own executor.
//
// Thread-safety: any thread.
#pragma once

#include <utility>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace millrace::broker {

class AppendNotifier {
 public:
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  void notify();
  boost::asio::awaitable<void> wait(uint64_t seen_version, std::chrono::steady_clock::time_point deadline);

 private:
  std::atomic<uint64_t> version_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters_;  // GUARDED_BY(mu_)
};

}  // namespace millrace::broker
