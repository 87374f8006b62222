// The core's replication: commit rule (§5.4), conflicts and fast
// backtracking, idempotent appends, inflight windows, durability modes,
// snapshot catch-up after the log start moved.
#include <gtest/gtest.h>

#include <memory>

#include "raft/raft.h"
#include "raft/raft_test_util.h"

namespace millrace::raft::testing {
namespace {

const Config k3{{N(1), N(2), N(3)}, {}, {}};

size_t count(const std::vector<Message>& ms, MessageType t, int to, bool with_entries = false) {
  size_t n = 0;
  for (const Message& m : ms)
    if (m.type == t && m.to == N(to) && (!with_entries || !m.entries.empty())) ++n;
  return n;
}

TEST(ReplicationTest, FollowersCommitWhatTheLeaderCommits) {
  Net net(3);
  net.elect(1);
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(net.propose(1, 100, 2).ok());
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(net.r(i).commit(), Index(10)) << i;
    EXPECT_EQ(net.log(i).all(), net.log(1).all()) << i;
  }
}

TEST(ReplicationTest, ManyEntriesPerMessageUpToMaxBytes) {
  Net net(3, [](Options& o) { o.max_append_bytes = 250; });
  net.elect(1);
  net.isolate(2);
  for (int k = 0; k < 10; ++k) ASSERT_TRUE(net.propose(1, 100).ok());
  net.heal();
  net.sent.clear();
  net.tick_all(1);
  size_t appends = 0;
  for (const Message& m : net.sent)
    if (m.type == MessageType::kAppend && m.to == N(2) && !m.entries.empty()) {
      ++appends;
      EXPECT_LE(m.bytes(), 250u);
      EXPECT_GE(m.entries.size(), 1u);
    }
  EXPECT_GE(appends, 4u);
  EXPECT_LE(appends, 6u);
  EXPECT_EQ(net.log(2).all(), net.log(1).all());
}

// §5.4 (Figure 8): an entry of an earlier term on a majority is not committed
// by counting; it commits once an entry of the leader's own term does.
TEST(ReplicationTest, OldTermEntryNotCommittedByCounting) {
  Net net(3, [](Options& o) { o.max_append_bytes = 0; });  // one entry per message
  HardState hs{Term(1), kNoNode, Index(-1)};
  net.seed(1, k3, {{1, Term(1)}, {1, Term(1)}}, hs);
  net.seed(2, k3, {{1, Term(1)}, {1, Term(1)}}, hs);
  net.seed(3, k3, {{1, Term(1)}}, hs);
  // 1 campaigns (term 2) and wins. 2 hears no append at all; 3 gets the first
  // (it rejects it: it lacks index 1), then the term-1 entry, and no other
  // append carrying a term-2 entry.
  auto term2_to_3 = std::make_shared<int>(0);
  net.drop = [term2_to_3](const Message& m) {
    if (m.type != MessageType::kAppend) return false;
    if (m.to == N(2)) return true;
    for (const Entry& e : m.entries)
      if (e.term == Term(2)) return ++*term2_to_3 > 1;
    return false;
  };
  net.elect(1);
  ASSERT_EQ(net.r(1).role(), Role::kLeader);
  ASSERT_EQ(net.r(1).term(), Term(2));
  ASSERT_EQ(net.log(3).last(), Index(1));  // index 1 (term 1) is on 1 and 3: a majority
  EXPECT_EQ(net.r(1).progress(N(3))->match, Index(1));
  EXPECT_EQ(net.r(1).progress(N(1))->match, Index(2));
  EXPECT_EQ(net.r(1).commit(), Index(-1));  // ... but not committed by counting
  net.heal();
  net.tick_all(1);
  EXPECT_EQ(net.r(1).commit(), Index(2));  // the LeaderChange entry of term 2 carries it
  EXPECT_EQ(net.r(3).commit(), Index(2));
}

// A deposed leader's long suffix of its own term converges in a few round
// trips (one per divergent term), truncated from the conflicting entry.
TEST(ReplicationTest, FastBacktrackingOverALongDivergentSuffix) {
  Net net(3);
  net.elect(1);
  ASSERT_TRUE(net.propose(1).ok());
  net.isolate(1);
  for (int k = 0; k < 50; ++k) ASSERT_TRUE(net.r(1).propose(bytes_of(10)).ok());  // never commit
  net.deliver();
  net.tick_all(30);  // 1 steps down (CheckQuorum); 2 or 3 takes over once the lease ends
  int l = net.leader();
  ASSERT_TRUE(l == 2 || l == 3);
  for (int k = 0; k < 30; ++k) ASSERT_TRUE(net.propose(l).ok());
  net.heal();
  net.sent.clear();
  size_t truncations_before = 0;
  for (const auto& [i, rd] : net.readies)
    if (i == 1 && rd.truncate_from) ++truncations_before;
  net.tick_all(3);
  EXPECT_EQ(net.r(1).leader(), N(l));
  size_t rejects = 0;
  for (const Message& m : net.sent)
    if (m.type == MessageType::kAppendResponse && m.from == N(1) && m.reject) ++rejects;
  EXPECT_LE(rejects, 2u);
  EXPECT_EQ(net.log(1).all(), net.log(l).all());
  EXPECT_EQ(net.r(1).commit(), net.r(l).commit());
  size_t truncations = 0;
  Index from{-1};
  for (const auto& [i, rd] : net.readies)
    if (i == 1 && rd.truncate_from) {
      ++truncations;
      from = *rd.truncate_from;
    }
  EXPECT_EQ(truncations - truncations_before, 1u);
  EXPECT_EQ(from, Index(2));  // the first entry 1 wrote alone
}

TEST(ReplicationTest, FollowerMissingEntriesIsFilledIn) {
  Net net(3);
  net.elect(1);
  net.isolate(3);
  for (int k = 0; k < 20; ++k) ASSERT_TRUE(net.propose(1, 10, 3).ok());
  net.heal();
  net.tick_all(2);
  EXPECT_EQ(net.log(3).all(), net.log(1).all());
  EXPECT_EQ(net.r(3).commit(), net.r(1).commit());
}

TEST(ReplicationTest, DuplicateAndReorderedAppendsAreIdempotent) {
  Net net(3);
  net.elect(1);
  for (int k = 0; k < 10; ++k) ASSERT_TRUE(net.propose(1).ok());
  std::vector<Message> appends;
  for (const Message& m : net.sent)
    if (m.type == MessageType::kAppend && m.to == N(2)) appends.push_back(m);
  std::vector<Entry> before = net.log(2).all();
  size_t readies_before = net.readies.size();
  for (auto it = appends.rbegin(); it != appends.rend(); ++it) {
    net.r(2).step(*it);
    net.drive(2);
  }
  for (const Message& m : appends) {
    net.r(2).step(m);
    net.drive(2);
  }
  EXPECT_EQ(net.log(2).all(), before);
  for (size_t k = readies_before; k < net.readies.size(); ++k) {
    EXPECT_FALSE(net.readies[k].second.truncate_from);
    EXPECT_TRUE(net.readies[k].second.entries.empty());
  }
  net.queue.clear();
}

TEST(ReplicationTest, FollowerCommitIsBoundedByWhatTheMessageVerified) {
  // An append whose prev is 2 with no entries, from a leader that committed 5:
  // the follower verified only up to 2 (its index 3 is of a stale term).
  Net net2(3);
  net2.seed(2, k3, {{1, Term(1)}, {1, Term(1)}, {1, Term(1)}, {1, Term(3)}}, HardState{Term(1), kNoNode, Index(-1)});
  Message a;
  a.from = N(1);
  a.to = N(2);
  a.type = MessageType::kAppend;
  a.term = Term(4);
  a.index = Index(2);
  a.log_term = Term(1);
  a.commit = Index(5);
  net2.r(2).step(a);
  EXPECT_EQ(net2.r(2).commit(), Index(2));
}

TEST(ReplicationTest, InflightWindowLimitsPipelinedAppends) {
  Net net(3, [](Options& o) {
    o.max_inflight = 2;
    o.max_append_bytes = 0;
  });
  net.elect(1);
  ASSERT_EQ(net.r(1).progress(N(2))->state, Progress::State::kReplicate);
  net.drop = [](const Message& m) { return m.type == MessageType::kAppendResponse && m.from == N(2); };
  net.sent.clear();
  for (int k = 0; k < 10; ++k) ASSERT_TRUE(net.propose(1).ok());
  EXPECT_EQ(count(net.sent, MessageType::kAppend, 2, true), 2u);
  EXPECT_EQ(net.r(1).progress(N(2))->inflight, 2u);
  EXPECT_EQ(count(net.sent, MessageType::kAppend, 3, true), 10u);  // 3 acks: its window keeps moving
  net.heal();
  net.tick_all(3);
  EXPECT_EQ(net.log(2).all(), net.log(1).all());
  EXPECT_EQ(net.r(1).progress(N(2))->inflight, 0u);
}

TEST(ReplicationTest, ProbeStateSendsOneAtATime) {
  Net net(3, [](Options& o) { o.max_append_bytes = 0; });
  // A new leader probes each follower with its first append; 3's answers are lost.
  net.drop = [](const Message& m) { return m.type == MessageType::kAppendResponse && m.from == N(3); };
  net.elect(1);
  ASSERT_EQ(net.r(1).progress(N(3))->state, Progress::State::kProbe);
  net.sent.clear();
  for (int k = 0; k < 10; ++k) ASSERT_TRUE(net.propose(1).ok());
  EXPECT_EQ(count(net.sent, MessageType::kAppend, 3, true), 0u);  // the probe is out, unanswered
  EXPECT_EQ(count(net.sent, MessageType::kAppend, 2, true), 10u);
  net.heal();
  net.tick_all(3);
  EXPECT_EQ(net.log(3).all(), net.log(1).all());
  EXPECT_EQ(net.r(1).progress(N(3))->state, Progress::State::kReplicate);
}

TEST(ReplicationTest, FollowerThatLostAcknowledgedEntriesIsRefilled) {
  // kInMemory: a follower may lose what it acknowledged in a crash. The
  // leader must not probe the same index forever.
  Net net(3, [](Options& o) { o.durability = Durability::kInMemory; });
  net.elect(1);
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(net.propose(1).ok());
  net.add(3, k3, [](Options& o) { o.durability = Durability::kInMemory; });  // its disk is gone
  ASSERT_TRUE(net.propose(1).ok());
  net.tick_all(2);
  EXPECT_LT(net.sent.size(), 1000u);
  EXPECT_EQ(net.log(3).all(), net.log(1).all());
}

TEST(ReplicationTest, SyncedLeaderCountsItselfOnlyAfterAdvance) {
  Net net(1);
  net.elect(1);
  ProposeResult p = net.r(1).propose(bytes_of(10));
  ASSERT_TRUE(p.ok());
  Ready rd = net.r(1).ready();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_FALSE(rd.commit.has_value());
  ASSERT_TRUE(net.log(1).append(rd.entries));
  net.log(1).sync();
  net.r(1).advance(rd);
  Ready rd2 = net.r(1).ready();
  ASSERT_TRUE(rd2.commit.has_value());
  EXPECT_EQ(*rd2.commit, p.last);
}

TEST(ReplicationTest, SyncedFollowerAcksInTheSyncedReadyThatCarriesTheEntries) {
  Net net(3);
  net.elect(1);
  size_t from = net.readies.size();
  ASSERT_TRUE(net.propose(1).ok());
  int acks = 0;
  for (size_t k = from; k < net.readies.size(); ++k) {
    const auto& [i, rd] = net.readies[k];
    if (i == 1) continue;
    for (const Message& m : rd.messages)
      if (m.type == MessageType::kAppendResponse && !m.reject && !rd.entries.empty()) {
        ++acks;
        EXPECT_TRUE(rd.must_sync);
        EXPECT_EQ(m.index, rd.entries.back().last);
      }
  }
  EXPECT_EQ(acks, 2);
}

TEST(ReplicationTest, InMemoryModeSyncsOnlyHardState) {
  Net net(3, [](Options& o) { o.durability = Durability::kInMemory; });
  net.elect(1);
  size_t from = net.readies.size();
  size_t syncs = net.nodes[2].synced_readies;
  ASSERT_TRUE(net.propose(1).ok());
  for (size_t k = from; k < net.readies.size(); ++k) EXPECT_FALSE(net.readies[k].second.must_sync);
  EXPECT_EQ(net.nodes[2].synced_readies, syncs);
  EXPECT_EQ(net.r(1).commit(), net.r(1).last_index());
  // A single in-memory leader commits at advance without any sync.
  Net one(1, [](Options& o) { o.durability = Durability::kInMemory; });
  one.elect(1);
  ProposeResult p = one.r(1).propose(bytes_of(1));
  Ready rd = one.r(1).ready();
  EXPECT_FALSE(rd.must_sync);
  ASSERT_TRUE(one.log(1).append(rd.entries));
  one.r(1).advance(rd);
  EXPECT_EQ(one.r(1).commit(), p.last);
}

TEST(ReplicationTest, UncommittedBytesAreBounded) {
  Net net(3, [](Options& o) { o.max_uncommitted_bytes = 100; });
  net.elect(1);
  net.isolate(1);
  ASSERT_TRUE(net.r(1).propose(bytes_of(60)).ok());
  EXPECT_EQ(net.r(1).propose(bytes_of(60)).error, ProposeError::kTooMuchUncommitted);
  net.heal();
  net.deliver();
  net.tick_all(1);
  EXPECT_TRUE(net.r(1).propose(bytes_of(60)).ok());
}

TEST(ReplicationTest, SnapshotCatchUpAfterLogStartMoved) {
  Net net(3);
  net.elect(1);
  net.isolate(3);
  for (int k = 0; k < 10; ++k) ASSERT_TRUE(net.propose(1, 10, 2).ok());
  Index c = net.r(1).commit();
  ASSERT_EQ(c, Index(20));
  ASSERT_TRUE(net.log(1).move_start(Index(11)));  // retention, below the commit index
  ASSERT_TRUE(net.log(2).move_start(Index(11)));
  net.heal();
  net.sent.clear();
  net.tick_all(3);
  EXPECT_EQ(count(net.sent, MessageType::kSnapshot, 3), 1u);
  EXPECT_EQ(net.log(3).start(), Index(11));
  EXPECT_EQ(net.log(3).snapshot(), net.log(1).snapshot());
  EXPECT_EQ(net.log(3).all(), net.log(1).all());
  EXPECT_EQ(net.r(3).commit(), Index(20));
  EXPECT_EQ(net.r(1).progress(N(3))->state, Progress::State::kReplicate);
  ASSERT_TRUE(net.propose(1).ok());
  EXPECT_EQ(net.log(3).last(), net.log(1).last());
}

TEST(ReplicationTest, LostSnapshotIsResent) {
  Net net(3);
  net.elect(1);
  net.isolate(3);
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(net.propose(1).ok());
  ASSERT_TRUE(net.log(1).move_start(net.r(1).commit() + 1));
  net.heal();
  net.drop_types = {MessageType::kSnapshot};
  net.tick_all(2);
  EXPECT_EQ(net.r(1).progress(N(3))->state, Progress::State::kSnapshot);
  net.heal();
  net.tick_all(4);
  EXPECT_EQ(net.log(3).start(), net.log(1).start());
  EXPECT_EQ(net.r(3).commit(), net.r(1).commit());
  EXPECT_EQ(net.r(1).progress(N(3))->state, Progress::State::kReplicate);
}

TEST(ReplicationTest, RecordCountSpansOffsets) {
  Net net(3);
  net.elect(1);
  ProposeResult a = net.propose(1, 10, 100);
  ProposeResult b = net.propose(1, 10, 1);
  EXPECT_EQ(a.last, Index(100));
  EXPECT_EQ(b.last, Index(101));
  EXPECT_EQ(net.log(2).all()[1].first, Index(1));
  EXPECT_EQ(net.log(2).all()[1].last, Index(100));
  EXPECT_EQ(net.r(1).propose(bytes_of(1), 0).error, ProposeError::kInvalidConfig);
}

TEST(ReplicationTest, OnlyTheLeaderProposes) {
  Net net(3);
  net.elect(1);
  EXPECT_EQ(net.r(2).propose(bytes_of(1)).error, ProposeError::kNotLeader);
}

}  // namespace
}  // namespace millrace::raft::testing
