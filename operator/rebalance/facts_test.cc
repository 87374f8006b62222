#include "operator/rebalance/facts.h"

#include <gtest/gtest.h>

namespace millrace::op::rebalance {
namespace {

client::PartitionInfo partition(int32_t p, std::vector<int32_t> replicas) {
  client::PartitionInfo i;
  i.partition = p;
  i.leader = replicas.empty() ? -1 : replicas[0];
  i.replicas = i.isr = std::move(replicas);
  return i;
}

client::PartitionReassignment moving(std::string topic, int32_t p, std::vector<int32_t> replicas,
                                     std::vector<int32_t> adding, std::vector<int32_t> removing) {
  client::PartitionReassignment r;
  r.tp.topic = std::move(topic);
  r.tp.partition = p;
  r.replicas = std::move(replicas);
  r.adding = std::move(adding);
  r.removing = std::move(removing);
  return r;
}

Facts three_brokers() {
  Facts f;
  f.brokers = {{3, "h", 9092, std::string("c")}, {1, "h", 9092, std::string("a")}, {2, "h", 9092, std::nullopt}};
  client::TopicDescription t;
  t.name = "t";
  t.partitions = {partition(0, {1, 2}), partition(1, {2, 3})};
  client::TopicDescription offsets;
  offsets.name = "__consumer_offsets";
  offsets.internal = true;
  offsets.partitions = {partition(0, {3, 1})};
  f.topics = {t, offsets};
  client::BrokerLogDirs b1{1, {{{"t", 0}, 500}, {{"__consumer_offsets", 0}, 7}}, std::nullopt};
  client::BrokerLogDirs b2{2, {{{"t", 0}, 800}, {{"t", 1}, 40}}, std::nullopt};
  client::BrokerLogDirs b3{3, {{{"t", 1}, 60}}, std::nullopt};
  f.log_dirs = {b1, b2, b3};
  return f;
}

// Planted: taking the first size a broker reports instead of the largest fails this.
TEST(RebalanceFacts, BrokersRacksReplicasAndTheLargestReplicaSize) {
  Adapted a = to_planner(three_brokers());
  ASSERT_EQ(a.cluster.brokers.size(), 3u);
  EXPECT_EQ(a.cluster.brokers[0].id, 1);  // sorted by id
  EXPECT_EQ(a.cluster.brokers[0].rack, "a");
  EXPECT_EQ(a.cluster.brokers[1].rack, "");  // no rack
  EXPECT_EQ(a.cluster.brokers[2].rack, "c");
  ASSERT_EQ(a.cluster.partitions.size(), 3u);  // the internal topic too
  // Sorted by topic, partition: "__consumer_offsets" < "t".
  EXPECT_EQ(a.cluster.partitions[0].topic, "__consumer_offsets");
  EXPECT_EQ(a.cluster.partitions[0].replicas, (std::vector<int32_t>{3, 1}));  // order kept: 3 is the preferred leader
  EXPECT_EQ(a.cluster.partitions[0].bytes, 7);  // broker 3 reports nothing for it: the one that does counts
  EXPECT_EQ(a.cluster.partitions[1].bytes, 800);  // the largest replica, not the first or the sum
  EXPECT_EQ(a.cluster.partitions[2].bytes, 60);
  EXPECT_TRUE(a.in_flight.empty());
  EXPECT_TRUE(a.warnings.empty());
  EXPECT_EQ(planner::validate(a.cluster, {}), "");
}

TEST(RebalanceFacts, APartitionBeingMovedStartsFromItsReplicasBeforeTheMove) {
  Facts f = three_brokers();
  // t-0 moving {1,2} -> {3,2}: Metadata lists target + leaving.
  f.topics[0].partitions[0].replicas = {3, 2, 1};
  f.reassignments.push_back(moving("t", 0, {3, 2, 1}, {3}, {1}));
  Adapted a = to_planner(f);
  EXPECT_EQ(a.in_flight, (std::set<TopicPartition>{{"t", 0}}));
  EXPECT_EQ(a.cluster.partitions[1].replicas, (std::vector<int32_t>{2, 1}));
}

TEST(RebalanceFacts, AMoveListedForAPartitionMetadataLacksStillCountsInFlight) {
  Facts f = three_brokers();
  f.reassignments.push_back(moving("gone", 4, {1, 2}, {2}, {}));
  EXPECT_TRUE(to_planner(f).in_flight.count({"gone", 4}));
}

TEST(RebalanceFacts, ABrokerThatCannotSayItsSizesIsNamedAndTheOthersCount) {
  Facts f = three_brokers();
  f.log_dirs[1].error = client::Error{7, "timed out"};
  Adapted a = to_planner(f);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_EQ(a.warnings[0].rfind("broker 2: DescribeLogDirs:", 0), 0u) << a.warnings[0];
  EXPECT_EQ(a.cluster.partitions[1].bytes, 500);  // broker 1's
}

TEST(RebalanceFacts, APartitionWithoutReplicasIsLeftOutAndNamed) {
  Facts f = three_brokers();
  f.topics[0].partitions[1] = partition(1, {});
  f.topics[0].partitions[1].error_code = 5;
  Adapted a = to_planner(f);
  EXPECT_EQ(a.cluster.partitions.size(), 2u);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_EQ(a.warnings[0], "t-1: no replicas (error 5), left out");
}

// Broker 1 leads t-0 and served 100 B/s in; broker 2 led it for part of the
// window and reports less: the largest counts, in and out each.
TEST(RebalanceFacts, RatesAreTheLargestAnyBrokerReportsAndReachThePlanner) {
  Facts f = three_brokers();
  f.partition_rates = {{{{"t", 0}, {100, 20}}, {{"__consumer_offsets", 0}, {3, 4}}},
                       {{{"t", 0}, {40, 70}}},
                       {}};
  f.rate_warnings = {"pod m-2 (10.0.0.7:9644): /metrics: timed out"};
  Adapted a = to_planner(f);
  ASSERT_EQ(a.cluster.partitions.size(), 3u);
  EXPECT_EQ(a.cluster.partitions[0].in_bytes_per_s, 3);  // __consumer_offsets-0
  EXPECT_EQ(a.cluster.partitions[0].out_bytes_per_s, 4);
  EXPECT_EQ(a.cluster.partitions[1].in_bytes_per_s, 100);  // t-0: broker 1's in
  EXPECT_EQ(a.cluster.partitions[1].out_bytes_per_s, 70);  // broker 2's out
  EXPECT_EQ(a.cluster.partitions[2].in_bytes_per_s, 0);  // t-1: nobody reports it
  EXPECT_EQ(a.cluster.partitions[2].out_bytes_per_s, 0);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_EQ(a.warnings[0], "pod m-2 (10.0.0.7:9644): /metrics: timed out");
  // Rates for a partition the brokers do not list add nothing.
  f.partition_rates.push_back({{{"gone", 0}, {5, 5}}});
  EXPECT_EQ(to_planner(f).cluster.partitions.size(), 3u);
}

TEST(RebalanceFacts, TheThrottleIsTheLowestRateSet) {
  auto rate = [](std::string v) { return std::vector<client::ConfigEntry>{{"leader.replication.throttled.rate", v}}; };
  EXPECT_EQ(throttle_rate({}), 0);
  EXPECT_EQ(throttle_rate({rate("0"), rate("0")}), 0);
  EXPECT_EQ(throttle_rate({rate("0"), rate("5000000"), rate("7000000")}), 5000000);
  EXPECT_EQ(throttle_rate({rate("abc"), rate("12x"), rate("9")}), 9);
  EXPECT_EQ(throttle_rate({{{"follower.replication.throttled.rate", std::string("3")}}}), 0);
}

TEST(RebalanceFacts, ASkewedClusterGivesThePlannerSomethingToDo) {
  // Every replica on brokers 1 and 2 of three: the adapter's cluster is what the planner balances.
  Facts f;
  f.brokers = {{1, "h", 1, std::nullopt}, {2, "h", 1, std::nullopt}, {3, "h", 1, std::nullopt}};
  client::TopicDescription t;
  t.name = "skewed";
  for (int p = 0; p < 6; ++p) t.partitions.push_back(partition(p, {1 + p % 2, 2 - p % 2}));
  f.topics = {t};
  Adapted a = to_planner(f);
  planner::Plan plan = planner::plan(a.cluster, {});
  EXPECT_GT(plan.replica_moves, 0);
  planner::Cluster after = planner::apply(a.cluster, plan);
  std::map<int32_t, int> count;
  for (const auto& p : after.partitions)
    for (int32_t b : p.replicas) ++count[b];
  EXPECT_EQ(count[1] + count[2] + count[3], 12);
  EXPECT_EQ(count[3], 4);  // 12 replicas over 3 brokers: 4 each
}

}  // namespace
}  // namespace millrace::op::rebalance
