// PartitionHost: the narrow interface through which the topic reconciler
// (reconciler.h) makes the partitions the topic table lists exist on this node.
// Implemented today by LogManagerPartitionHost over storage::LogManager; the
// partition manager (cluster/partition) can implement it the same way.
//
// Thread-safety: implementations must be callable from any thread; the
// reconciler calls them from its own thread, never from an io thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "storage/log_manager.h"
#include "storage/status.h"

namespace millrace::cluster {

class PartitionHost {
 public:
  virtual ~PartitionHost() = default;
  // Makes the partition exist with the topic's Kafka-named overrides; durable
  // (its directory fsynced) when it returns ok. kAlreadyExists when present.
  virtual storage::Status create(const storage::TopicPartition& tp,
                                 const std::map<std::string, std::string>& configs) = 0;
  // Deletes the partition and its data; a missing partition is ok.
  virtual storage::Status remove(const storage::TopicPartition& tp) = 0;
  // Applies the topic's overrides to its partitions, present and future.
  virtual storage::Status set_configs(const std::string& topic, const std::map<std::string, std::string>& configs) = 0;
  // Serves `tp` as offline (every request answers KAFKA_STORAGE_ERROR) without
  // touching the disk: the table lists it, the disk does not have it.
  virtual storage::Status mark_offline(const storage::TopicPartition& tp, const storage::Status& why) = 0;
  // Every partition this node holds (offline ones included).
  virtual std::vector<storage::TopicPartition> partitions() const = 0;
  virtual bool has(const storage::TopicPartition& tp) const = 0;
};

// The adapter over the log manager.
class LogManagerPartitionHost : public PartitionHost {
 public:
  explicit LogManagerPartitionHost(storage::LogManager& logs) : logs_(logs) {}
  storage::Status create(const storage::TopicPartition& tp, const std::map<std::string, std::string>& configs) override;
  storage::Status remove(const storage::TopicPartition& tp) override;
  storage::Status set_configs(const std::string& topic, const std::map<std::string, std::string>& configs) override;
  storage::Status mark_offline(const storage::TopicPartition& tp, const storage::Status& why) override;
  std::vector<storage::TopicPartition> partitions() const override;
  bool has(const storage::TopicPartition& tp) const override;

 protected:
  storage::LogManager& logs_;
};

}  // namespace millrace::cluster
