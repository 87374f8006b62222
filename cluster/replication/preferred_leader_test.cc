// choose_preferred_leader: when leadership goes back to a partition's first
// replica, and why not otherwise.
#include "cluster/replication/preferred_leader.h"

#include <gtest/gtest.h>

namespace millrace::cluster {
namespace {

const std::vector<int32_t> kReplicas{1, 2, 3};
const std::set<int32_t> kAll{1, 2, 3};

TEST(PreferredLeader, MovesToAnInSyncAvailablePreferredReplica) {
  auto c = choose_preferred_leader(2, kReplicas, {2, 1, 3}, kAll);
  EXPECT_EQ(c.verdict, PreferredVerdict::kMove);
  EXPECT_EQ(c.preferred, 1);
  EXPECT_EQ(c.why(), "");
}

TEST(PreferredLeader, PreferredAlreadyLeads) {
  auto c = choose_preferred_leader(1, kReplicas, {1, 2, 3}, kAll);
  EXPECT_EQ(c.verdict, PreferredVerdict::kAlreadyLeader);
  EXPECT_EQ(c.why(), "preferred replica 1 already leads");
}

TEST(PreferredLeader, NotInTheLeadersIsrStays) {
  // Back from a restart but still catching up: its log lacks committed entries.
  auto c = choose_preferred_leader(2, kReplicas, {2, 3}, kAll);
  EXPECT_EQ(c.verdict, PreferredVerdict::kNotInSync);
  EXPECT_NE(c.why().find("not in sync"), std::string::npos);
}

TEST(PreferredLeader, FencedOrShuttingDownIsNotAvailable) {
  // In the ISR still (the leader has not noticed yet), but the image says it
  // cannot lead: never hand leadership to a broker on its way out.
  auto c = choose_preferred_leader(2, kReplicas, {1, 2, 3}, {2, 3});
  EXPECT_EQ(c.verdict, PreferredVerdict::kNotAvailable);
  EXPECT_NE(c.why().find("not available"), std::string::npos);
}

TEST(PreferredLeader, NoLeaderNoOneToHandOver) {
  auto c = choose_preferred_leader(-1, kReplicas, {}, kAll);
  EXPECT_EQ(c.verdict, PreferredVerdict::kNoLeader);
}

TEST(PreferredLeader, NoReplicas) {
  auto c = choose_preferred_leader(1, {}, {1}, kAll);
  EXPECT_EQ(c.verdict, PreferredVerdict::kNoReplicas);
  EXPECT_EQ(c.preferred, -1);
}

TEST(PreferredLeader, OnlyTheFirstReplicaIsPreferred) {
  // Replica order is the preference: 3 leads [3, 1, 2] whoever else is in sync.
  EXPECT_EQ(choose_preferred_leader(3, {3, 1, 2}, {3, 1, 2}, kAll).verdict, PreferredVerdict::kAlreadyLeader);
  EXPECT_EQ(choose_preferred_leader(1, {3, 1, 2}, {3, 1, 2}, kAll).preferred, 3);
}

}  // namespace
}  // namespace millrace::cluster
