// The core's elections: bootstrap, timeouts, PreVote, CheckQuorum, leases,
// the PreVote + CheckQuorum liveness pair (etcd issue 9586), hard state.
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
  EXPECT_EQ(p.term, Term(1));
  EXPECT_EQ(net.r(1).commit(), Index(5));
  EXPECT_EQ(net.log(1).last(), Index(5));
  const Entry& lc = net.log(1).all()[0];
  EXPECT_EQ(lc.type, EntryType::kLeaderChange);
  EXPECT_EQ(lc.first, Index(0));
  EXPECT_EQ(lc.last, Index(0));
  EXPECT_EQ(lc.data, nullptr);
}

// A LogStart entry (DeleteRecords) is proposed like data, one offset, its
// type kept on every replica; Raft's own kinds cannot be proposed this way.
TEST(RaftTest, ALogStartEntryIsProposedAndReplicatedWithItsType) {
  Net net(3);
  net.elect(1);
  ProposeResult p = net.r(1).propose(bytes_of(10), 1, EntryType::kLogStart);
  ASSERT_TRUE(p.ok()) << p.message;
  net.deliver();
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(net.log(i).last(), p.last) << i;
    EXPECT_EQ(net.log(i).all().back().type, EntryType::kLogStart) << i;
  }
  EXPECT_EQ(net.r(1).commit(), p.last);
  EXPECT_EQ(net.r(1).propose(bytes_of(10), 2, EntryType::kLogStart).error, ProposeError::kInvalidConfig);
  EXPECT_EQ(net.r(1).propose(bytes_of(10), 1, EntryType::kVoters).error, ProposeError::kInvalidConfig);
  EXPECT_EQ(net.r(1).propose(nullptr, 1, EntryType::kLeaderChange).error, ProposeError::kInvalidConfig);
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

TEST(RaftTest, AVoterThatLostAcknowledgedEntriesAbstainsUntilItHasThemAgain) {
  // Node 3 once acknowledged offsets up to 5 and lost them (a damaged log cut
  // at start): until its log reaches 5 again it grants no vote. (It never
  // campaigns itself here, so any leader needs its vote or node 1's and 2's.)
  Net net(3, [](Options& o) {
    if (o.id == N(3)) {
      o.abstain_until = Index(5);
      o.election_ticks = 1000;
      o.check_quorum = false;  // no leader lease: it answers every candidate
    }
  });
  net.isolate(2);
  net.tick_all(60);
  EXPECT_EQ(net.leader(), 0) << "only node 3 could vote for node 1, and it abstains";
  net.heal();
  net.tick_all(60);
  int l = net.leader();
  ASSERT_TRUE(l == 1 || l == 2) << l;
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(net.propose(l).ok());
  net.tick_all(2);
  ASSERT_GE(net.log(3).last(), Index(5));
  // Caught up, it votes again: with the leader cut off, node 3's vote elects the other.
  const int other = l == 1 ? 2 : 1;
  net.isolate(l);
  net.tick_all(60);
  EXPECT_EQ(net.r(other).role(), Role::kLeader);
}

TEST(RaftTest, ElectionByTimeout) {
  Net net(3);
  net.tick_all(25);
  int l = net.leader();
  ASSERT_NE(l, 0);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(net.r(i).leader(), N(l));
}

TEST(RaftTest, ElectionTimeoutIsRandomizedInTTo2T) {
  // A lone follower that never hears a leader campaigns after [T, 2T) ticks.
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Net net(3, [&](Options& o) { o.seed = seed; });
    net.isolate(1);
    int ticks = 0;
    while (net.r(1).role() == Role::kFollower && ticks < 100) {
      net.tick(1);
      ++ticks;
    }
    EXPECT_GE(ticks, 10) << seed;
    EXPECT_LT(ticks, 20) << seed;
  }
}

TEST(RaftTest, LosingCandidateStepsDown) {
  Net net(3);
  // Node 3 holds a longer log of a newer term: nobody votes for 1.
  net.seed(3, Config{{N(1), N(2), N(3)}, {}, {}}, {{1, Term(2)}}, HardState{Term(2), kNoNode, Index(-1)});
  net.seed(2, Config{{N(1), N(2), N(3)}, {}, {}}, {{1, Term(2)}}, HardState{Term(2), kNoNode, Index(-1)});
  net.elect(1);
  EXPECT_NE(net.r(1).role(), Role::kLeader);
  EXPECT_EQ(net.r(1).role(), Role::kFollower);
}

