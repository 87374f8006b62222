// The controller's topic decisions, as records (KRaft's ReplicationControlManager
// in its shape): a request is checked against the current metadata state and,
// when it is valid, answered with the records that carry it out; the caller
// appends them to the metadata log and answers the client once they are
// committed and applied. Nothing changes here: the state changes only by
// applying committed records (metadata_state.h), on every node alike. Pure.
//
// Errors are Kafka's codes with Kafka's messages where clients show them
// (INVALID_REPLICATION_FACTOR from placement, TOPIC_ALREADY_EXISTS, ...).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/metadata/records/codec.h"
#include "cluster/metadata/state/metadata_state.h"

namespace millrace::cluster {

struct ControlResult {
  int16_t error = 0;  // a Kafka error code; 0 = the records carry it out
  std::string message;
  std::vector<records::AnyRecord> records;
  bool ok() const { return error == 0; }
};

struct NewTopic {
  std::string name;
  int32_t partitions = 1;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> configs;
  // replication_factor is a default (default.replication.factor,
  // offsets.topic.replication.factor): capped by the live brokers, so one
  // node (make run) gets 1 and three get 3. An asked-for factor is not.
  bool cap_to_live = false;
};

// TopicRecord, one PartitionRecord per partition (replicas placed over the
// live brokers, the first the leader, all in sync, epochs 0), one ConfigRecord
// per config. `id` is the new topic's id (the caller draws it at random).
ControlResult create_topic(const MetadataState& state, const NewTopic& topic, const TopicId& id);

// RemoveTopicRecord (its partitions and configs go with it).
ControlResult delete_topic(const MetadataState& state, std::string_view name);

// PartitionRecords for partitions count .. total-1, at the replication factor
// of partition 0, continuing the topic's placement stripe.
ControlResult create_partitions(const MetadataState& state, std::string_view name, int32_t total);

// The records of a topic a one-node cluster held before its metadata log did
// (adopted at start): every partition on `node`, which leads it.
std::vector<records::AnyRecord> adopt_topic(const std::string& name, const TopicId& id, int32_t partitions,
                                            int32_t node, const std::map<std::string, std::string>& configs);

// ConfigRecords that bring the topic's overrides to `changes` (replace: the
// whole new set; else merged, a nullopt value deleting the key); none for a
// change that changes nothing.
ControlResult alter_topic_configs(const MetadataState& state, std::string_view name,
                                  const std::map<std::string, std::optional<std::string>>& changes, bool replace);

}  // namespace millrace::cluster
