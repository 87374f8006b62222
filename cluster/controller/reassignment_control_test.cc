#include "cluster/controller/reassignment_control.h"

#include <gtest/gtest.h>

#include "cluster/controller/control_testing.h"

namespace millrace::cluster {
namespace {

using namespace records;
using testing::id_of;

// Five registered brokers and topic "t" of one partition on brokers 1, 2, 3 (ISR all).
MetadataState five_brokers_one_partition() {
  MetadataState s;
  for (int i = 1; i <= 5; ++i) {
    RegisterBrokerRecord r;
    r.broker_id = i;
    r.broker_epoch = 100 + i;
    r.fenced = false;
    EXPECT_EQ(s.apply(r), "");
  }
  TopicRecord t;
  t.name = "t";
  t.topic_id.bytes = id_of(1);
  EXPECT_EQ(s.apply(t), "");
  PartitionRecord p;
  p.topic_id.bytes = id_of(1);
  p.partition_id = 0;
  p.replicas = {1, 2, 3};
  p.isr = {1, 2, 3};
  p.leader = 1;
  EXPECT_EQ(s.apply(p), "");
  return s;
}

const PartitionState& partition(const MetadataState& s) { return s.topic("t")->partitions.at(0); }

void apply_all(MetadataState& s, const ControlResult& r) {
  ASSERT_TRUE(r.ok()) << r.message;
  for (const auto& rec : r.records) ASSERT_EQ(s.apply(rec), "");
}

TEST(ReassignmentControl, AMoveListsTargetThenLeavingReplicasWithAddingAndRemoving) {
  auto s = five_brokers_one_partition();
  apply_all(s, alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{4, 2, 5}));
  const PartitionState& p = partition(s);
  EXPECT_EQ(p.replicas, (std::vector<int32_t>{4, 2, 5, 1, 3}));
  EXPECT_EQ(p.adding, (std::vector<int32_t>{4, 5}));
  EXPECT_EQ(p.removing, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(p.isr, (std::vector<int32_t>{1, 2, 3}));  // the ISR moves with the Raft group, not here
  EXPECT_EQ(p.leader, 1);
  EXPECT_TRUE(reassigning(p));
  EXPECT_EQ(original_replicas(p), (std::vector<int32_t>{2, 1, 3}));
  EXPECT_EQ(target_replicas(p), (std::vector<int32_t>{4, 2, 5}));
}

TEST(ReassignmentControl, ItEndsOnlyWhenTheGroupsVotersAreTheTarget) {
  auto s = five_brokers_one_partition();
  apply_all(s, alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{4, 2, 5}));
  EXPECT_TRUE(complete_reassignment(s, id_of(1), 0, {1, 2, 3}, 1, {1, 2, 3}).records.empty());     // not moved yet
  EXPECT_TRUE(complete_reassignment(s, id_of(1), 0, {1, 2, 3, 4, 5}, 1, {1, 2, 3}).records.empty());  // joint
  // Leader 1 leaves: it steps down; the next leader reports first.
  EXPECT_TRUE(complete_reassignment(s, id_of(1), 0, {5, 4, 2}, 1, {1, 2, 3}).records.empty());
  PartitionLeaderRecord lead;
  lead.topic_id.bytes = id_of(1);
  lead.partition_id = 0;
  lead.leader = 4;
  lead.leader_epoch = 1;
  lead.isr = {4, 2, 5, 3};
  ASSERT_EQ(s.apply(lead), "");
  apply_all(s, complete_reassignment(s, id_of(1), 0, {5, 4, 2}, 4, {4, 2, 5, 3}));
  const PartitionState& p = partition(s);
  EXPECT_EQ(p.replicas, (std::vector<int32_t>{4, 2, 5}));
  EXPECT_TRUE(p.adding.empty());
  EXPECT_TRUE(p.removing.empty());
  EXPECT_EQ(p.isr, (std::vector<int32_t>{4, 2, 5}));  // those that left are out of it
  EXPECT_EQ(p.leader, 4);
  EXPECT_TRUE(complete_reassignment(s, id_of(1), 0, {5, 4, 2}, 4, {4, 2, 5}).records.empty());  // done once
}

TEST(ReassignmentControl, CancelGoesBackToTheOriginalReplicas) {
  auto s = five_brokers_one_partition();
  EXPECT_EQ(alter_partition_reassignment(s, "t", 0, std::nullopt).error, 85);  // NO_REASSIGNMENT_IN_PROGRESS
  apply_all(s, alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{4, 5, 1}));
  apply_all(s, alter_partition_reassignment(s, "t", 0, std::nullopt));
  const PartitionState& p = partition(s);
  EXPECT_EQ(p.replicas, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_FALSE(reassigning(p));
}

TEST(ReassignmentControl, ANewTargetReplacesAMoveInProgressFromTheOriginalReplicas) {
  auto s = five_brokers_one_partition();
  apply_all(s, alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{4, 5, 1}));
  apply_all(s, alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{1, 2, 4}));
  const PartitionState& p = partition(s);
  EXPECT_EQ(p.replicas, (std::vector<int32_t>{1, 2, 4, 3}));
  EXPECT_EQ(p.adding, (std::vector<int32_t>{4}));
  EXPECT_EQ(p.removing, (std::vector<int32_t>{3}));
  // Back to exactly the original replicas: nothing adding or removing.
  apply_all(s, alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{1, 2, 3}));
  EXPECT_FALSE(reassigning(partition(s)));
  EXPECT_EQ(partition(s).replicas, (std::vector<int32_t>{1, 2, 3}));
}

TEST(ReassignmentControl, TheSameBrokersInAnotherOrderOnlyReorder) {
  auto s = five_brokers_one_partition();
  auto r = alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{3, 1, 2});
  apply_all(s, r);
  EXPECT_EQ(partition(s).replicas, (std::vector<int32_t>{3, 1, 2}));
  EXPECT_FALSE(reassigning(partition(s)));
  EXPECT_TRUE(alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{3, 1, 2}).records.empty());  // already so
}

TEST(ReassignmentControl, BadTargetsAreRefusedWithKafkasCodesAndMessages) {
  auto s = five_brokers_one_partition();
  auto r = alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{});
  EXPECT_EQ(r.error, 39);
  EXPECT_EQ(r.message, "The manual partition assignment includes a partition with no replicas.");
  r = alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{1, 1, 2});
  EXPECT_EQ(r.error, 39);
  EXPECT_EQ(r.message, "The manual partition assignment includes duplicate replicas.");
  r = alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{1, 2, 9});
  EXPECT_EQ(r.error, 39);
  EXPECT_EQ(r.message, "The manual partition assignment includes broker 9, but no such broker is registered.");
  r = alter_partition_reassignment(s, "t", 0, std::vector<int32_t>{4});
  EXPECT_EQ(r.error, 39);
  EXPECT_EQ(r.message, "A reassignment cannot change a partition between one replica and several (3 now, 1 asked).");
  EXPECT_EQ(alter_partition_reassignment(s, "u", 0, std::vector<int32_t>{1}).error, 3);
  EXPECT_EQ(alter_partition_reassignment(s, "t", 1, std::vector<int32_t>{1}).error, 3);
  EXPECT_TRUE(r.records.empty());
}

}  // namespace
}  // namespace millrace::cluster
