// The rebalance planner: from a cluster (model.h) to the fewest partition
// reassignments that bring it within balance, goal by goal in priority order.
// Pure and deterministic (the same input gives the same plan); the Rebalance
// reconciler does the I/O and the brokers do the moves.
//
// Goals, each optimised without making any earlier one worse:
//   1. rack       no partition has more replicas in one rack than ceil(RF / racks)
//                 (racks among the brokers that may hold replicas); hard: every
//                 later action keeps it.
//   2. replicas   replicas per broker within [floor(mean), ceil(mean)] +- count_tolerance
//   3. topic-replicas  each topic's replicas per broker within [floor(mean),
//                 ceil(mean)] +- count_tolerance, mean = the topic's replicas / the
//                 brokers that count (a topic all on one broker while the totals are
//                 even is out of band); fixed by moving a replica of the topic or by
//                 swapping it with a replica of another topic, which keeps both
//                 brokers' totals. Reported as the topics' spread (most replicas of
//                 a topic on a broker minus its fewest): min and max the smallest and
//                 largest of any topic (max: the worst topic's), mean their mean,
//                 band 0 .. 1 + 2 x count_tolerance; balanced when every topic is in
//                 its band (with count_tolerance 0 that is every spread <= 1).
//   4. bytes      bytes on disk per broker within mean x (1 +- band)
//   5. leaders    preferred leaders (first replicas) per broker within the count band;
//                 topics with preferred leader racks lead from those racks first
//   6. load       network bytes/s per broker within mean x (1 +- band): every replica
//                 takes the partition's produce rate, its leader also the consumers'
//                 fetches and the followers' (produce rate x (RF - 1))
// Before them, the mode's hard step: remove-brokers moves every replica off the
// brokers named (each to the eligible broker with the fewest replicas, racks
// kept where racks allow); add-brokers lets replicas move only onto the brokers
// named. Leadership changes reorder a replica list and move no data.
//
// Search: per goal, repeatedly the best single action (a replica moved from an
// over-band broker to an under-band one, two replicas swapped between them, or
// a partition's preferred leader changed), accepted only if it lowers the
// goal's out-of-band excess (or, at equal excess, its variance), keeps the
// rack rule and does not raise any earlier goal's excess; ties go to the
// action that helps later goals most, then to the fewest bytes. The goal stops
// once every broker is in band, so a balanced cluster gets an empty plan. All
// changes to one partition make one reassignment (initial list -> final list).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operator/planner/model.h"

namespace millrace::op::planner {

struct Reassignment {
  std::string topic;
  int32_t partition = 0;
  std::vector<BrokerId> from;  // replicas before (ordered)
  std::vector<BrokerId> to;    // replicas after (ordered; to[0] the preferred leader)
  int64_t bytes = 0;           // data to copy: the partition's size per broker added
  bool leader_only() const;    // the same brokers, another order
};

// One goal's state over the brokers that count (not those being removed).
struct GoalBalance {
  std::string goal;     // rack, replicas, topic-replicas, bytes, leaders, leaders-per-rack, load
  double min = 0, max = 0, mean = 0;
  double lower = 0, upper = 0;  // the band (rack: violations allowed, 0)
  bool balanced = true;
};

struct BrokerBalance {
  BrokerId id = -1;
  std::string rack;
  int32_t replicas = 0;
  int32_t leaders = 0;
  int64_t bytes = 0;
  double load = 0;  // bytes/s
};

struct Plan {
  std::vector<Reassignment> moves;  // sorted by topic, partition
  int64_t bytes_to_move = 0;
  int32_t replica_moves = 0;        // replicas placed on a broker that lacked them
  int32_t leader_moves = 0;         // reassignments that only reorder
  std::vector<GoalBalance> before, after;
  std::vector<BrokerBalance> brokers_before, brokers_after;
  // Why the plan cannot do what it was asked (e.g. a broker that cannot be
  // drained); an infeasible plan still lists the moves it could find.
  std::vector<std::string> problems;
  bool feasible() const { return problems.empty(); }
};

// Checks the input: unique broker ids, unique partitions, replica lists without
// duplicates, options naming known brokers. Empty when good, else one message
// naming the field, e.g. "partitions[3] (t-1).replicas: broker 4 twice".
std::string validate(const Cluster& cluster, const Options& options);

// The plan; an invalid input gives a plan with no moves and the problem.
Plan plan(const Cluster& cluster, const Options& options = {});

// The balance of a cluster as it stands (what plan() reports as `before`).
std::vector<GoalBalance> balance(const Cluster& cluster, const Options& options = {});

// The cluster with a plan's reassignments applied.
Cluster apply(const Cluster& cluster, const Plan& plan);

}  // namespace millrace::op::planner
