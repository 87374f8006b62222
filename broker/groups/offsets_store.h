// The coordinator's GroupStore on the internal compacted topic
// __consumer_offsets (record layouts: coordination/offsets_format.h). A group
// is kept on the partition its id hashes to with Kafka's formula
// (coordination/offsets_partition.h) over the topic's partition count:
// offsets.topic.num.partitions (50, as Kafka) when the broker creates the topic,
// the existing count otherwise (an offsets topic of one partition from before
// keeps every group on partition 0). The topic is created with
// cleanup.policy=compact so the log keeps the latest value per key.
//
// Writes go through the partition layer like an acks=all Produce
// (cluster::Partition::replicate, acks -1): appended in the coordinator's
// order, reported stored once written out and, under log.flush.on.acks.all,
// fsynced (later: once a majority of replicas holds them). Completions run on
// the executor given (the broker's control context), in append order per
// partition, as GroupStore requires.
//
// load_into() loads each partition into the coordinator (begin_load, every
// record, finish_load) and unloads the ones this broker cannot serve. A
// partition with replicas on other brokers (offsets.topic.replication.factor)
// is served only by its leader: load_partition() once the replication service
// reports it serving (its whole log committed), unload when leadership goes
// (broker/main.cc wires the two), so a group's coordinator moves with the
// leader of its partition, as Kafka's does.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "cluster/partition/partition_manager.h"
#include "coordination/group_coordinator.h"
#include "coordination/group_store.h"
#include "storage/log.h"

namespace millrace::broker {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

class OffsetsLogStore : public coordination::GroupStore {
 public:
  OffsetsLogStore(cluster::PartitionManager& partitions, int32_t partition_count, boost::asio::any_io_executor ex)
      : partitions_(partitions), count_(partition_count), ex_(std::move(ex)) {}
  void append(int32_t partition, std::vector<coordination::StoredRecord> records,
              std::function<void(bool)> done) override;

  int32_t partition_count() const { return count_; }

  // Loads every partition this broker serves into the coordinator and
  // unloads the others (no log, or its log dir offline): their groups get
  // NOT_COORDINATOR. Returns an error message (unreadable log), empty when
  // ok. Bad records are skipped.
  // `serve(p)` false: left to leadership (unloaded here).
  std::string load_into(coordination::GroupCoordinator& coordinator, int64_t& records_read,
                        const std::function<bool(int32_t)>& serve = nullptr) const;
  // One partition: begin_load, its log replayed, finish_load (unloaded when
  // it has no readable log here). Returns an error message, empty when ok.
  std::string load_partition(coordination::GroupCoordinator& coordinator, int32_t partition,
                             int64_t& records_read) const;

 private:
  struct InFlight {
    std::function<void(bool)> done;
    std::optional<bool> stored;
  };
  // Records the outcome of `write` and completes, in order, every write of
  // the partition at the head of its queue that has one. Runs on ex_.
  void finish(int32_t partition, const std::shared_ptr<InFlight>& write, bool ok);
  void fail_later(int32_t partition, std::shared_ptr<InFlight> write);
  std::string replay_partition(const storage::Log& log, coordination::GroupCoordinator& coordinator,
                               int64_t& records_read) const;

  cluster::PartitionManager& partitions_;
  const int32_t count_;
  boost::asio::any_io_executor ex_;
  std::mutex mu_;
  std::map<int32_t, std::deque<std::shared_ptr<InFlight>>> in_flight_;  // GUARDED_BY(mu_)
};

}  // namespace millrace::broker