TEST(RaftTest, VoteIsPersistedInTheReadyThatAnswersIt) {
  Net net(3);
  net.elect(1);
  bool seen = false;
  for (const auto& [i, rd] : net.readies) {
    for (const Message& m : rd.messages) {
      if (m.type != MessageType::kVoteResponse || m.reject) continue;
      seen = true;
      ASSERT_TRUE(rd.hard_state.has_value());
      EXPECT_EQ(rd.hard_state->vote, N(1));
      EXPECT_EQ(rd.hard_state->term, m.term);
      EXPECT_TRUE(rd.must_sync);
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(net.nodes[2].hard.vote, N(1));
  EXPECT_EQ(net.nodes[2].hard.term, Term(1));
}

TEST(RaftTest, TermChangeAlwaysSynced) {
  Net net(3, [](Options& o) { o.durability = Durability::kInMemory; });
  net.elect(1);
  std::map<int, HardState> prev;
  int changes = 0;
  for (const auto& [i, rd] : net.readies) {
    if (!rd.hard_state) continue;
    if (rd.hard_state->term != prev[i].term || rd.hard_state->vote != prev[i].vote) {
      ++changes;
      EXPECT_TRUE(rd.must_sync);
    }
    prev[i] = *rd.hard_state;
  }
  EXPECT_GE(changes, 3);
}

TEST(RaftTest, RestartKeepsTermAndVote) {
  Net net(3);
  net.elect(1);
  net.restart(2);
  EXPECT_EQ(net.r(2).term(), Term(1));
  EXPECT_EQ(net.r(2).hard_state().vote, N(1));
  // It will not vote for 3 in term 1 now.
  Message v;
  v.from = N(3);
  v.to = N(2);
  v.type = MessageType::kVote;
  v.term = Term(1);
  v.index = Index(100);
  v.log_term = Term(1);
  net.r(2).step(v);
  Ready rd = net.r(2).ready();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].reject);
}

TEST(RaftTest, VoteRefusedToShorterLog) {
  Net net(3);
  net.elect(1);
  ASSERT_TRUE(net.propose(1).ok());
  Message v;
  v.from = N(3);
  v.to = N(2);
  v.type = MessageType::kVote;
  v.term = Term(5);
  v.index = Index(0);
  v.log_term = Term(1);
  v.transfer = true;  // past the lease
  net.r(2).step(v);
  Ready rd = net.r(2).ready();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].reject);
  EXPECT_EQ(net.r(2).term(), Term(5));
  EXPECT_EQ(net.r(2).hard_state().vote, kNoNode);
}

TEST(RaftTest, PreVoteStopsAPartitionedNodeDisrupting) {
  Net net(3);
  net.elect(1);
  net.isolate(3);
  for (int k = 0; k < 100; ++k) net.tick(3);
  EXPECT_EQ(net.r(3).term(), Term(1));  // asked, never bumped
  EXPECT_EQ(net.r(3).role(), Role::kPreCandidate);
  net.heal();
  net.tick_all(3);
  EXPECT_EQ(net.r(1).role(), Role::kLeader);
  EXPECT_EQ(net.r(1).term(), Term(1));
  EXPECT_EQ(net.r(3).leader(), N(1));
}

TEST(RaftTest, WithoutPreVoteAPartitionedNodeDisrupts) {
  Net net(3, [](Options& o) {
    o.pre_vote = false;
    o.check_quorum = false;
  });
  net.elect(1);
  net.isolate(3);
  for (int k = 0; k < 100; ++k) net.tick(3);
  EXPECT_GT(net.r(3).term(), Term(2));
  net.heal();
  net.tick_all(1);
  EXPECT_GT(net.r(1).term(), Term(1));  // the old leader was deposed
}

