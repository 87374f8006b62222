// Which partition a request may read or change, or the error to answer
// instead: UNKNOWN_TOPIC_OR_PARTITION when absent, KAFKA_STORAGE_ERROR when its
// log is offline (fail-stop, storage/log_dir_health.h; Kafka's
// ReplicaManager.getPartitionOrException on HostedPartition.Offline). Used by
// ListOffsets, OffsetForLeaderEpoch and DeleteRecords; Produce and Fetch learn
// the same from the Log's own kStorageError answers.
//
// Thread-safety: as PartitionManager::get.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cluster/partition/partition_manager.h"
#include "protocol/generated/error_codes.h"

namespace millrace::cluster {

struct ServedPartition {
  std::shared_ptr<Partition> partition;  // null when error_code != 0
  int16_t error_code = 0;
};

inline ServedPartition served_partition(PartitionManager& partitions, const std::string& topic, int32_t partition) {
  auto p = partitions.get({topic, partition});
  if (!p) return {nullptr, proto::code(proto::ErrorCode::kUnknownTopicOrPartition)};
  if (p->is_offline()) return {nullptr, proto::code(proto::ErrorCode::kKafkaStorageError)};
  return {std::move(p), 0};
}

}  // namespace millrace::cluster
