// Everything a request handler may reach: the domains (storage, partitions,
// topics, groups) and the broker's identity. Built once in main(); handlers get it by
// reference through their RequestContext. Every member is thread-safe.
#pragma once

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
  std::string cluster_id;
  std::string advertised_host;
  int32_t advertised_port = 9092;
  // The metadata quorum's state (DescribeQuorum); empty when it is not open.
  std::function<std::optional<cluster::QuorumStatus>()> quorum_status;
};

}  // namespace millrace::broker
