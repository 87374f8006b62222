#include "operator/rolling/restart_gate.h"

#include <gtest/gtest.h>

namespace millrace::op::rolling {
namespace {

PartitionState part(std::vector<int32_t> replicas, std::vector<int32_t> isr, int32_t min_insync, int32_t p = 0) {
  return {"t", p, std::move(replicas), std::move(isr), min_insync};
}

const QuorumState kQuorum{{1, 2, 3}, {1, 2, 3}, 1};

TEST(RestartGate, AHealthyClusterMayRestartAnyBroker) {
  std::vector<PartitionState> ps{part({1, 2, 3}, {1, 2, 3}, 2, 0), part({2, 3, 1}, {2, 3, 1}, 2, 1)};
  for (int32_t b : {1, 2, 3}) EXPECT_TRUE(may_restart(b, true, ps, kQuorum).allowed) << b;
}

TEST(RestartGate, AnIsrAtMinInsyncBlocksItsMembersOnly) {
  std::vector<PartitionState> ps{part({1, 2, 3}, {1, 2}, 2)};
  Verdict v = may_restart(2, true, ps, kQuorum);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.blocked_partitions, 1);
  EXPECT_EQ(v.message(2),
            "restart of broker 2 waits: t-0: ISR [1,2] is min.insync.replicas 2; without broker 2 acks=all writes "
            "would stop");
  EXPECT_TRUE(may_restart(3, true, ps, kQuorum).allowed);  // not in the ISR: nothing lost
}

TEST(RestartGate, BelowMinInsyncBlocksEveryReplica) {
  std::vector<PartitionState> ps{part({1, 2, 3}, {1}, 2)};
  EXPECT_FALSE(may_restart(3, true, ps, kQuorum).allowed);
  EXPECT_FALSE(may_restart(1, true, ps, kQuorum).allowed);
  EXPECT_TRUE(may_restart(4, true, ps, {}).allowed);  // holds no replica
}

TEST(RestartGate, MinInsyncEqualToTheReplicationFactorDoesNotBlockForever) {
  std::vector<PartitionState> ps{part({1, 2}, {1, 2}, 2), part({3}, {3}, 1, 1)};
  EXPECT_TRUE(may_restart(1, true, ps, kQuorum).allowed);
  EXPECT_TRUE(may_restart(3, true, ps, kQuorum).allowed);
}

TEST(RestartGate, ARaftGroupKeepsItsMajorityEvenWhereMinInsyncAllows) {
  // min.insync.replicas 1 would let Kafka go on; a Raft group of 3 with 2 in sync
  // would lose its majority without broker 2.
  std::vector<PartitionState> ps{part({1, 2, 3}, {1, 2}, 1)};
  Verdict v = may_restart(2, true, ps, kQuorum);
  ASSERT_FALSE(v.allowed);
  EXPECT_NE(v.reasons[0].find("not a majority of replicas [1,2,3]"), std::string::npos) << v.reasons[0];
  // Five replicas, four in sync: three stay, a majority.
  EXPECT_TRUE(may_restart(2, true, {part({1, 2, 3, 4, 5}, {1, 2, 3, 4}, 1)}, {}).allowed);
}

TEST(RestartGate, ABrokerThatIsNotServingMayAlwaysRestart) {
  std::vector<PartitionState> ps{part({1, 2, 3}, {1, 2}, 2)};
  EXPECT_TRUE(may_restart(2, false, ps, kQuorum).allowed);
}

TEST(RestartGate, TheControllerQuorumKeepsACaughtUpMajority) {
  QuorumState q{{1, 2, 3}, {1, 2}, 1};  // 3 lags
  Verdict v = may_restart(2, true, {}, q);
  ASSERT_FALSE(v.allowed);
  EXPECT_EQ(v.reasons[0], "controller voters caught up besides broker 2: 1 of 3, a majority is 2");
  EXPECT_TRUE(may_restart(3, true, {}, q).allowed);  // the laggard itself
  EXPECT_TRUE(may_restart(4, true, {}, q).allowed);  // not a voter
  EXPECT_FALSE(may_restart(1, true, {}, QuorumState{{1, 2, 3}, {1, 2, 3}, -1}).allowed);
}

TEST(RestartGate, AQuorumOfOneOrTwoVotersDoesNotBlockForever) {
  // No voter of 1 or 2 can go without the quorum stopping meanwhile: no order avoids it.
  EXPECT_TRUE(may_restart(1, true, {}, QuorumState{{1}, {1}, 1}).allowed);
  EXPECT_TRUE(may_restart(2, true, {}, QuorumState{{1, 2}, {1, 2}, 1}).allowed);
  // It still needs a leader.
  EXPECT_FALSE(may_restart(1, true, {}, QuorumState{{1}, {}, -1}).allowed);
}

TEST(RestartGate, ReasonsAreBoundedAndCounted) {
  std::vector<PartitionState> ps;
  for (int32_t i = 0; i < 12; ++i) ps.push_back(part({1, 2, 3}, {1, 2}, 2, i));
  Verdict v = may_restart(1, true, ps, kQuorum);
  EXPECT_EQ(v.blocked_partitions, 12);
  EXPECT_EQ(v.reasons.size(), 5u);
  EXPECT_NE(v.message(1).find("(12 partitions in all)"), std::string::npos);
}

TEST(RestartGate, TheActiveControllerGoesLast) {
  QuorumState q{{1, 2, 3}, {1, 2, 3}, 2};
  EXPECT_EQ(restart_order({5, 3, 2, 4, 1}, q), (std::vector<int32_t>{4, 5, 1, 3, 2}));
}

TEST(RestartGate, BackMeansInEveryIsrAndCaughtUp) {
  std::vector<PartitionState> ps{part({1, 2, 3}, {1, 3}, 2), part({1, 3, 4}, {1, 3, 4}, 2, 1)};
  Verdict v = caught_up(2, ps, kQuorum);
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.reasons[0], "t-0: broker 2 is not in its ISR [1,3] yet");
  ps[0].isr = {1, 2, 3};
  EXPECT_TRUE(caught_up(2, ps, kQuorum).allowed);
  EXPECT_FALSE(caught_up(2, ps, QuorumState{{1, 2, 3}, {1, 3}, 1}).allowed);
}

}  // namespace
}  // namespace millrace::op::rolling
