// Wakes Fetch requests parked in long poll when one of *their* partitions
// gets data (Kafka's DelayedFetch purgatory keyed by partition, Redpanda's
// visible-offset monitor), not on any append anywhere (REVIEW C18).
//
// Each partition has a version, bumped by notify(partition) after its high
// watermark may have moved: the produce path after an append (HwPolicy
// kOnAppend), and the flush pool when an fsync moved it (kOnFlush, the default
// with log.flush.on.acks.all: LogOptions::on_hw_moved in broker/main.cc). A waiter reads versions() of its
// partitions, checks them, and if it needs more data calls wait(partitions,
// seen, deadline): that returns at once if any of its partitions moved since
// `seen`, else when one of them is notified or the deadline passes. Timers are
// cancelled on their own executor.
//
// Thread-safety: any thread.
#pragma once

#include <utility>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace millrace::broker {

struct NotifyKey {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const NotifyKey&) const = default;
};

class AppendNotifier {
 public:
  std::vector<uint64_t> versions(std::span<const NotifyKey> keys) const;
  void notify(const NotifyKey& key);
  // REQUIRES: seen.size() == keys.size() (from versions(keys)).
  boost::asio::awaitable<void> wait(std::span<const NotifyKey> keys, std::vector<uint64_t> seen,
                                    std::chrono::steady_clock::time_point deadline);
  size_t waiters(const NotifyKey& key) const;  // for tests and metrics

 private:
  using Timer = std::shared_ptr<boost::asio::steady_timer>;
  struct Entry {
    uint64_t version = 0;
    std::vector<Timer> waiters;
  };
  mutable std::mutex mu_;
  std::map<NotifyKey, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace millrace::broker
