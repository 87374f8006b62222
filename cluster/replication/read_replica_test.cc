// choose_read_replica: which follower a rack-aware consumer is sent to, and
// when it stays on the leader.
#include "cluster/replication/read_replica.h"

#include <gtest/gtest.h>

namespace millrace::cluster {
namespace {

const std::vector<int32_t> kReplicas{1, 2, 3};
const std::map<int32_t, std::string> kRacks{{1, "r1"}, {2, "r2"}, {3, "r3"}};

TEST(ReadReplica, SendsTheClientToTheInSyncReplicaOfItsRack) {
  EXPECT_EQ(choose_read_replica("r2", 1, kReplicas, {1, 2, 3}, kRacks), 2);
  EXPECT_EQ(choose_read_replica("r3", 1, kReplicas, {1, 2, 3}, kRacks), 3);
}

TEST(ReadReplica, NoRackNamedReadsFromTheLeader) {
  EXPECT_EQ(choose_read_replica("", 1, kReplicas, {1, 2, 3}, kRacks), -1);
}

TEST(ReadReplica, LeaderInTheClientsRackServesItself) {
  // Another replica shares the rack, but the leader is there too: no hop.
  const std::map<int32_t, std::string> racks{{1, "r1"}, {2, "r1"}, {3, "r3"}};
  EXPECT_EQ(choose_read_replica("r1", 1, kReplicas, {1, 2, 3}, racks), -1);
}

TEST(ReadReplica, ReplicaOutOfSyncIsNotChosen) {
  // Its log lacks committed entries (or it went silent): the leader serves.
  EXPECT_EQ(choose_read_replica("r2", 1, kReplicas, {1, 3}, kRacks), -1);
}

TEST(ReadReplica, BrokerThatMayNotServeIsNotChosen) {
  // Fenced, unregistered or shutting down: not among the brokers that may serve.
  const std::map<int32_t, std::string> racks{{1, "r1"}, {3, "r3"}};
  EXPECT_EQ(choose_read_replica("r2", 1, kReplicas, {1, 2, 3}, racks), -1);
}

TEST(ReadReplica, NoReplicaInTheClientsRack) {
  EXPECT_EQ(choose_read_replica("r9", 1, kReplicas, {1, 2, 3}, kRacks), -1);
  // Brokers without a rack never match a rack.
  const std::map<int32_t, std::string> none{{1, ""}, {2, ""}, {3, ""}};
  EXPECT_EQ(choose_read_replica("r2", 1, kReplicas, {1, 2, 3}, none), -1);
}

TEST(ReadReplica, FirstMatchInAssignmentOrderIsChosen) {
  // Two in-sync replicas share the client's rack: the first of the
  // assignment, whatever the ISR's order, so every leader decides alike.
  const std::map<int32_t, std::string> racks{{1, "r1"}, {2, "r2"}, {3, "r2"}, {4, "r2"}};
  EXPECT_EQ(choose_read_replica("r2", 1, {1, 3, 2, 4}, {4, 2, 3, 1}, racks), 3);
  EXPECT_EQ(choose_read_replica("r2", 1, {1, 3, 2, 4}, {1, 2, 4}, racks), 2);
}

TEST(ReadReplica, LeaderWithoutAKnownRackStillSendsToTheRack) {
  const std::map<int32_t, std::string> racks{{2, "r2"}, {3, "r3"}};
  EXPECT_EQ(choose_read_replica("r2", 1, kReplicas, {1, 2, 3}, racks), 2);
}

TEST(ReadReplica, LeaderIsNeverItsOwnPreferredReadReplica) {
  EXPECT_EQ(choose_read_replica("r1", 1, {1}, {1}, {{1, "r1"}}), -1);
  EXPECT_EQ(choose_read_replica("r2", 1, {1}, {1}, {{1, "r1"}}), -1);
}

}  // namespace
}  // namespace millrace::cluster
