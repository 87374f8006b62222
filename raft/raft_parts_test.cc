// The core's parts on their own: the log view's overlay (unstable entries,
// pending truncation and snapshot), the backtracking probe, inflight windows,
// progress states, majorities (plain and joint) and the test MemoryLog.
#include <gtest/gtest.h>

#include "raft/progress.h"
#include "raft/quorum.h"
#include "raft/raft_log_view.h"
#include "raft/testing/memory_log.h"

namespace millrace::raft {
namespace {

using testing::MemoryLog;

Entry E(int64_t first, int64_t last, int32_t term, size_t bytes = 10) {
  Entry e;
  e.first = Index(first);
  e.last = Index(last);
  e.term = Term(term);
  e.data = std::make_shared<const std::vector<uint8_t>>(bytes, 'x');
  return e;
}

TEST(MemoryLogTest, TermsEntriesAndMoveStart) {
  MemoryLog log;
  EXPECT_EQ(log.start(), Index(0));
  EXPECT_EQ(log.last(), Index(-1));
  EXPECT_EQ(log.term_at(Index(-1)), Term(0));
  ASSERT_TRUE(log.append({E(0, 4, 1), E(5, 5, 1), E(6, 9, 2)}));
  EXPECT_FALSE(log.append({E(11, 11, 2)}));  // not contiguous: refused
  EXPECT_EQ(log.term_at(Index(3)), Term(1));  // inside a batch
  EXPECT_EQ(log.term_at(Index(7)), Term(2));
  EXPECT_EQ(log.term_at(Index(10)), std::nullopt);
  EXPECT_EQ(log.entries(Index(2), 0).size(), 1u);   // at least one
  EXPECT_EQ(log.entries(Index(2), 20).size(), 2u);  // then within the budget
  EXPECT_FALSE(log.move_start(Index(3)));            // not an entry boundary
  ASSERT_TRUE(log.move_start(Index(5)));
  EXPECT_EQ(log.start(), Index(5));
  EXPECT_EQ(log.snapshot().index, Index(4));
  EXPECT_EQ(log.snapshot().term, Term(1));
  EXPECT_EQ(log.term_at(Index(4)), Term(1));
  EXPECT_EQ(log.term_at(Index(3)), std::nullopt);
  ASSERT_TRUE(log.truncate_suffix(Index(6)));
  EXPECT_EQ(log.last(), Index(5));
  log.fail = true;
  EXPECT_FALSE(log.sync());
}

TEST(LogViewTest, UnstableOverlayAndStable) {
  MemoryLog log;
  ASSERT_TRUE(log.append({E(0, 2, 1), E(3, 3, 1)}));
  LogView v(log);
  v.append(E(4, 6, 2));
  EXPECT_EQ(v.last(), Index(6));
  EXPECT_EQ(v.term_at(Index(5)), Term(2));
  EXPECT_EQ(v.stable_last(), Index(3));
  std::vector<Entry> es = v.entries(Index(0), 1000);
  ASSERT_EQ(es.size(), 3u);
  EXPECT_EQ(es[2].last, Index(6));
  ASSERT_TRUE(log.append(v.unstable()));
  v.stable(false, false, 1);
  EXPECT_TRUE(v.unstable().empty());
  EXPECT_EQ(v.last(), Index(6));
}

TEST(LogViewTest, TruncationIntoTheLogIsPending) {
  MemoryLog log;
  ASSERT_TRUE(log.append({E(0, 2, 1), E(3, 3, 1), E(4, 4, 1)}));
  LogView v(log);
  v.truncate_from(Index(3));
  EXPECT_EQ(v.pending_truncate(), Index(3));
  EXPECT_EQ(v.last(), Index(2));
  EXPECT_EQ(v.term_at(Index(3)), std::nullopt);
  v.append(E(3, 5, 2));
  EXPECT_EQ(v.term_at(Index(4)), Term(2));
  EXPECT_EQ(v.entries(Index(0), 1000).size(), 2u);  // the log's first entry, then the unstable one
  EXPECT_EQ(v.stable_last(), Index(2));
  // Truncating within the unstable part does not touch the log.
  v.append(E(6, 6, 2));
  v.truncate_from(Index(6));
  EXPECT_EQ(v.last(), Index(5));
  EXPECT_EQ(v.pending_truncate(), Index(3));
}

TEST(LogViewTest, PendingSnapshotReplacesEverything) {
  MemoryLog log;
  ASSERT_TRUE(log.append({E(0, 2, 1)}));
  LogView v(log);
  SnapshotMeta s;
  s.index = Index(20);
  s.term = Term(3);
  v.install_snapshot(s);
  EXPECT_EQ(v.start(), Index(21));
  EXPECT_EQ(v.last(), Index(20));
  EXPECT_EQ(v.term_at(Index(20)), Term(3));
  EXPECT_EQ(v.term_at(Index(1)), std::nullopt);
  EXPECT_EQ(v.snapshot(), s);
  v.append(E(21, 21, 3));
  EXPECT_EQ(v.entries(Index(21), 0).size(), 1u);
}

TEST(LogViewTest, FindAtOrBelowSkipsWholeTerms) {
  MemoryLog log;
  ASSERT_TRUE(log.append({E(0, 0, 1), E(1, 4, 1), E(5, 5, 2), E(6, 8, 3), E(9, 9, 3)}));
  LogView v(log);
  EXPECT_EQ(v.find_at_or_below(Index(9), Term(3)), Index(9));
  EXPECT_EQ(v.find_at_or_below(Index(9), Term(2)), Index(5));
  EXPECT_EQ(v.find_at_or_below(Index(7), Term(3)), Index(5));  // 7 is inside [6..8]: not whole
  EXPECT_EQ(v.find_at_or_below(Index(9), Term(1)), Index(4));
  EXPECT_EQ(v.find_at_or_below(Index(9), Term(0)), Index(-1));
  EXPECT_EQ(v.find_at_or_below(Index(100), Term(9)), Index(9));
}

TEST(InflightsTest, WindowFreesByAckAndByHeartbeat) {
  Inflights in(3);
  in.add(Index(1));
  in.add(Index(5));
  in.add(Index(9));
  EXPECT_TRUE(in.full());
  in.free_to(Index(5));
  EXPECT_EQ(in.count(), 1u);
  in.add(Index(12));
  in.add(Index(15));
  EXPECT_TRUE(in.full());
  in.free_first();
  EXPECT_EQ(in.count(), 2u);
  in.free_to(Index(100));
  EXPECT_EQ(in.count(), 0u);
}

TEST(ProgressTest, ProbeReplicateSnapshot) {
  PeerProgress p(NodeId(2), Index(10), 2, false);
  EXPECT_EQ(p.state(), Progress::State::kProbe);
  EXPECT_FALSE(p.paused());
  p.sent(Index(12), true);
  EXPECT_TRUE(p.paused());  // one probe at a time
  EXPECT_FALSE(p.maybe_decrease(Index(5), Index(3)));  // not the probe just sent
  EXPECT_TRUE(p.maybe_decrease(Index(9), Index(3)));
  EXPECT_EQ(p.next(), Index(4));
  EXPECT_TRUE(p.maybe_update(Index(3)));
  p.become_replicate();
  EXPECT_EQ(p.next(), Index(4));
  p.sent(Index(6), true);
  p.sent(Index(8), true);
  EXPECT_TRUE(p.paused());  // window of 2
  EXPECT_EQ(p.next(), Index(9));
  EXPECT_FALSE(p.maybe_decrease(Index(3), Index(0)));  // stale rejection below match
  p.maybe_update(Index(6));
  EXPECT_FALSE(p.paused());
  p.become_snapshot(Index(20));
  EXPECT_TRUE(p.paused());
  p.maybe_update(Index(20));
  p.become_probe();
  EXPECT_EQ(p.next(), Index(21));
}

TEST(QuorumTest, MajorityIndex) {
  std::vector<NodeId> v{NodeId(1), NodeId(2), NodeId(3)};
  std::map<int, int64_t> m{{1, 10}, {2, 5}, {3, 7}};
  auto of = [&](NodeId n) -> std::optional<Index> {
    if (!m.count(n.value())) return std::nullopt;
    return Index(m[n.value()]);
  };
  EXPECT_EQ(majority_index(v, of), Index(7));
  m.erase(3);
  EXPECT_EQ(majority_index(v, of), Index(5));
  std::vector<NodeId> four{NodeId(1), NodeId(2), NodeId(3), NodeId(4)};
  m = {{1, 10}, {2, 9}, {3, 8}, {4, 1}};
  EXPECT_EQ(majority_index(four, of), Index(8));
}

TEST(QuorumTest, JointVoteNeedsBothHalves) {
  Config c;
  c.voters = {NodeId(1), NodeId(4)};
  c.outgoing = {NodeId(1), NodeId(2), NodeId(3)};
  std::map<int, bool> votes{{1, true}, {4, true}};
  auto of = [&](NodeId n) -> std::optional<bool> {
    if (!votes.count(n.value())) return std::nullopt;
    return votes[n.value()];
  };
  EXPECT_EQ(joint_vote(c, of), VoteResult::kPending);
  votes[2] = false;
  votes[3] = false;
  EXPECT_EQ(joint_vote(c, of), VoteResult::kLost);
  votes[2] = true;
  EXPECT_EQ(joint_vote(c, of), VoteResult::kWon);
  c.outgoing.clear();
  votes = {{1, true}};
  EXPECT_EQ(joint_vote(c, of), VoteResult::kPending);  // 1 of 2: not a majority yet
  votes[4] = false;
  EXPECT_EQ(joint_vote(c, of), VoteResult::kLost);
}

}  // namespace
}  // namespace millrace::raft
