// The reconcile work queue, after client-go's rate-limited workqueue: a key
// ("namespace/name") is queued at most once, is never handed to two workers at
// once (a key added while being processed is re-queued when done), and failed
// keys come back after an exponential backoff. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace millrace::op {

using Clock = std::chrono::steady_clock;

// delay(n) = min(base * 2^(n-1), max) for the n-th consecutive failure (n >= 1).
class ExponentialBackoff {
 public:
  ExponentialBackoff(std::chrono::milliseconds base, std::chrono::milliseconds max) : base_(base), max_(max) {}
  std::chrono::milliseconds delay(int failures) const;

 private:
  std::chrono::milliseconds base_, max_;
};

class WorkQueue {
 public:
  explicit WorkQueue(ExponentialBackoff backoff = {std::chrono::milliseconds(100), std::chrono::seconds(60)})
      : backoff_(backoff) {}

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  // Re-queue after the backoff for this key's consecutive failures; returns that delay.
  std::chrono::milliseconds add_rate_limited(const std::string& key);
  // The key succeeded: its failure count starts again from zero.
  void forget(const std::string& key);
  int failures(const std::string& key) const;

  // Blocks until a key is ready or the queue shuts down (nullopt).
  // REQUIRES: the caller calls done(key) when finished with it.
  std::optional<std::string> get();
  void done(const std::string& key);
  void shutdown();
  size_t size() const;
  // Workers blocked inside get() right now (a probe for tests: no sleeps).
  int waiting() const;

 private:
  void add_locked(const std::string& key);
  void promote_due_locked(Clock::time_point now);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or waiting to be re-queued
  std::unordered_set<std::string> processing_;  // handed out, not yet done
  std::multimap<Clock::time_point, std::string> delayed_;
  std::unordered_map<std::string, int> failures_;
  ExponentialBackoff backoff_;
  bool shutdown_ = false;
  int waiting_ = 0;
};

}  // namespace millrace::op
