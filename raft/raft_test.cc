// The core's elections, replication and commit, on hand-wired nodes.
#include "raft/raft.h"

#include <gtest/gtest.h>

#include "raft/raft_test_util.h"

namespace millrace::raft::testing {
namespace {

TEST(RaftTest, SingleNodeBootstrapCommits) {
  Net net(1);
  net.elect(1);
  EXPECT_EQ(net.r(1).role(), Role::kLeader);
  EXPECT_EQ(net.r(1).term(), Term(1));
  EXPECT_EQ(net.r(1).commit(), Index(0));  // the LeaderChange entry
  ProposeResult p = net.propose(1, 10, 5);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.last, Index(5));
  EXPECT_EQ(net.r(1).commit(), Index(5));
  EXPECT_EQ(net.log(1).last(), Index(5));
  EXPECT_EQ(net.log(1).all()[0].type, EntryType::kLeaderChange);
}

TEST(RaftTest, ThreeNodeElection) {
  Net net(3);
  net.elect(1);
  EXPECT_EQ(net.r(1).role(), Role::kLeader);
  EXPECT_EQ(net.r(2).role(), Role::kFollower);
  EXPECT_EQ(net.r(2).leader(), N(1));
  EXPECT_EQ(net.r(3).leader(), N(1));
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(net.r(i).commit(), Index(0)) << i;
}

TEST(RaftTest, ElectionByTimeout) {
  Net net(3);
  net.tick_all(25);
  int l = net.leader();
  ASSERT_NE(l, 0);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(net.r(i).leader(), N(l));
}

TEST(RaftTest, ReplicatesAndCommits) {
  Net net(3);
  net.elect(1);
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(net.propose(1, 100, 2).ok());
  net.tick_all(1);  // a heartbeat carries the commit to everyone
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(net.r(i).commit(), Index(10)) << i;
    EXPECT_EQ(net.log(i).last(), Index(10)) << i;
    EXPECT_EQ(net.log(i).all(), net.log(1).all()) << i;
  }
}

}  // namespace
}  // namespace millrace::raft::testing
