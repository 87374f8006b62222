// From what the brokers answer (DescribeCluster's brokers and racks, Metadata's
// replica lists, DescribeLogDirs' sizes per replica, ListPartitionReassignments'
// moves in flight, the brokers' configs) to what the planner and the state
// machine take. Pure, so it is tested without brokers; the reconciler asks.
//
// A partition being moved is given to the planner with its replicas before the
// move (Metadata lists target + leaving during one; the original list is
// replicas - adding, in order), so a plan made mid-move starts from where the
// move started, and the move shows in `in_flight`. Its size is the largest any
// broker reports for it (a new replica is still catching up). Produce and fetch
// rates come from the brokers' per-partition byte counters (partition_rates.h,
// scraped by operator/broker_rates): a partition's produce rate is what its
// leader counts in, its fetch rate what its leader counts out; a broker counts
// only what it served, so where several brokers report one partition (leadership
// moved between the samples) the largest counts. A partition no broker reports
// has rates 0, as has every partition when no broker answered (a warning each).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "client/admin.h"
#include "operator/planner/model.h"
#include "operator/rebalance/machine.h"
#include "operator/rebalance/partition_rates.h"

namespace millrace::op::rebalance {

struct Facts {
  std::vector<client::BrokerDescription> brokers;
  std::vector<client::TopicDescription> topics;  // internal topics included
  std::vector<client::BrokerLogDirs> log_dirs;
  std::vector<client::PartitionReassignment> reassignments;
  // Bytes per second per partition, one map per broker that answered.
  std::vector<PartitionCounters> partition_rates;
  // Brokers whose rates could not be had: "pod m-1 (10.0.0.5:9644): /metrics: timed out".
  std::vector<std::string> rate_warnings;
};

struct Adapted {
  planner::Cluster cluster;
  std::set<TopicPartition> in_flight;
  // Facts that could not be used, each naming what: "t-3: no replicas (error 5)",
  // "broker 2: DescribeLogDirs: ..." (its partitions' sizes come from the others).
  std::vector<std::string> warnings;
};

Adapted to_planner(const Facts& facts);

// The catch-up throttle a move runs at: the lowest leader.replication.throttled.rate
// set above 0 among the brokers' configs (0 when none sets one).
int64_t throttle_rate(const std::vector<std::vector<client::ConfigEntry>>& broker_configs);

}  // namespace millrace::op::rebalance
