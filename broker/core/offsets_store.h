// The coordinator's GroupStore on the internal compacted topic
// __consumer_offsets (record layouts: coordination/offsets_format.h). Every
// group is kept in partition 0; the topic is created with
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

#include "coordination/group_coordinator.h"
#include "coordination/group_store.h"
#include "storage/log.h"

namespace millrace::broker {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

class OffsetsLogStore : public coordination::GroupStore {
 public:
  explicit OffsetsLogStore(std::shared_ptr<storage::Log> log) : log_(std::move(log)) {}
  bool append(const std::vector<coordination::StoredRecord>& records) override;

  // Feeds every record of the log to the coordinator, then starts restored
  // members' session timers afresh (finish_replay). Returns an error message
  // (unreadable log), empty when ok. Bad records are skipped.
  std::string replay_into(coordination::GroupCoordinator& coordinator, int64_t& records_read) const;

 private:
  std::shared_ptr<storage::Log> log_;
};

}  // namespace millrace::broker
