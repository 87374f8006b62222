// How a partition is reported: one answer for every handler that fills a
// partition's leader/epoch (Metadata, DescribeTopicPartitions, FindCoordinator);
// handlers that serve a partition's data take it from
// cluster/partition/served_partition.h, so an offline partition (its log dir
// failed, or it failed to load: fail-stop, storage/log_dir_health.h) never
// looks normal in one and offline in another.
// Produce and Fetch learn the same from the Log's own kStorageError answers.
//
// What Kafka answers for a partition whose only replica sits in an offline log
// dir (read from Apache Kafka 4.x, not copied):
//  - Metadata / DescribeTopicPartitions (metadata/.../KRaftMetadataCache.java,
//    partitionMetadata, partitionMetadataForDescribeTopicResponse,
//    getOfflineReplicas / isReplicaInOfflineDir): the controller has moved the
//    leader to NO_LEADER (-1) because no other in-sync replica exists, so the
//    partition answers error LEADER_NOT_AVAILABLE (5; DescribeTopicPartitions has
//    no per-partition error, only leader -1), replicas and ISR still name the
//    broker, and offline_replicas lists it. Kafka bumps the leader epoch on
//    that change; Millrace has no leader epochs yet (always 0), so it stays 0.
//  - ListOffsets, OffsetForLeaderEpoch, DeleteRecords (core/.../ReplicaManager
//    .scala, getPartitionOrException / getPartitionOrError on
//    HostedPartition.Offline): KAFKA_STORAGE_ERROR (56), offsets -1.
//
// Called on io threads; reads only thread-safe state (LogManager::get,
// Log::is_offline is one atomic load).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/metadata/metadata_image.h"
#include "protocol/generated/error_codes.h"
#include "storage/log_manager.h"

namespace millrace::broker {

struct PartitionReport {
  int16_t error_code = 0;  // NONE, or LEADER_NOT_AVAILABLE when offline
  int32_t leader_id = -1;
  int32_t leader_epoch = 0;
  std::vector<int32_t> replica_nodes;
  std::vector<int32_t> isr_nodes;
  std::vector<int32_t> offline_replicas;
  bool offline = false;
};

// The Metadata view of `topic`-`partition`: leadership as the metadata image
// says (cluster/metadata/), overlaid with this node's live view of its own
// replica: a local replica whose log is offline (fail-stop) is listed in
// offline_replicas, and if it is the leader the partition has none (-1,
// LEADER_NOT_AVAILABLE), as Kafka's controller would decide with no other
// in-sync replica. `self` is this broker's id (which replica is local).
inline PartitionReport report_partition(const storage::LogManager& logs, int32_t self,
                                        const cluster::PartitionImage& image, const std::string& topic) {
  PartitionReport r;
  r.leader_id = image.leader;
  r.leader_epoch = image.leader_epoch;
  r.replica_nodes = image.replicas;
  r.isr_nodes = image.isr;
  if (image.leader < 0) r.error_code = proto::code(proto::ErrorCode::kLeaderNotAvailable);
  auto log = logs.get({topic, image.index});
  if (log && log->is_offline()) {
    r.offline = true;
    r.offline_replicas = {self};
    if (image.leader == self) {
      r.leader_id = -1;
      r.error_code = proto::code(proto::ErrorCode::kLeaderNotAvailable);
    }
  }
  return r;
}

}  // namespace millrace::broker
