// Membership and leadership transfer: learners, joint consensus, configs in
// force from the moment they are appended (and reverted by truncation),
// TimeoutNow.
#include <gtest/gtest.h>

#include "raft/raft.h"
#include "raft/raft_test_util.h"

namespace millrace::raft::testing {
namespace {

Config voters(std::vector<int> v, std::vector<int> learners = {}) {
  Config c;
  for (int i : v) c.voters.push_back(N(i));
  for (int i : learners) c.learners.push_back(N(i));
  return c;
}

// Nodes 1-3 voters, node 4 a blank replica (empty log, no config yet).
Net net_with_spare() {
  Net net(3);
  net.add(4, Config{});
  net.elect(1);
  return net;
}

TEST(MembershipTest, LearnerCatchesUpWithoutVoting) {
  Net net = net_with_spare();
  ASSERT_TRUE(net.propose(1).ok());
  ProposeResult r = net.r(1).propose_config(voters({1, 2, 3}, {4}));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_TRUE(net.r(1).config().is_learner(N(4)));  // in force once appended
  net.deliver();
  net.tick_all(2);
  EXPECT_EQ(net.log(4).all(), net.log(1).all());
  EXPECT_EQ(net.r(4).config(), voters({1, 2, 3}, {4}));
  EXPECT_TRUE(net.r(1).progress(N(4))->learner);
  // Its acknowledgements do not count: with 2 and 3 away nothing commits.
  net.isolate(2);
  net.isolate(3);
  Index c = net.r(1).commit();
  ASSERT_TRUE(net.propose(1).ok());
  EXPECT_EQ(net.r(1).commit(), c);
  EXPECT_EQ(net.log(4).last(), net.log(1).last());
  // And it never campaigns.
  for (int k = 0; k < 60; ++k) net.tick(4);
  EXPECT_EQ(net.r(4).role(), Role::kFollower);
}

TEST(MembershipTest, PromoteLearnerThroughJointConsensus) {
  Net net = net_with_spare();
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 2, 3}, {4})).ok());
  net.deliver();
  ProposeResult r = net.r(1).propose_config(voters({1, 2, 3, 4}));
  ASSERT_TRUE(r.ok()) << r.message;
  Config joint = net.r(1).config();
  EXPECT_TRUE(joint.joint());
  EXPECT_EQ(joint.voters, voters({1, 2, 3, 4}).voters);
  EXPECT_EQ(joint.outgoing, voters({1, 2, 3}).voters);
  EXPECT_TRUE(joint.learners.empty());
  net.deliver();
  net.tick_all(2);
  // The leader left the joint config on its own once it committed.
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(net.r(i).config(), voters({1, 2, 3, 4})) << i;
  EXPECT_EQ(net.r(1).commit(), net.r(1).last_index());
  // 4 now counts: with 3 and 4 away a majority of 4 voters is missing.
  net.isolate(3);
  net.isolate(4);
  Index c = net.r(1).commit();
  ASSERT_TRUE(net.propose(1).ok());
  EXPECT_EQ(net.r(1).commit(), c);
}

TEST(MembershipTest, JointConfigNeedsBothMajorities) {
  Net net = net_with_spare();
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 2, 3}, {4})).ok());
  net.deliver();
  // Replace 2 and 3 by 4: C_old = {1,2,3}, C_new = {1,4}. Without 2 and 3
  // C_old has no majority: the joint entry cannot commit.
  net.isolate(2);
  net.isolate(3);
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 4})).ok());
  net.deliver();
  net.tick(1, 1);
  net.deliver();
  EXPECT_TRUE(net.r(1).config().joint());
  EXPECT_LT(net.r(1).commit(), net.r(1).last_index());
  net.heal();
  net.tick_all(2);
  EXPECT_EQ(net.r(1).config(), voters({1, 4}));
  EXPECT_EQ(net.r(4).config(), voters({1, 4}));
}

