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
// rates are not served by the brokers yet: 0, so the load goal sees no traffic.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "client/admin.h"
#include "operator/planner/model.h"
#include "operator/rebalance/machine.h"

namespace millrace::op::rebalance {

struct Facts {
  std::vector<client::BrokerDescription> brokers;
  std::vector<client::TopicDescription> topics;  // internal topics included
  std::vector<client::BrokerLogDirs> log_dirs;
  std::vector<client::PartitionReassignment> reassignments;
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