TEST(RaftTest, CheckQuorumLeaderStepsDown) {
  Net net(3);
  net.elect(1);
  net.isolate(1);
  for (int k = 0; k < 20 && net.r(1).role() == Role::kLeader; ++k) net.tick(1);
  EXPECT_EQ(net.r(1).role(), Role::kFollower);
  EXPECT_EQ(net.r(1).term(), Term(1));
  EXPECT_EQ(net.r(1).propose(bytes_of(1)).error, ProposeError::kNotLeader);
}

TEST(RaftTest, CheckQuorumLeaderStaysWithAQuorum) {
  Net net(3);
  net.elect(1);
  net.down.insert(3);
  net.tick_all(50);
  EXPECT_EQ(net.r(1).role(), Role::kLeader);
  EXPECT_EQ(net.r(1).term(), Term(1));
}

TEST(RaftTest, LeaseIgnoresVotesFromADisruptiveNode) {
  Net net(3);
  net.elect(1);
  // Node 3 asks for term 5 while 2 heard from the leader just now.
  Message v;
  v.from = N(3);
  v.to = N(2);
  v.type = MessageType::kVote;
  v.term = Term(5);
  v.index = Index(100);
  v.log_term = Term(4);
  net.r(2).step(v);
  EXPECT_FALSE(net.r(2).has_ready());  // ignored: no answer, no term change
  EXPECT_EQ(net.r(2).term(), Term(1));
  v.transfer = true;  // but a transfer campaign passes the lease
  net.r(2).step(v);
  EXPECT_EQ(net.r(2).term(), Term(5));
  EXPECT_EQ(net.r(2).hard_state().vote, N(3));
}

// etcd issue 9586, half one: a node whose term got ahead of the cluster (here
// restored with term 5, as after campaigning without PreVote) while the
// others hold a lease. Its PreVotes are ignored by the leased followers, so
// without help it stays cut off forever; answering the leader's lower-term
// heartbeat with our term makes the leader step down and the cluster moves
// to a term everyone accepts.
TEST(RaftTest, StuckNodeWithHigherTermIsFreed) {
  Net net(3);
  net.elect(1);
  ASSERT_TRUE(net.propose(1).ok());
  net.nodes[3].hard.term = Term(5);
  net.restart(3);
  EXPECT_EQ(net.r(3).term(), Term(5));
  net.tick_all(60);
  int l = net.leader();
  ASSERT_NE(l, 0);
  EXPECT_GT(net.r(l).term(), Term(5));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(net.r(i).term(), net.r(l).term()) << i;
    EXPECT_EQ(net.r(i).leader(), N(l)) << i;
  }
  EXPECT_TRUE(net.propose(l).ok());
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(net.r(i).commit(), net.r(l).last_index()) << i;
}

// Half two: a pre-candidate behind the cluster's term gets its PreVote
// answered by a rejection at the higher term and joins that term as a
// follower, without any append or heartbeat reaching it.
TEST(RaftTest, PreCandidateBehindJoinsTheHigherTermOfARejection) {
  Net net(3);
  net.elect(1);
  net.isolate(3);
  ASSERT_TRUE(net.r(1).transfer_leadership(N(2)));
  net.deliver();
  ASSERT_EQ(net.r(2).role(), Role::kLeader);
  ASSERT_TRUE(net.r(2).transfer_leadership(N(1)));
  net.deliver();
  ASSERT_EQ(net.r(1).role(), Role::kLeader);
  ASSERT_EQ(net.r(1).term(), Term(3));
  EXPECT_EQ(net.r(3).term(), Term(1));
  net.heal();
  net.drop_types = {MessageType::kAppend, MessageType::kHeartbeat};
  // 3 times out and asks for term 2, below everyone's term 3.
  for (int k = 0; k < 20 && net.r(3).term() == Term(1); ++k) {
    net.r(3).tick();
    net.deliver();
  }
  EXPECT_EQ(net.r(3).term(), Term(3));
  EXPECT_EQ(net.r(3).role(), Role::kFollower);
  bool rejected_at_3 = false;
  for (const Message& m : net.sent)
    if (m.type == MessageType::kPreVoteResponse && m.to == N(3) && m.reject && m.term == Term(3)) rejected_at_3 = true;
  EXPECT_TRUE(rejected_at_3);
  EXPECT_EQ(net.r(1).role(), Role::kLeader);  // not disrupted
  EXPECT_EQ(net.r(1).term(), Term(3));
}

