// The coordinator's GroupStore on the internal compacted topic
// __consumer_offsets (record layouts: coordination/offsets_format.h). A group
// is kept on the partition its id hashes to with Kafka's formula
// (coordination/offsets_partition.h) over the topic's partition count:
// offsets.topic.num.partitions (50, as Kafka) when the broker creates the topic,
// the existing count otherwise (an offsets topic of one partition from before
// keeps every group on partition 0). The topic is created with
// cleanup.policy=compact so the log keeps the latest value per key.
//
// Durability: append() writes one uncompressed batch to the log and out of
// the log's append buffer into the file (the page cache) before it returns,
// so whatever the coordinator answers after it survives a kill -9. The
// OffsetCommit handler then waits for the fsync too when
// log.flush.on.acks.all is on (a commit is acks=all in Kafka, so it is where
// an acks=all produced record would be); group values (JoinGroup/SyncGroup)
// are fsynced by the log's flush policy and at shutdown.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coordination/group_coordinator.h"
#include "coordination/group_store.h"
#include "storage/log.h"

namespace millrace::broker {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

class OffsetsLogStore : public coordination::GroupStore {
 public:
  // partitions[p]: partition p's log (null: not hosted here, appends fail).
  explicit OffsetsLogStore(std::vector<std::shared_ptr<storage::Log>> partitions)
      : partitions_(std::move(partitions)) {}
  bool append(const std::string& group_id, const std::vector<coordination::StoredRecord>& records) override;

  int32_t partition_count() const { return static_cast<int32_t>(partitions_.size()); }
  int32_t partition_for(const std::string& group_id) const;
  // The log holding `group_id`'s records (null when not hosted).
  std::shared_ptr<storage::Log> log_for(const std::string& group_id) const;

  // Feeds every record of every partition to the coordinator, then starts
  // restored members' session timers afresh (finish_replay). Returns an error
  // message (unreadable log), empty when ok. Bad records are skipped.
  std::string replay_into(coordination::GroupCoordinator& coordinator, int64_t& records_read) const;

 private:
  std::string replay_partition(const storage::Log& log, coordination::GroupCoordinator& coordinator,
                               int64_t& records_read) const;
  std::vector<std::shared_ptr<storage::Log>> partitions_;
};

}  // namespace millrace::broker
