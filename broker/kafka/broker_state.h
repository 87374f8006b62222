// Everything a request handler may reach: the domains (storage, partitions,
// topics, groups) and the broker's identity. Built once in main(); handlers get it by
// reference through their RequestContext. Every member is thread-safe.
#pragma once

#include "broker/topics/topic_writer.h"

#include <string>
#include <vector>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "broker/config/config.h"
#include "broker/kafka/fetch_session_cache.h"
#include "cluster/producers/producer_ids.h"
#include "broker/topics/topic_registry.h"
#include "broker/metrics/broker_metrics.h"
#include "cluster/controller/metadata_log.h"
#include "cluster/metadata/metadata_cache.h"
#include "cluster/partition/partition_manager.h"
#include "coordination/group_coordinator.h"
#include "storage/log_manager.h"

namespace millrace::broker {

class ControllerQuorum;
class ReplicationService;

struct BrokerState {
  const Config& config;
  storage::LogManager& logs;
  TopicRegistry& topics;
  coordination::GroupCoordinator& groups;
  cluster::ProducerIds& producer_ids;
  cluster::PartitionManager& partitions;  // what handlers serve partitions through
  BrokerMetrics& metrics;
  FetchSessionCache& fetch_sessions;
  // Brokers, topics, partitions, leaders and epochs: what handlers answer
  // leadership from (cluster/metadata/metadata_image.h). `node_id` below is
  // this broker's own id (which replica is local), never a leader.
  const cluster::MetadataCache& metadata;
  int32_t node_id = 1;
  // replica.selector.class is the rack-aware selector: the leader names a
  // follower in a consumer's rack (preferred_read_replica, KIP-392).
  bool rack_aware_reads = false;
  std::string cluster_id;
  std::string advertised_host;
  int32_t advertised_port = 9092;
  // The metadata quorum's state (DescribeQuorum); empty when it is not open.
  std::function<std::optional<cluster::QuorumStatus>()> quorum_status;
  // The voters and the listener each is reached on (host empty: this node
  // alone, in-process).
  struct Voter {
    int32_t id = -1;
    std::string listener, host;
    int32_t port = 0;
  };
  std::vector<Voter> quorum_voters;
  // Topic changes, through the controller's metadata log (topics/topic_writer.h).
  TopicWriter* topic_writer = nullptr;
  // The controller quorum: requests only the active controller serves are
  // forwarded to it (kafka/dispatcher.cc) when this node is not it.
  ControllerQuorum* quorum = nullptr;
  // Calls `fn` once this node has applied the metadata log up to `offset`
  // and its topic table and image show it.
  std::function<void(int64_t offset, std::function<void()> fn)> when_applied;
  // Partitions of several replicas: their Raft groups on this broker
  // (ElectLeaders hands leadership to preferred replicas through it).
  ReplicationService* replication = nullptr;
  // The authorizer (kafka/authz.h); null: off, as when authorizer.class.name is empty.
  class Authz* authz = nullptr;
};

}  // namespace millrace::broker