TEST(RaftTest, LowerTermAppendIsAnsweredWithOurTerm) {
  Net net(3);
  net.elect(1);
  Message a;
  a.from = N(3);
  a.to = N(2);
  a.type = MessageType::kAppend;
  a.term = Term(0);
  a.index = Index(-1);
  net.r(2).step(a);
  Ready rd = net.r(2).ready();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type, MessageType::kAppendResponse);
  EXPECT_EQ(rd.messages[0].term, Term(1));
  EXPECT_EQ(net.log(2).last(), Index(0));  // nothing accepted from it
}

TEST(RaftTest, NodeOutsideTheConfigNeverCampaigns) {
  Net net(3);
  Config c{{N(1), N(2)}, {}, {N(3)}};
  net.add(3, c);
  net.add(1, c);
  net.add(2, c);
  for (int k = 0; k < 100; ++k) net.tick(3);
  EXPECT_EQ(net.r(3).role(), Role::kFollower);
  EXPECT_EQ(net.r(3).term(), Term(0));
  net.r(3).campaign();
  EXPECT_EQ(net.r(3).role(), Role::kFollower);
}

TEST(RaftTest, LearnersLeaseExpiresThoughItNeverCampaigns) {
  // A node that may not campaign must still stop ignoring votes once its
  // leader has been silent for an election timeout (else a joint config that
  // needs its vote could never elect anyone).
  Net net(3, nullptr, {3});
  net.elect(1);
  net.down.insert(1);
  for (int k = 0; k < 50; ++k) net.tick(3);
  Message v;
  v.from = N(2);
  v.to = N(3);
  v.type = MessageType::kPreVote;
  v.term = Term(2);
  v.index = Index(100);
  v.log_term = Term(1);
  net.r(3).step(v);
  Ready rd = net.r(3).ready();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].reject);
}

TEST(RaftTest, StaleAndUnknownMessagesAreHarmless) {
  Net net(3);
  net.elect(1);
  Message m;
  m.from = N(9);
  m.to = N(1);
  m.type = MessageType::kAppendResponse;
  m.term = Term(1);
  m.index = Index(1000);
  net.r(1).step(m);  // unknown sender
  m.from = N(1);
  net.r(1).step(m);  // from itself
  m.from = N(2);
  m.to = N(3);
  net.r(1).step(m);  // not addressed to it
  EXPECT_EQ(net.r(1).commit(), Index(0));
  EXPECT_EQ(net.r(1).role(), Role::kLeader);
}


// The owner's hint that the leader's process is gone (its port refuses
// connections): the followers forget it and elect a new leader within a few
// ticks, not an election timeout; a hint about anyone else changes nothing.
TEST(RaftTest, AnUnreachableLeaderIsReplacedWithinAFewTicks) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Net net(3, [&](Options& o) { o.seed = seed; });
    net.elect(1);
    net.propose(1);
    net.tick_all(1);
    ASSERT_EQ(net.leader(), 1);
    net.down.insert(1);
    net.r(2).leader_unreachable(N(3));  // not its leader: ignored
    EXPECT_EQ(net.r(2).leader(), N(1));
    for (int i : {2, 3}) net.r(i).leader_unreachable(N(1));
    int ticks = 0;
    while (net.leader() == 0 && ticks < 100) {  // leader() skips down nodes: 0 until a new one
      net.tick_all(1);
      ++ticks;
    }
    EXPECT_NE(net.leader(), 0) << seed;
    EXPECT_LE(ticks, 6) << seed;  // without the hint: an election timeout (10-20 ticks) at least
  }
}

// Without the hint, only the lease running out lets a follower grant: one of
// two survivors alone cannot be elected early (the other still leases).
TEST(RaftTest, OneFollowersHintAloneWaitsForTheOthersLease) {
  Net net(3);
  net.elect(1);
  net.tick_all(1);
  net.down.insert(1);
  net.r(2).leader_unreachable(N(1));
  net.tick_all(4);
  EXPECT_EQ(net.leader(), 0);  // 3 still holds its lease on 1: no vote yet
  net.tick_all(40);
  EXPECT_NE(net.leader(), 0);
}

}  // namespace
}  // namespace millrace::raft::testing
