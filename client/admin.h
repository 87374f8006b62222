// Admin: synchronous cluster administration (topics, configs, groups, offsets,
// cluster, log dirs, reassignments, leader elections) with errors as values.
//
// Every call blocks the calling thread until the broker answers or the timeout
// (ClientConfig::request_timeout) passes, and returns Status / Result<T> carrying
// Kafka's error code and a message (client/result.h). "Already exists" is returned
// as TOPIC_ALREADY_EXISTS (36): callers that reconcile treat it as success.
// Thread-safe: calls from several threads are serialised on the io thread.
// Used by the operator (topic reconciliation) and by the `millrace` CLI.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/cluster.h"
#include "client/producer_record.h"
#include "client/result.h"

namespace millrace::client {

struct NewTopic {
  std::string name;
  int32_t partitions = -1;            // -1: the broker's num.partitions
  int16_t replication_factor = -1;    // -1: the broker's default.replication.factor
  std::map<std::string, std::string> configs;
};

struct TopicDescription {
  std::string name;
  bool internal = false;
  std::vector<PartitionInfo> partitions;
  // The topic's UUID in Kafka's text form (base64url, no padding: 22 characters,
  // what `kafka-topics --describe` prints as TopicId). Empty when the broker
  // sent none (Metadata below v10, or an all-zero id).
  std::string topic_id;
};

// Kafka's text form of a topic id (Uuid.toString): base64url without padding;
// "" for the all-zero id, which Kafka uses for "no id".
std::string topic_id_string(const proto::Uuid& id);

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  bool read_only = false;
  bool sensitive = false;
  // Kafka's ConfigSource: 1 topic, 2 dynamic broker, 4 static broker, 5 default, ...
  int8_t source = -1;
  bool is_default() const { return source == 5 || source == 4 || source == 0 || source == -1; }
};

enum class ConfigOp : int8_t { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };
struct ConfigChange {
  std::string name;
  ConfigOp op = ConfigOp::kSet;
  std::optional<std::string> value;   // unset for kDelete
};

struct BrokerDescription {
  int32_t id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};
struct ClusterDescription {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::vector<BrokerDescription> brokers;
};

struct GroupListing {
  std::string group_id;
  std::string protocol_type;   // "consumer" for consumer groups
  std::string state;           // empty when the broker does not say (ListGroups < v4)
};

struct GroupMember {
  std::string member_id, client_id, host;
  std::optional<std::string> group_instance_id;
  std::vector<TopicPartition> assignment;   // decoded ConsumerProtocolAssignment
};
struct GroupDescription {
  std::string group_id, state, protocol_type, protocol;
  std::vector<GroupMember> members;
};

struct PartitionLag {
  TopicPartition tp;
  int64_t committed = -1;   // -1: no committed offset
  int64_t log_end = -1;
  int64_t lag = 0;          // log_end - committed (log_end - log_start when none committed)
};

struct OffsetSpec {
  static constexpr int64_t kLatest = -1;
  static constexpr int64_t kEarliest = -2;
  static constexpr int64_t kMaxTimestamp = -3;
};

struct PartitionReassignment {
  TopicPartition tp;
  std::vector<int32_t> replicas, adding, removing;
};

// One broker's answer to DescribeLogDirs: bytes on disk per partition replica it
// holds (summed over its log dirs), or the error asking it.
struct BrokerLogDirs {
  int32_t broker_id = -1;
  std::map<TopicPartition, int64_t> partition_bytes;
  std::optional<Error> error;
};

enum class ElectionType : int8_t { kPreferred = 0, kUnclean = 1 };

// DescribeQuorum of the metadata log (`__cluster_metadata-0`): its leader and
// each voter as the leader sees it.
struct QuorumVoter {
  int32_t id = -1;
  int64_t log_end_offset = -1;
  bool caught_up = false;  // the leader saw it at its high watermark recently (LastCaughtUpTimestamp set)
};
struct QuorumDescription {
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  int64_t high_watermark = -1;
  std::vector<QuorumVoter> voters, observers;
};

class Admin {
 public:
  explicit Admin(ClientConfig cfg);
  ~Admin();

  // Topics
  Result<std::vector<std::string>> list_topics(bool include_internal = false);
  // On success, *topic_id (when given) receives the new topic's id from the
  // CreateTopics response (v7+; "" from older brokers or with validate_only).
  Status create_topic(const NewTopic& topic, bool validate_only = false, std::string* topic_id = nullptr);
  Status delete_topic(const std::string& name);
  Result<TopicDescription> describe_topic(const std::string& name);
  // Every topic the broker answering knows (one Metadata request), sorted by name.
  Result<std::vector<TopicDescription>> describe_all_topics(bool include_internal = false);
  // Grows the topic to `total_partitions` (Kafka cannot shrink: INVALID_PARTITIONS).
  Status create_partitions(const std::string& topic, int32_t total_partitions);

  // Configs (resource type 2 = topic, 4 = broker)
  Result<std::vector<ConfigEntry>> describe_topic_configs(const std::string& topic);
  Result<std::vector<ConfigEntry>> describe_broker_configs(int32_t broker_id);
  Status alter_topic_configs(const std::string& topic, const std::vector<ConfigChange>& changes,
                             bool validate_only = false);   // IncrementalAlterConfigs

  // Cluster
  Result<ClusterDescription> describe_cluster();

  // Offsets of partitions: spec is OffsetSpec::kLatest / kEarliest or a timestamp (ms).
  Result<std::map<TopicPartition, int64_t>> list_offsets(const std::vector<TopicPartition>& tps, int64_t spec,
                                                         int8_t isolation_level = 0);

  // Groups
  Result<std::vector<GroupListing>> list_groups();
  Result<GroupDescription> describe_group(const std::string& group);
  Result<std::map<TopicPartition, int64_t>> group_offsets(const std::string& group);
  Result<std::vector<PartitionLag>> group_lag(const std::string& group);
  Status delete_group(const std::string& group);
  // Commits these offsets for an empty group (REQUIRES: no active members, else
  // the broker answers UNKNOWN_MEMBER_ID / REBALANCE_IN_PROGRESS).
  Status reset_group_offsets(const std::string& group, const std::map<TopicPartition, int64_t>& offsets);

  // Replicas
  Status alter_partition_reassignments(const std::map<TopicPartition, std::optional<std::vector<int32_t>>>& moves);
  Result<std::vector<PartitionReassignment>> list_partition_reassignments();
  // DescribeLogDirs (all topics) asked of every broker the metadata lists, one
  // answer per broker, sorted by id; a broker that fails carries its error and
  // does not fail the others. Fails only when the metadata cannot be read.
  Result<std::vector<BrokerLogDirs>> describe_log_dirs();
  // Empty partitions = all partitions. Partitions whose leader is already the
  // preferred one are not errors (ELECTION_NOT_NEEDED is dropped).
  Result<QuorumDescription> describe_quorum();
  Status elect_leaders(const std::vector<TopicPartition>& partitions, ElectionType type = ElectionType::kPreferred);

  Cluster& cluster() { return *cluster_; }
  // Closes the client: calls in flight (other threads) get up to `timeout` to finish,
  // then fail with CLIENT_CLOSED, as does every later call, at once.
  void close(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000)) { cluster_->close(timeout); }

 private:
  asio::awaitable<Result<int32_t>> coordinator(const std::string& group);
  std::unique_ptr<Cluster> cluster_;
};

}  // namespace millrace::client