TEST(MembershipTest, DemoteVoterToLearner) {
  Net net(3);
  net.elect(1);
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 2}, {3})).ok());
  EXPECT_TRUE(net.r(1).config().joint());
  net.deliver();
  net.tick_all(2);
  EXPECT_EQ(net.r(1).config(), voters({1, 2}, {3}));
  EXPECT_EQ(net.r(3).config(), voters({1, 2}, {3}));
  EXPECT_EQ(net.log(3).last(), net.log(1).last());
}

TEST(MembershipTest, RemovedLeaderStepsDownOnceCNewCommits) {
  Net net = net_with_spare();
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 2, 3}, {4})).ok());
  net.deliver();
  ASSERT_TRUE(net.r(1).propose_config(voters({2, 3, 4})).ok());
  EXPECT_EQ(net.r(1).role(), Role::kLeader);  // still leads the joint config
  net.deliver();
  net.tick_all(1);
  EXPECT_EQ(net.r(1).role(), Role::kFollower);
  EXPECT_EQ(net.r(1).config(), voters({2, 3, 4}));
  // A node outside the config never campaigns; the others elect a leader.
  net.tick_all(40);
  EXPECT_EQ(net.r(1).role(), Role::kFollower);
  int l = net.leader();
  EXPECT_TRUE(l == 2 || l == 3 || l == 4) << l;
  ASSERT_NE(l, 0);
  EXPECT_TRUE(net.propose(l).ok());
}

TEST(MembershipTest, OneChangeAtATime) {
  Net net = net_with_spare();
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 2, 3}, {4})).ok());
  ProposeResult r = net.r(1).propose_config(voters({1, 2, 3}));
  EXPECT_EQ(r.error, ProposeError::kConfigInFlight);
  net.deliver();
  EXPECT_TRUE(net.r(1).propose_config(voters({1, 2, 3, 4})).ok());
  EXPECT_EQ(net.r(1).propose_config(voters({1, 2, 3})).error, ProposeError::kConfigInFlight);
  net.deliver();  // the joint config commits, then the leave entry the leader appends
  EXPECT_EQ(net.r(1).config(), voters({1, 2, 3, 4}));
  EXPECT_TRUE(net.r(1).propose_config(voters({1, 2, 3})).ok());
}

TEST(MembershipTest, InvalidConfigsAreRefusedWithAReason) {
  Net net(3);
  net.elect(1);
  ProposeResult r = net.r(1).propose_config(Config{});
  EXPECT_EQ(r.error, ProposeError::kInvalidConfig);
  EXPECT_NE(r.message.find("empty"), std::string::npos) << r.message;
  r = net.r(1).propose_config(voters({1, 2, 3}, {3}));
  EXPECT_EQ(r.error, ProposeError::kInvalidConfig);
  EXPECT_NE(r.message.find("node 3 is both a voter and a learner"), std::string::npos) << r.message;
  Config j = voters({1, 2});
  j.outgoing = {N(3)};
  EXPECT_EQ(net.r(1).propose_config(j).error, ProposeError::kInvalidConfig);
  EXPECT_EQ(net.r(2).propose_config(voters({1, 2})).error, ProposeError::kNotLeader);
}

TEST(MembershipTest, ConfigRevertsWhenItsEntryIsTruncated) {
  Net net = net_with_spare();
  net.isolate(1);
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 2, 3}, {4})).ok());
  EXPECT_EQ(net.r(1).config(), voters({1, 2, 3}, {4}));
  net.deliver();
  net.tick_all(30);  // 2 or 3 takes over; 1 stepped down with its config entry uncommitted
  int l = net.leader();
  ASSERT_TRUE(l == 2 || l == 3) << l;
  ASSERT_TRUE(net.propose(l).ok());
  net.heal();
  net.tick_all(3);
  EXPECT_EQ(net.r(1).config(), voters({1, 2, 3}));  // its entry was truncated
  EXPECT_EQ(net.log(1).all(), net.log(l).all());
}

