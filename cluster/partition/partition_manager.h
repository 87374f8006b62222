// PartitionManager: the partitions this broker serves, by topic-partition;
// what handlers ask for a partition (get) instead of the LogManager.
//
// Wraps storage::LogManager, which still creates and removes the logs today
// (the topic registry calls it). The manager stays coherent with it: get()
// adopts a log it has not seen yet, and notices a log that was removed or
// replaced (a topic deleted and re-created under the same name) — the old
// Partition's parked fetches are woken so they look again. A reconciler that
// owns creation can call create()/remove() (through the LogManager) or
// adopt() instead.
//
// Every partition starts as PartitionOptions::initial_facts says (by
// default sole_leader(self): this node, epoch 0) until set_leadership() says
// otherwise.
//
// Thread-safety: every call may run concurrently from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

#include "cluster/partition/partition.h"
#include "storage/log_manager.h"

namespace millrace::cluster {

class PartitionManager {
 public:
  PartitionManager(storage::LogManager& logs, int32_t self, PartitionOptions options = {});

  int32_t self() const { return self_; }

  // The partition, or null when the log manager has no log for it. An
  // offline log (Log::is_offline) is a partition too (served_partition.h).
  std::shared_ptr<Partition> get(const storage::TopicPartition& tp);

  // Creates the log (LogManager::create) and its partition.
  storage::Result<std::shared_ptr<Partition>> create(const storage::TopicPartition& tp,
                                                     const std::map<std::string, std::string>& overrides = {});
  // Removes the log (LogManager::remove) and forgets the partition.
  storage::Status remove(const storage::TopicPartition& tp);
  // Serves `log` as `tp` (a log the caller created or loaded), replacing a
  // partition with another log.
  std::shared_ptr<Partition> adopt(const storage::TopicPartition& tp, std::shared_ptr<storage::Log> log);

  // Forgets every partition whose log the LogManager no longer holds (or
  // holds another log for), waking its waiters: until the reconciler calls
  // remove(), the broker calls this after each topic change, so a deleted
  // partition's Log (its open files) is not kept alive here.
  void sync_with_logs();

  // LogOptions::on_hw_moved: a flush moved `tp`'s high watermark. Any thread;
  // does not block on the disk.
  void notify_hw_moved(const storage::TopicPartition& tp);

 private:
  std::shared_ptr<Partition> adopt_locked(const storage::TopicPartition& tp, std::shared_ptr<storage::Log> log);
  void forget(const storage::TopicPartition& tp);

  storage::LogManager& logs_;
  const int32_t self_;
  const PartitionOptions options_;
  mutable std::shared_mutex mu_;
  std::map<storage::TopicPartition, std::shared_ptr<Partition>> partitions_;  // GUARDED_BY(mu_)
};

}  // namespace millrace::cluster
