#include "cluster/partition/partition_manager.h"

#include <mutex>
#include <vector>
#include <utility>

namespace millrace::cluster {

PartitionManager::PartitionManager(storage::LogManager& logs, int32_t self, PartitionOptions options)
    : logs_(logs), self_(self), options_(options) {}

std::shared_ptr<Partition> PartitionManager::get(const storage::TopicPartition& tp) {
  auto log = logs_.get(tp);
  if (!log) {
    forget(tp);
    return nullptr;
  }
  {
    std::shared_lock lock(mu_);
    auto it = partitions_.find(tp);
    if (it != partitions_.end() && it->second->log() == log) return it->second;
  }
  std::unique_lock lock(mu_);
  return adopt_locked(tp, std::move(log));
}

std::shared_ptr<Partition> PartitionManager::adopt(const storage::TopicPartition& tp,
                                                   std::shared_ptr<storage::Log> log) {
  std::unique_lock lock(mu_);
  return adopt_locked(tp, std::move(log));
}

std::shared_ptr<Partition> PartitionManager::adopt_locked(const storage::TopicPartition& tp,
                                                          std::shared_ptr<storage::Log> log) {
  auto& slot = partitions_[tp];
  if (slot && slot->log() == log) return slot;  // another thread adopted it first
  auto replaced = std::move(slot);
  slot = std::make_shared<Partition>(tp, std::move(log),
                                     options_.initial_facts ? options_.initial_facts(tp) : sole_leader(self_), options_);
  if (replaced) replaced->notify_hw_moved();  // its parked fetches look again
  return slot;
}

void PartitionManager::forget(const storage::TopicPartition& tp) {
  std::shared_ptr<Partition> gone;
  {
    std::unique_lock lock(mu_);
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) return;
    gone = std::move(it->second);
    partitions_.erase(it);
  }
  gone->notify_hw_moved();
}

storage::Result<std::shared_ptr<Partition>> PartitionManager::create(
    const storage::TopicPartition& tp, const std::map<std::string, std::string>& overrides) {
  auto log = logs_.create(tp, overrides);
  if (!log.ok()) return log.status();
  return adopt(tp, std::move(log).value());
}

storage::Status PartitionManager::remove(const storage::TopicPartition& tp) {
  auto st = logs_.remove(tp);
  if (st.ok()) forget(tp);
  return st;
}

void PartitionManager::sync_with_logs() {
  std::vector<std::shared_ptr<Partition>> gone;
  {
    std::unique_lock lock(mu_);
    for (auto it = partitions_.begin(); it != partitions_.end();) {
      if (logs_.get(it->first) == it->second->log()) {
        ++it;
        continue;
      }
      gone.push_back(std::move(it->second));
      it = partitions_.erase(it);
    }
  }
  for (auto& p : gone) p->notify_hw_moved();  // their parked fetches look again
}

void PartitionManager::notify_hw_moved(const storage::TopicPartition& tp) {
  std::shared_ptr<Partition> p;
  {
    std::shared_lock lock(mu_);
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) return;  // nobody holds it, so nobody waits on it
    p = it->second;
  }
  p->notify_hw_moved();
}

}  // namespace millrace::cluster
