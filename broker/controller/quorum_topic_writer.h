// TopicWriter over the controller quorum: a change is first checked by the
// local topic table (validate_only: names, partition counts, config values,
// with the table's messages), then decided by the controller against the
// committed metadata state (cluster/controller/topic_control.h: existence,
// placement over the live brokers and racks), written to the metadata log,
// and answered once this node has applied it (MetadataMirror::when_applied).
// Runs where the active controller is: the Kafka dispatcher forwards the
// request there first (ControllerForward).
//
// A replication factor above 1 makes each partition a Raft group over its
// replicas (broker/replication/replication_service.h); one above the number
// of live brokers is refused by placement (INVALID_REPLICATION_FACTOR).
#pragma once

#include "broker/controller/controller_quorum.h"
#include "broker/controller/metadata_mirror.h"
#include "broker/topics/topic_writer.h"

namespace millrace::broker {

class QuorumTopicWriter : public TopicWriter {
 public:
  QuorumTopicWriter(ControllerQuorum& quorum, MetadataMirror& mirror, TopicRegistry& topics,
                    int16_t default_replication_factor)
      : quorum_(quorum), mirror_(mirror), topics_(topics), default_rf_(default_replication_factor) {}

  void create_async(const std::string& name, int32_t partitions, int16_t replication_factor,
                    const std::map<std::string, std::string>& configs, bool validate_only, Done done) override;
  void remove_async(const std::string& name, const cluster::TopicId& id, Done done) override;
  void add_partitions_async(const std::string& name, int32_t total, bool validate_only, Done done) override;
  void alter_configs_async(const std::string& name, const std::map<std::string, std::optional<std::string>>& changes,
                           bool replace, bool validate_only, Done done) override;
  void reassign_async(const std::string& topic, int32_t partition, const std::optional<std::vector<int32_t>>& target,
                      Done done) override;
  void write_records_async(std::vector<cluster::records::AnyRecord> records, Done done) override;

 private:
  void write(ControllerQuorum::Decide decide, Done done);
  void forward_create(const std::string& name, int32_t partitions, int16_t rf,
                      const std::map<std::string, std::string>& configs, Done done);

  ControllerQuorum& quorum_;
  MetadataMirror& mirror_;
  TopicRegistry& topics_;
  const int16_t default_rf_;
};

}  // namespace millrace::broker
