#include "operator/scaling/rule.h"

#include <gtest/gtest.h>

namespace millrace::op::scaling {
namespace {

// n partitions of topic "t", each with `lags[i]` uncommitted records behind a commit.
Observation observe(const std::vector<int64_t>& lags, int32_t partitions = -1) {
  std::vector<PartitionOffsets> parts;
  for (size_t i = 0; i < lags.size(); ++i)
    parts.push_back({"t", static_cast<int32_t>(i), 0, 1000 + lags[i], 1000, std::nullopt});
  Observation o;
  o.lag = summarize(parts, ResetPolicy::kLatest, 0);
  o.partitions = partitions >= 0 ? partitions : static_cast<int32_t>(lags.size());
  return o;
}

ScalerSpec by_records(int64_t per_replica) {
  ScalerSpec s;
  s.lag_per_replica = per_replica;
  s.scale_down.stabilization_window_ms = 0;
  return s;
}

TEST(Lag, CountsFromTheCommitOrPerResetPolicyNeverBelowTheLogStart) {
  PartitionOffsets p{"t", 0, 400, 1000, std::nullopt, std::nullopt};
  // No commit, earliest, retention deleted 0..399: 600 readable records, not 1000 (KEDA 7936).
  EXPECT_EQ(partition_lag(p, ResetPolicy::kEarliest, 0).lag, 600);
  EXPECT_EQ(partition_lag(p, ResetPolicy::kLatest, 0).lag, 0);  // starts at the end (KEDA counts 1)
  p.committed = 100;  // committed below the log start: the gap is gone, not lag
  EXPECT_EQ(partition_lag(p, ResetPolicy::kLatest, 0).lag, 600);
  p.committed = 990;
  p.next_record_timestamp_ms = 5000;
  auto l = partition_lag(p, ResetPolicy::kEarliest, 65000);
  EXPECT_EQ(l.lag, 10);
  EXPECT_EQ(l.lag_ms, 60000);
  p.committed = 1000;  // caught up: zero in time too, whatever the timestamp says
  EXPECT_EQ(partition_lag(p, ResetPolicy::kEarliest, 65000).lag_ms, 0);
}

TEST(Lag, OneHotPartitionIsNamedAndItsAgeIsTheGroups) {
  std::vector<PartitionOffsets> parts;
  for (int i = 0; i < 6; ++i) parts.push_back({"t", i, 0, 100, 100, std::nullopt});
  parts[4].end = 5100;
  parts[4].next_record_timestamp_ms = 10000;
  auto s = summarize(parts, ResetPolicy::kEarliest, 130000);
  EXPECT_EQ(s.total, 5000);
  EXPECT_EQ(s.partitions_with_lag, 1);
  ASSERT_TRUE(s.hottest);
  EXPECT_EQ(s.hottest->partition, 4);
  EXPECT_EQ(s.max_lag_ms, 120000);  // the hot partition's, not an average over six
}

TEST(Rule, Keda4483FivePartitionsThresholdFiveLag29IsFiveNotSix) {
  Autoscaler a;
  auto d = a.decide(by_records(5), observe({6, 6, 6, 6, 5}), 1, 0);
  EXPECT_EQ(d.recommended, 5);
  EXPECT_EQ(d.desired, 5);
  EXPECT_NE(d.limited_reason.find("capped at 5"), std::string::npos) << d.limited_reason;
}

TEST(Rule, NeverMoreReplicasThanPartitionsUnlessIdleConsumersAreAllowed) {
  Autoscaler a;
  EXPECT_EQ(a.decide(by_records(100), observe({500, 500, 0, 0, 0, 0}), 6, 0).desired, 6);
  auto s = by_records(100);
  s.allow_idle_consumers = true;
  s.max_replicas = 8;
  Autoscaler b;
  EXPECT_EQ(b.decide(s, observe({500, 500, 0, 0, 0, 0}), 8, 0).desired, 8);
  s.limit_to_partitions_with_lag = true;
  s.allow_idle_consumers = false;
  Autoscaler c;
  EXPECT_EQ(c.decide(s, observe({500, 500, 0, 0, 0, 0}), 2, 0).desired, 2);  // two partitions have lag
}

TEST(Rule, LagInSecondsFollowsTheHottestPartition) {
  ScalerSpec s;
  s.lag_seconds_per_replica = 30;
  std::vector<PartitionOffsets> parts;
  for (int i = 0; i < 6; ++i) parts.push_back({"t", i, 0, 100, 100, std::nullopt});
  parts[2].end = 200;
  parts[2].next_record_timestamp_ms = 0;
  Observation o;
  o.lag = summarize(parts, ResetPolicy::kEarliest, 100000);  // 100 s behind on one partition
  o.partitions = 6;
  Autoscaler a;
  auto d = a.decide(s, o, 1, 100000);
  EXPECT_EQ(d.recommended, 4);  // ceil(100 / 30)
  EXPECT_NE(d.why.find("oldest unconsumed record 100s"), std::string::npos) << d.why;
}

TEST(Rule, RateModeSizesForDrainWithinAndMeasuresPerReplicaRate) {
  ScalerSpec s;
  s.drain_within_seconds = 60;
  s.consume_rate_per_replica = 100;  // until measured
  s.scale_down.stabilization_window_ms = 0;
  auto o = observe({1000, 1000, 1000, 1000, 1000, 1000}, 12);
  o.produce_rate = 100;
  Autoscaler a;
  EXPECT_EQ(a.decide(s, o, 1, 0).recommended, 3);  // (6000/60 + 100) / (100 x 0.9) = 2.2
  o.consume_rate = 150;  // measured with 3 busy replicas (a backlog, no scale step within): 50 each
  o.interval_ms = 1000;
  auto d = a.decide(s, o, 3, 20000);
  EXPECT_EQ(d.per_replica_rate, 50);
  EXPECT_EQ(d.recommended, 5);  // (100 + 100) / (50 x 0.9) = 4.4
  ScalerSpec unknown;
  unknown.drain_within_seconds = 60;
  Autoscaler b;
  EXPECT_EQ(b.decide(unknown, o, 0, 0).desired, 1);  // active, no rate yet: one to measure with
}

TEST(Rule, EvenDistributionRoundsUpToADivisorOfThePartitions) {
  auto s = by_records(100);
  s.even_distribution = true;
  s.scale_up.policies.clear();
  Autoscaler a;
  EXPECT_EQ(a.decide(s, observe({250, 250, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 1, 0).desired, 6);  // 5 -> 6 of 12
}

TEST(Rule, ActivationAndCooldownGuardZero) {
  auto s = by_records(10);
  s.min_replicas = 0;
  s.activation_lag = 50;
  s.cooldown_ms = 300000;
  Autoscaler a;
  EXPECT_EQ(a.decide(s, observe({40}), 0, 0).desired, 0);  // below activation: stays asleep
  auto d = a.decide(s, observe({60}), 0, 1000);
  EXPECT_TRUE(d.active);
  EXPECT_EQ(d.desired, 1);  // woken (1 partition)
  d = a.decide(s, observe({0}), 1, 61000);
  EXPECT_EQ(d.desired, 1);  // idle for 60 s: cooldown holds the last replica
  EXPECT_NE(d.limited_reason.find("cooldown"), std::string::npos) << d.limited_reason;
  EXPECT_EQ(a.decide(s, observe({0}), 1, 301001).desired, 0);  // 300 s idle
}

TEST(Rule, ErrorsAndClusterRestartsHoldTheLastDecisionNeverZero) {
  auto s = by_records(10);
  s.min_replicas = 0;
  Autoscaler a;
  Observation broken;
  broken.error = "NOT_COORDINATOR";
  auto d = a.decide(s, broken, 4, 0);
  EXPECT_EQ(d.desired, 4);
  EXPECT_TRUE(d.holding);
  EXPECT_NE(d.holding_reason.find("NOT_COORDINATOR"), std::string::npos);
  auto restarting = observe({0});
  restarting.hold_reason = "Millrace demo is not Ready: 0/1 brokers ready";
  EXPECT_EQ(a.decide(s, restarting, 4, 1000).desired, 4);
}

TEST(Rule, NoScaleDownWhileTheGroupRebalances) {
  Autoscaler a;
  auto o = observe({0, 0, 0, 0});
  o.rebalancing = true;
  auto d = a.decide(by_records(10), o, 4, 0);
  EXPECT_EQ(d.desired, 4);
  EXPECT_NE(d.limited_reason.find("rebalancing"), std::string::npos);
}

TEST(Rule, ScaleDownWaitsForItsStabilisationWindow) {
  auto s = by_records(10);
  s.scale_down.stabilization_window_ms = 60000;
  Autoscaler a;
  EXPECT_EQ(a.decide(s, observe({60, 0, 0, 0, 0, 0}), 6, 0).desired, 6);
  auto d = a.decide(s, observe({20, 0, 0, 0, 0, 0}), 6, 30000);
  EXPECT_EQ(d.desired, 6);  // 6 was recommended 30 s ago
  EXPECT_NE(d.limited_reason.find("scale-down stabilisation"), std::string::npos);
  EXPECT_EQ(a.decide(s, observe({20, 0, 0, 0, 0, 0}), 6, 61000).desired, 2);
}

TEST(Rule, ScaleUpPoliciesBoundTheStepPerPeriod) {
  auto s = by_records(10);
  s.scale_up.policies = {{ScalingPolicy::Type::kPods, 1, 60000}};
  Autoscaler a;
  auto o = observe({60, 60, 60, 60, 60, 60});
  auto d = a.decide(s, o, 1, 0);
  EXPECT_EQ(d.desired, 2);
  a.record_scale(1, 2, 0);
  EXPECT_EQ(a.decide(s, o, 2, 10000).desired, 2);  // the period's one pod is spent
  EXPECT_EQ(a.decide(s, o, 2, 61000).desired, 3);
  s.scale_up.select = ScalingRules::Select::kDisabled;
  EXPECT_EQ(a.decide(s, o, 3, 200000).desired, 3);
  // HPA's default: the larger of 100% and 4 pods per 15 s.
  Autoscaler b;
  EXPECT_EQ(b.decide(by_records(1), observe(std::vector<int64_t>(20, 5)), 2, 0).desired, 6);
}

TEST(Rule, MinReplicasWinsOverThePartitionCap) {
  auto s = by_records(10);
  s.min_replicas = 3;
  s.limit_to_partitions_with_lag = true;
  Autoscaler a;
  EXPECT_EQ(a.decide(s, observe({0, 0, 0, 0}), 3, 0).desired, 3);
}

TEST(Rule, RateBetweenPolls) {
  EXPECT_EQ(rate_between(100, 1000, 400, 4000), 100.0);
  EXPECT_FALSE(rate_between(100, 1000, 50, 4000));  // went back: a topic re-created
  EXPECT_FALSE(rate_between(100, 1000, 200, 1000));
}

}  // namespace
}  // namespace millrace::op::scaling
