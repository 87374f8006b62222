// Each deliberate bug (raft.h, Bug; built into millrace_raft_buggy only) is
// real: a scripted scenario shows the deviation it names. Whether the
// simulator catches it is raft/sim's proof; this only pins that the bug does
// what its name says, and that Bug::kNone behaves as the real core.
#include <gtest/gtest.h>

#include <memory>

#include "raft/raft.h"
#include "raft/raft_test_util.h"

namespace millrace::raft::testing {
namespace {

const Config k3{{N(1), N(2), N(3)}, {}, {}};

auto with(Bug b) {
  return [b](Options& o) { o.bug = b; };
}

TEST(BugTest, Names) {
  EXPECT_STREQ(to_string(Bug::kNone), "None");
  EXPECT_STREQ(to_string(Bug::kLeaveJointEarly), "LeaveJointEarly");
  EXPECT_STREQ(to_string(Bug::kQuiescentIgnoresLeaderVote), "QuiescentIgnoresLeaderVote");
  for (int b = 0; b < kBugCount; ++b) EXPECT_STRNE(to_string(static_cast<Bug>(b)), "?") << b;
}

bool grants_vote_to_shorter_log(Bug b) {
  Net net(3, with(b));
  net.elect(1);
  EXPECT_TRUE(net.propose(1).ok());
  Message v;
  v.from = N(3);
  v.to = N(2);
  v.type = MessageType::kVote;
  v.term = Term(5);
  v.index = Index(0);
  v.log_term = Term(1);
  v.transfer = true;
  net.r(2).step(v);
  Ready rd = net.r(2).ready();
  return rd.messages.size() == 1 && !rd.messages[0].reject;
}

TEST(BugTest, VoteWithoutUpToDateCheck) {
  EXPECT_FALSE(grants_vote_to_shorter_log(Bug::kNone));
  EXPECT_TRUE(grants_vote_to_shorter_log(Bug::kVoteWithoutUpToDateCheck));
}

Index commit_with_old_term_on_majority(Bug b) {
  Net net(3, [b](Options& o) {
    o.bug = b;
    o.max_append_bytes = 0;
  });
  HardState hs{Term(1), kNoNode, Index(-1)};
  net.seed(1, k3, {{1, Term(1)}, {1, Term(1)}}, hs);
  net.seed(2, k3, {{1, Term(1)}, {1, Term(1)}}, hs);
  net.seed(3, k3, {{1, Term(1)}}, hs);
  auto term2_to_3 = std::make_shared<int>(0);
  net.drop = [term2_to_3](const Message& m) {
    if (m.type != MessageType::kAppend) return false;
    if (m.to == N(2)) return true;
    for (const Entry& e : m.entries)
      if (e.term == Term(2)) return ++*term2_to_3 > 1;
    return false;
  };
  net.elect(1);
  EXPECT_EQ(net.r(1).progress(N(3))->match, Index(1));
  return net.r(1).commit();
}

TEST(BugTest, CommitOldTermByCounting) {
  EXPECT_EQ(commit_with_old_term_on_majority(Bug::kNone), Index(-1));
  EXPECT_EQ(commit_with_old_term_on_majority(Bug::kCommitOldTermByCounting), Index(1));
}

// Whether the Ready that carries 2's vote grant also carries the vote, synced.
bool vote_synced_before_answer(Bug b) {
  Net net(3, with(b));
  net.elect(1);
  EXPECT_EQ(net.r(2).hard_state().vote, N(1));  // it did vote
  for (const auto& [i, rd] : net.readies)
    for (const Message& m : rd.messages)
      if (i == 2 && m.type == MessageType::kVoteResponse && !m.reject)
        return rd.hard_state && rd.hard_state->vote == N(1) && rd.must_sync;
  ADD_FAILURE() << "no grant from 2";
  return false;
}

TEST(BugTest, VoteBeforeSync) {
  EXPECT_TRUE(vote_synced_before_answer(Bug::kNone));
  // The vote reaches the disk only with a later hard-state change (the next
  // commit index): a crash in between forgets it, and 2 may vote again.
  EXPECT_FALSE(vote_synced_before_answer(Bug::kVoteBeforeSync));
}

Index last_after_stale_append(Bug b) {
  Net net(3, with(b));
  net.elect(1);
  net.r(2).campaign();  // 2 moves to a newer term (its PreVote fails, so force it with a Vote)
  Message v;
  v.from = N(3);
  v.to = N(2);
  v.type = MessageType::kVote;
  v.term = Term(3);
  v.index = Index(100);
  v.log_term = Term(2);
  v.transfer = true;
  net.r(2).step(v);
  net.drive(2);
  net.queue.clear();
  EXPECT_EQ(net.r(2).term(), Term(3));
  Message a;  // the deposed leader of term 1 appends
  a.from = N(1);
  a.to = N(2);
  a.type = MessageType::kAppend;
  a.term = Term(1);
  a.index = Index(0);
  a.log_term = Term(1);
  Entry e;
  e.first = Index(1);
  e.last = Index(1);
  e.term = Term(1);
  e.data = bytes_of(3);
  a.entries = {e};
  net.r(2).step(a);
  net.drive(2);
  return net.log(2).last();
}

TEST(BugTest, AcceptStaleTermAppend) {
  EXPECT_EQ(last_after_stale_append(Bug::kNone), Index(0));
  EXPECT_EQ(last_after_stale_append(Bug::kAcceptStaleTermAppend), Index(1));
}

bool follower_ack_synced(Bug b) {
  Net net(3, with(b));
  net.elect(1);
  size_t from = net.readies.size();
  EXPECT_TRUE(net.propose(1).ok());
  bool all_synced = true;
  int acks = 0;
  for (size_t k = from; k < net.readies.size(); ++k) {
    const auto& [i, rd] = net.readies[k];
    if (i == 1 || rd.entries.empty()) continue;
    for (const Message& m : rd.messages)
      if (m.type == MessageType::kAppendResponse && !m.reject) {
        ++acks;
        all_synced = all_synced && rd.must_sync;
      }
  }
  EXPECT_EQ(acks, 2);
  return all_synced;
}

TEST(BugTest, AckBeforeSync) {
  EXPECT_TRUE(follower_ack_synced(Bug::kNone));
  EXPECT_FALSE(follower_ack_synced(Bug::kAckBeforeSync));
}

bool deposed_leader_converges(Bug b) {
  Net net(3, with(b));
  net.elect(1);
  EXPECT_TRUE(net.propose(1).ok());
  net.isolate(1);
  for (int k = 0; k < 5; ++k) EXPECT_TRUE(net.r(1).propose(bytes_of(10)).ok());
  net.deliver();
  net.tick_all(30);
  int l = net.leader();
  EXPECT_TRUE(l == 2 || l == 3);
  for (int k = 0; k < 5; ++k) EXPECT_TRUE(net.propose(l).ok());
  net.heal();
  net.tick_all(3);
  return net.log(1).all() == net.log(l).all();
}

TEST(BugTest, NoTruncateOnConflict) {
  EXPECT_TRUE(deposed_leader_converges(Bug::kNone));
  EXPECT_FALSE(deposed_leader_converges(Bug::kNoTruncateOnConflict));
}

bool joint_commits_without_old_majority(Bug b) {
  Net net(3, with(b));
  net.add(4, Config{}, with(b));
  net.elect(1);
  EXPECT_TRUE(net.r(1).propose_config(Config{{N(1), N(2), N(3)}, {}, {N(4)}}).ok());
  net.deliver();
  net.isolate(2);
  net.isolate(3);
  EXPECT_TRUE(net.r(1).propose_config(Config{{N(1), N(4)}, {}, {}}).ok());
  net.deliver();
  return !net.r(1).config().joint();  // left C_old,new with C_old = {1,2,3} unreachable
}

TEST(BugTest, LeaveJointEarly) {
  EXPECT_FALSE(joint_commits_without_old_majority(Bug::kNone));
  EXPECT_TRUE(joint_commits_without_old_majority(Bug::kLeaveJointEarly));
}

}  // namespace
}  // namespace millrace::raft::testing
