// What the planner sees of a cluster: its brokers (id, rack), every partition's
// replica list (the first replica is the preferred leader) with its size and
// traffic, and what a plan is asked to do. Plain values: the reconciler fills
// them from DescribeCluster, Metadata, DescribeLogDirs and the brokers' rates;
// the tests generate them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace millrace::op::planner {

using BrokerId = int32_t;

struct Broker {
  BrokerId id = -1;
  std::string rack;  // empty: no rack
};

struct Partition {
  std::string topic;
  int32_t partition = 0;
  std::vector<BrokerId> replicas;  // ordered: replicas[0] is the preferred leader
  int64_t bytes = 0;               // on disk, one replica's (the largest a replica holds)
  double in_bytes_per_s = 0;       // produce traffic into the partition
  double out_bytes_per_s = 0;      // consumer fetch traffic out of its leader

  bool operator<(const Partition& o) const {
    return topic != o.topic ? topic < o.topic : partition < o.partition;
  }
};

enum class Mode {
  kFull,           // balance over every broker
  kAddBrokers,     // only move replicas onto `brokers` (new, empty ones)
  kRemoveBrokers,  // move every replica off `brokers`, then balance over the rest
};

struct Options {
  Mode mode = Mode::kFull;
  std::set<BrokerId> brokers;  // add-brokers / remove-brokers: which
  // Counts (replicas, leaders per broker) are balanced when every broker is
  // within [floor(mean) - count_tolerance, ceil(mean) + count_tolerance].
  int32_t count_tolerance = 0;
  // Sizes and rates are balanced when every broker is within mean x (1 +- band).
  double band = 0.10;
  // Topics left where they are (internal ones are never excluded by default).
  std::set<std::string> excluded_topics;
  // Per topic: racks its leaders should be in, in order of preference
  // (spec.leaders.preferredRacks), when a replica is in one of them.
  std::map<std::string, std::vector<std::string>> preferred_leader_racks;
  // Bound on the search (actions tried per goal); plans on real clusters stop far below.
  int32_t max_actions_per_goal = 100000;
};

struct Cluster {
  std::vector<Broker> brokers;
  std::vector<Partition> partitions;
};

}  // namespace millrace::op::planner
