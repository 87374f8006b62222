// How handlers change topics: every change goes to the controller quorum's
// metadata log (broker/controller/quorum_topic_writer.h) and is answered once
// its records are committed and this node has applied them (its topic table
// and metadata image show the change). validate_only checks without writing.
// Done is called once, from any thread, with a Kafka error code and message.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/metadata/records/codec.h"
#include "cluster/topics/topic_table.h"

namespace millrace::broker {

class TopicWriter {
 public:
  using Done = std::function<void(cluster::TopicError)>;
  virtual ~TopicWriter() = default;
  // replication_factor -1: default.replication.factor.
  virtual void create_async(const std::string& name, int32_t partitions, int16_t replication_factor,
                            const std::map<std::string, std::string>& configs, bool validate_only, Done done) = 0;
  virtual void remove_async(const std::string& name, const cluster::TopicId& id, Done done) = 0;
  virtual void add_partitions_async(const std::string& name, int32_t total, bool validate_only, Done done) = 0;
  virtual void alter_configs_async(const std::string& name,
                                   const std::map<std::string, std::optional<std::string>>& changes, bool replace,
                                   bool validate_only, Done done) = 0;
  // AlterPartitionReassignments for one partition: `target` replaces its
  // replicas (a move the partition's Raft group carries out); nullopt cancels
  // the move in progress (cluster/controller/reassignment_control.h).
  virtual void reassign_async(const std::string& topic, int32_t partition,
                              const std::optional<std::vector<int32_t>>& target, Done done) = 0;
  // Records a handler on the active controller decided itself against the
  // image it serves from (SCRAM credentials, ACLs: cluster/controller/*_control.h),
  // written as one batch.
  virtual void write_records_async(std::vector<cluster::records::AnyRecord> records, Done done) = 0;
};

}  // namespace millrace::broker
