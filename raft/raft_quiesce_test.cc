// Quiescence (Options::quiesce_ticks): an idle, caught-up group goes silent;
// a proposal, a message to the leader or wake() brings it back; a follower
// that lags or holds more than the leader committed never stops its clock.
#include <gtest/gtest.h>

#include "raft/raft_test_util.h"

namespace millrace::raft::testing {
namespace {

auto quiescing = [](Options& o) { o.quiesce_ticks = 5; };

size_t sent_since(const Net& net, size_t from) { return net.sent.size() - from; }

// Three nodes, 1 leading, one entry committed, then idle until all are quiescent.
Net quiet_group() {
  Net net(3, quiescing);
  net.elect(1);
  EXPECT_TRUE(net.propose(1).ok());
  net.tick_all(10);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(net.r(i).quiesced()) << "node " << i;
  return net;
}

TEST(RaftQuiesce, AnIdleCaughtUpGroupFallsSilentAndAProposalWakesIt) {
  Net net = quiet_group();
  size_t before = net.sent.size();
  net.tick_all(100);  // ten election timeouts
  EXPECT_EQ(sent_since(net, before), 0u) << "a quiescent group sends nothing";
  EXPECT_EQ(net.leader(), 1);
  EXPECT_EQ(net.r(2).role(), Role::kFollower);
  // A proposal wakes everyone; it commits as usual, then the group goes quiet again.
  ProposeResult p = net.propose(1);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(net.r(1).quiesced());
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(net.r(i).commit(), p.last) << "node " << i;
  net.tick_all(10);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(net.r(i).quiesced()) << "node " << i;
  EXPECT_EQ(net.r(1).term(), Term(1));  // no election happened
}

TEST(RaftQuiesce, WithoutOptionNothingQuiesces) {
  Net net(3);
  net.elect(1);
  net.tick_all(20);
  for (int i = 1; i <= 3; ++i) EXPECT_FALSE(net.r(i).quiesced());
}

TEST(RaftQuiesce, ALaggingFollowerKeepsTheGroupAwake) {
  Net net(3, quiescing);
  net.elect(1);
  net.cut.insert({1, 3});  // 3 misses an entry (and cannot tell 1 about it)
  net.cut.insert({3, 1});
  ASSERT_TRUE(net.propose(1).ok());
  for (int t = 0; t < 30; ++t) {
    net.tick_all(1);
    ASSERT_FALSE(net.r(1).quiesced()) << "tick " << t << ": the leader waits for every replica to catch up";
  }
  net.heal();
  net.tick_all(10);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(net.r(i).quiesced()) << "node " << i;
  EXPECT_EQ(net.r(3).commit(), net.r(1).commit());
}

TEST(RaftQuiesce, TheDriverWakesFollowersWhenTheLeadersNodeDiesAndTheyElectAnother) {
  Net net = quiet_group();
  net.down.insert(1);
  net.tick_all(50);
  EXPECT_EQ(net.leader(), 0) << "a quiescent follower does not notice a dead leader by itself";
  // The broker's node-level liveness (ReplicaSet) tells the followers.
  net.r(2).wake();
  net.r(3).wake();
  net.tick_all(40);
  int l = net.leader();
  EXPECT_TRUE(l == 2 || l == 3) << l;
  ASSERT_TRUE(net.propose(l).ok());
  EXPECT_EQ(net.r(2).commit(), net.r(3).commit());
}

TEST(RaftQuiesce, ARestartedFollowerWakesTheLeaderAndLearnsWhoLeads) {
  Net net = quiet_group();
  net.restart(3);  // forgets it was quiescent, and who leads
  EXPECT_EQ(net.r(3).leader(), kNoNode);
  net.tick_all(40);  // its PreVote is refused (node 2 holds the lease) but wakes the leader
  EXPECT_EQ(net.leader(), 1);
  EXPECT_EQ(net.r(1).term(), Term(1));
  EXPECT_EQ(net.r(3).leader(), N(1));
}

TEST(RaftQuiesce, ALeaderThatRestartsBeforeAnyoneNoticesIsReElectedOrReplaced) {
  // Its node's liveness never lapsed, so the followers are never woken by
  // the driver: the restarted leader's own (Pre)Vote must wake them.
  Net net = quiet_group();
  net.restart(1);
  net.tick_all(60);
  int l = net.leader();
  ASSERT_NE(l, 0) << "the group has a leader again";
  ASSERT_TRUE(net.propose(l).ok());
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(net.r(i).commit(), net.r(l).commit()) << "node " << i;
}

TEST(RaftQuiesce, ALeaderCutOffWhileQuiescentIsReplacedOnceWoken) {
  Net net = quiet_group();
  net.isolate(1);
  net.r(2).wake();
  net.r(3).wake();
  net.tick_all(40);
  int l = net.leader();
  ASSERT_TRUE(l == 2 || l == 3) << l;
  // The old leader, still quiescent and cut off, learns of the new term once healed and a message reaches it.
  net.heal();
  ASSERT_TRUE(net.propose(l).ok());
  net.tick_all(5);
  EXPECT_EQ(net.r(1).role(), Role::kFollower);
  EXPECT_EQ(net.r(1).commit(), net.r(l).commit());
}

}  // namespace
}  // namespace millrace::raft::testing