TEST(MembershipTest, RestartRebuildsConfigFromTheLog) {
  Net net = net_with_spare();
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 2, 3}, {4})).ok());
  net.deliver();
  net.restart(2);
  EXPECT_EQ(net.r(2).config(), voters({1, 2, 3}, {4}));
}

TEST(MembershipTest, ConfigFromSnapshotAfterLogStartMoved) {
  Net net = net_with_spare();
  ASSERT_TRUE(net.r(1).propose_config(voters({1, 2, 3}, {4})).ok());
  net.deliver();
  ASSERT_TRUE(net.propose(1).ok());
  ASSERT_TRUE(net.log(1).move_start(net.r(1).commit() + 1));
  EXPECT_EQ(net.log(1).snapshot().config, voters({1, 2, 3}, {4}));
  net.restart(1);
  EXPECT_EQ(net.r(1).config(), voters({1, 2, 3}, {4}));
}

TEST(TransferTest, TransferToAnUpToDateVoter) {
  Net net(3);
  net.elect(1);
  ASSERT_TRUE(net.propose(1).ok());
  ASSERT_TRUE(net.r(1).transfer_leadership(N(2)));
  net.deliver();
  EXPECT_EQ(net.r(2).role(), Role::kLeader);
  EXPECT_EQ(net.r(2).term(), Term(2));
  EXPECT_EQ(net.r(1).role(), Role::kFollower);
  EXPECT_EQ(net.r(3).leader(), N(2));  // 3's lease yielded to transfer=true
  bool transfer_vote = false;
  for (const Message& m : net.sent)
    if (m.type == MessageType::kVote && m.from == N(2)) transfer_vote = m.transfer;
  EXPECT_TRUE(transfer_vote);
  bool prevote = false;
  for (const Message& m : net.sent)
    if (m.type == MessageType::kPreVote && m.from == N(2)) prevote = true;
  EXPECT_FALSE(prevote);  // TimeoutNow skips PreVote
}

TEST(TransferTest, CatchesTheTargetUpFirstAndRefusesProposalsMeanwhile) {
  Net net(3);
  net.elect(1);
  net.isolate(2);
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(net.propose(1).ok());
  ASSERT_TRUE(net.r(1).transfer_leadership(N(2)));
  net.deliver();
  EXPECT_EQ(net.r(1).propose(bytes_of(1)).error, ProposeError::kTransferring);
  EXPECT_EQ(net.r(1).propose_config(voters({1, 2})).error, ProposeError::kTransferring);
  net.heal();
  net.tick_all(2);
  EXPECT_EQ(net.r(2).role(), Role::kLeader);
  EXPECT_EQ(net.log(2).last(), net.log(1).last());
}

TEST(TransferTest, AbortsAfterAnElectionTimeout) {
  Net net(3);
  net.elect(1);
  net.down.insert(2);
  ASSERT_TRUE(net.r(1).transfer_leadership(N(2)));
  EXPECT_EQ(net.r(1).propose(bytes_of(1)).error, ProposeError::kTransferring);
  net.tick_all(10);
  EXPECT_EQ(net.r(1).role(), Role::kLeader);
  EXPECT_TRUE(net.r(1).propose(bytes_of(1)).ok());
}

TEST(TransferTest, RefusesNonVotersAndFollowers) {
  Net net(3, nullptr, {3});
  net.elect(1);
  EXPECT_FALSE(net.r(1).transfer_leadership(N(3)));  // a learner
  EXPECT_FALSE(net.r(1).transfer_leadership(N(1)));  // itself
  EXPECT_FALSE(net.r(1).transfer_leadership(N(7)));  // unknown
  EXPECT_FALSE(net.r(2).transfer_leadership(N(1)));  // not the leader
}

}  // namespace
}  // namespace millrace::raft::testing
