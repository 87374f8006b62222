// HwWaiters: the parked Fetch requests of one partition, woken when its high
// watermark may have moved (Kafka's DelayedFetch purgatory keyed by partition,
// Redpanda's visible-offset monitor), not on any append anywhere (REVIEW C18).
// Each Partition owns one; wait_for_hw() parks a Fetch on several.
//
// A version, bumped by notify() after the high watermark may have moved: the
// Partition after an append (HwPolicy kOnAppend), and the PartitionManager
// when a flush moved it (kOnFlush, the default with log.flush.on.acks.all:
// LogOptions::on_hw_moved in broker/main.cc). A waiter reads version() of its
// partitions, checks them, and if it needs more data awaits
// wait_for_hw(waiters, seen, deadline): that returns at once if any of them
// moved since `seen`, else when one of them is notified or the deadline
// passes. Timers are cancelled on their own executor.
//
// Thread-safety: any thread.
#pragma once

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace millrace::cluster {

class HwWaiters {
 public:
  using Timer = std::shared_ptr<boost::asio::steady_timer>;

  uint64_t version() const;
  void notify();  // bumps the version, wakes every parked timer
  size_t waiters() const;  // for tests and metrics

  // Registers `t` unless the version moved past `seen` (then false).
  bool park(uint64_t seen, const Timer& t);
  void unpark(const Timer& t);

 private:
  mutable std::mutex mu_;
  uint64_t version_ = 0;       // GUARDED_BY(mu_)
  std::vector<Timer> timers_;  // GUARDED_BY(mu_)
};

// The versions of `ws`, in order (what a waiter saw before it looked).
std::vector<uint64_t> hw_versions(std::span<HwWaiters* const> ws);

// REQUIRES: seen.size() == ws.size() (from hw_versions(ws)); every waiter
// outlives the call (hold its Partition).
boost::asio::awaitable<void> wait_for_hw(std::vector<HwWaiters*> ws, std::vector<uint64_t> seen,
                                         std::chrono::steady_clock::time_point deadline);

}  // namespace millrace::cluster
