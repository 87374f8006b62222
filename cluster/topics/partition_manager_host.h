// PartitionManagerHost: the PartitionHost (partition_host.h) over the
// partition manager (cluster/partition): the reconciler creates and removes
// partitions through it, so the manager learns of them at once instead of
// catching up with the log manager (PartitionManager::sync_with_logs). Configs,
// offline stand-ins and the listing still go to the log manager the manager
// wraps (it adopts an offline stand-in as a partition on first get()).
//
// Thread-safety: as PartitionManager and LogManager: any thread.
#pragma once

#include "cluster/partition/partition_manager.h"
#include "cluster/topics/partition_host.h"

namespace millrace::cluster {

class PartitionManagerHost final : public LogManagerPartitionHost {
 public:
  // `partitions` wraps `logs`; both outlive this host.
  PartitionManagerHost(PartitionManager& partitions, storage::LogManager& logs)
      : LogManagerPartitionHost(logs), partitions_(partitions) {}
  storage::Status create(const storage::TopicPartition& tp, const std::map<std::string, std::string>& configs) override {
    auto r = partitions_.create(tp, configs);
    return r.ok() ? storage::Status::Ok() : r.status();
  }
  storage::Status remove(const storage::TopicPartition& tp) override {
    auto s = partitions_.remove(tp);
    return s.code() == storage::Errc::kNotFound ? storage::Status::Ok() : s;
  }

 private:
  PartitionManager& partitions_;
};

}  // namespace millrace::cluster
