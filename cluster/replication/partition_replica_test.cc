// Three PartitionReplicas of one partition, each over its own storage::Log in
// its own directory, messages handed between them in process: producer
// batches commit once a majority holds them, the high watermark (what a
// consumer reads up to) is the commit, acks=1 is answered on the leader's
// append, a deposed leader's unacknowledged batches are answered
// NOT_LEADER_OR_FOLLOWER and cut, and the replicas' logs end byte-for-byte equal.
#include "cluster/replication/partition_replica.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "protocol/record/batch_builder.h"
#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

using storage::testing::TempDir;

std::vector<uint8_t> producer_batch(int records, char tag) {
  record::BatchBuilder b(record::BatchOptions{});
  for (int i = 0; i < records; ++i) {
    std::string v = std::string(1, tag) + std::to_string(i);
    b.append(1'700'000'000'000 + i, std::nullopt,
             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
  }
  std::vector<uint8_t> out;
  EXPECT_TRUE(b.finish(out).ok());
  return out;
}

class ReplicaGroup : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 3; ++i) open(i);
  }

  void open(int i) {
    storage::LogOptions o;
    o.hw_policy = storage::HwPolicy::kManual;
    auto log = storage::Log::open(dir_.path() / ("node" + std::to_string(i)) / "t-0", o);
    ASSERT_TRUE(log.ok()) << log.status().to_string();
    PartitionReplicaOptions ro;
    ro.me = i;
    ro.group = 7;
    ro.replicas = {1, 2, 3};
    ro.seed = static_cast<uint64_t>(i) * 31;
    ro.clock = [] { return int64_t{1'700'000'000'000}; };
    auto r = PartitionReplica::open(*log, ro);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    nodes_[i] = std::move(*r);
  }

  // Hands every message to its addressee (unless cut) until none is left.
  void deliver(std::vector<raft::Message> out) {
    for (int hop = 0; hop < 50 && !out.empty(); ++hop) {
      std::vector<raft::Message> next;
      for (const auto& m : out) {
        const int from = m.from.value(), to = m.to.value();
        if (!nodes_.count(to) || cut_.count(from) || cut_.count(to)) continue;
        if (rewrite_) {
          raft::Message copy = m;
          rewrite_(copy);
          nodes_[to]->step(copy);
        } else {
          nodes_[to]->step(m);
        }
        ASSERT_TRUE(nodes_[to]->drive(next).ok());
      }
      out = std::move(next);
    }
  }
  void round(int ticks = 1) {
    for (int t = 0; t < ticks; ++t) {
      std::vector<raft::Message> out;
      for (auto& [i, r] : nodes_) {
        r->tick();
        ASSERT_TRUE(r->drive(out).ok());
      }
      deliver(std::move(out));
    }
  }
  int leader() {
    for (auto& [i, r] : nodes_)
      if (!cut_.count(i) && r->is_leader()) return i;
    return 0;
  }
  int elect() {
    for (int t = 0; t < 100 && leader() == 0; ++t) round();
    return leader();
  }
  // A leader elected and one batch committed through it: its id (0: none).
  int elect_and_commit_one(char tag) {
    const int l = elect();
    if (l == 0) return 0;
    int16_t answer = -2;
    produce(l, 1, tag, ReplicaAck::kCommitted, &answer);
    return answer == 0 ? l : 0;
  }
  PartitionReplica::Proposed produce(int at, int records, char tag, ReplicaAck ack, int16_t* answer) {
    auto p = nodes_[at]->propose(producer_batch(records, tag), records);
    if (p.error == 0) nodes_[at]->wait(p.last, p.term, ack, [answer](int16_t e) { *answer = e; });
    std::vector<raft::Message> out;
    EXPECT_TRUE(nodes_[at]->drive(out).ok());
    deliver(std::move(out));
    return p;
  }
  // What a Kafka fetch of the whole log returns from replica i, up to `upper`
  // (its high watermark for a consumer, its log end for everything).
  std::vector<uint8_t> fetch(int i, bool committed_only) {
    auto& log = nodes_[i]->storage();
    const Offset upper = committed_only ? log.high_watermark() : log.log_end_offset();
    std::vector<uint8_t> out;
    for (int64_t o = log.log_start_offset().value(); o < upper.value();) {
      auto reg = log.read(Offset(o), 1 << 20, upper);
      if (!reg.ok() || reg->empty()) break;
      auto b = storage::testing::read_region(*reg);
      out.insert(out.end(), b.begin(), b.end());
      o = reg->last_offset + 1;
    }
    return out;
  }

  TempDir dir_;
  std::map<int, std::unique_ptr<PartitionReplica>> nodes_;
  std::set<int> cut_;
  std::function<void(raft::Message&)> rewrite_;  // applied to every message delivered, when set
};

TEST_F(ReplicaGroup, AcksAllIsAnsweredOnceAMajorityHoldsTheBatchAndEveryReplicaEndsTheSame) {
  const int l = elect();
  ASSERT_NE(l, 0);
  int16_t answers[5];
  int64_t next = -1;
  for (int n = 0; n < 5; ++n) {
    answers[n] = -2;
    auto p = produce(l, 3, static_cast<char>('a' + n), ReplicaAck::kCommitted, &answers[n]);
    ASSERT_EQ(p.error, 0) << p.message;
    EXPECT_EQ(p.last - p.first, 2);
    if (next >= 0) {
      EXPECT_EQ(p.first, next) << "offsets are contiguous";
    }
    next = p.last + 1;
  }
  for (int16_t a : answers) EXPECT_EQ(a, 0);
  EXPECT_EQ(nodes_[l]->high_watermark(), next);
  round(2);  // the followers learn the commit from the next beat
  for (auto& [i, r] : nodes_) {
    EXPECT_EQ(r->high_watermark(), next) << i;
    EXPECT_EQ(r->storage().high_watermark().value(), next) << i << ": a consumer reads up to the commit";
    EXPECT_EQ(fetch(i, false), fetch(l, false)) << "replica " << i << " is byte-for-byte the leader's log";
  }
}

// raft.state is written before a vote or a new term leaves a replica, but a
// commit that only moved waits (raft/storage/write_ready.h): commits cost no
// extra fsync per produce. Closing the replica keeps the last commit.
TEST_F(ReplicaGroup, ACommitThatOnlyMovedIsWrittenLazilyAndOnClose) {
  const int l = elect_and_commit_one('a');
  ASSERT_NE(l, 0);
  round(2);
  auto on_disk = [&](int i) {
    raft::HardStateFile f(dir_.path() / ("node" + std::to_string(i)) / "t-0" / raft::kHardStateFileName);
    auto hs = f.read();
    EXPECT_TRUE(hs.ok()) << hs.status().to_string();
    return std::make_pair(hs.ok() ? *hs : raft::HardState{}, f.seq());
  };
  std::map<int, std::pair<raft::HardState, uint64_t>> before;
  for (auto& [i, r] : nodes_) before[i] = on_disk(i);
  for (int n = 0; n < 10; ++n) {
    int16_t answer = -2;
    produce(l, 2, 'b', ReplicaAck::kCommitted, &answer);
    ASSERT_EQ(answer, 0);
  }
  round(2);
  const int64_t commit = nodes_[l]->high_watermark() - 1;
  for (auto& [i, r] : nodes_) {
    auto [hs, seq] = on_disk(i);
    EXPECT_EQ(seq, before[i].second) << i << ": no write for commits alone";
    EXPECT_EQ(hs.term.value(), r->term()) << i;
    EXPECT_LT(hs.commit.value(), commit) << i;
  }
  nodes_.clear();  // closed: the commit is kept
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(on_disk(i).first.commit.value(), commit) << i;
}

TEST_F(ReplicaGroup, WithoutAMajorityAcksAllWaitsAndConsumersSeeNothingNewButAcksOneIsAnswered) {
  const int l = elect_and_commit_one('x');
  ASSERT_NE(l, 0);
  const int64_t hw = nodes_[l]->high_watermark();
  const auto visible = fetch(l, true);
  for (int i = 1; i <= 3; ++i)
    if (i != l) cut_.insert(i);  // both followers unreachable
  int16_t all = -2, one = -2;
  auto p_all = produce(l, 2, 'y', ReplicaAck::kCommitted, &all);
  auto p_one = produce(l, 2, 'z', ReplicaAck::kAppended, &one);
  ASSERT_EQ(p_all.error, 0);
  ASSERT_EQ(p_one.error, 0);
  EXPECT_EQ(one, 0) << "acks=1: answered once the leader appended it";
  EXPECT_EQ(all, -2) << "acks=all: not answered without a majority";
  EXPECT_EQ(nodes_[l]->high_watermark(), hw);
  EXPECT_EQ(fetch(l, true), visible) << "consumers see nothing a majority does not hold, acks=1 included";
  EXPECT_GT(nodes_[l]->log_end(), hw);
  cut_.clear();
  round(3);
  EXPECT_EQ(all, 0) << "healed: the batch commits";
  EXPECT_EQ(nodes_[l]->high_watermark(), p_one.last + 1);
}

// In sync: a follower that held every committed entry within the last
// lag_ticks (replica.lag.time.max.ms; 10 ticks here) stays in while it trails
// the commit, leaves once it has trailed longer, and comes back caught up.
TEST_F(ReplicaGroup, AFollowerTrailingTheCommitStaysInSyncForTheLagWindowOnly) {
  const int l = elect_and_commit_one('x');
  ASSERT_NE(l, 0);
  round(1);
  ASSERT_EQ(nodes_[l]->in_sync().size(), 3u);
  const int f = l == 3 ? 2 : 3;
  cut_.insert(f);
  int16_t answer = -2;
  produce(l, 1, 'y', ReplicaAck::kCommitted, &answer);
  ASSERT_EQ(answer, 0) << "the leader and the other follower commit it";
  auto has = [&](int id) {
    auto isr = nodes_[l]->in_sync();
    return std::find(isr.begin(), isr.end(), id) != isr.end();
  };
  EXPECT_TRUE(has(f)) << "one entry behind, just now caught up: still in sync";
  round(5);
  EXPECT_TRUE(has(f)) << "within the window";
  round(10);
  EXPECT_FALSE(has(f)) << "trailing for longer than the window";
  EXPECT_EQ(nodes_[l]->in_sync().size(), 2u);
  cut_.clear();
  round(3);
  EXPECT_TRUE(has(f)) << "caught up again";
}

TEST_F(ReplicaGroup, ADeposedLeadersUnacknowledgedBatchesAreAnsweredNotLeaderAndCut) {
  const int old = elect_and_commit_one('c');
  ASSERT_NE(old, 0);
  cut_.insert(old);  // the leader is cut off with batches only it holds
  int16_t lost = -2, lost_one = -2;
  auto p = produce(old, 4, 'l', ReplicaAck::kCommitted, &lost);
  produce(old, 1, 'm', ReplicaAck::kAppended, &lost_one);
  ASSERT_EQ(p.error, 0);
  EXPECT_EQ(lost_one, 0) << "acks=1 was answered: a write acks=1 may lose, as in Kafka";
  EXPECT_EQ(lost, -2);
  // The others elect a new leader and write other data at the same offsets.
  int nl = 0;
  for (int t = 0; t < 100 && nl == 0; ++t) {
    round();
    nl = leader();
  }
  ASSERT_NE(nl, 0);
  ASSERT_NE(nl, old);
  int16_t fresh = -2;
  auto q = produce(nl, 4, 'n', ReplicaAck::kCommitted, &fresh);
  ASSERT_EQ(q.error, 0);
  EXPECT_EQ(fresh, 0);
  EXPECT_LE(q.first, p.last) << "the new leader's entries (its LeaderChange, then this batch) land where the "
                                "cut-off batch was";
  cut_.clear();
  round(20);
  EXPECT_EQ(lost, 6) << "NOT_LEADER_OR_FOLLOWER: outcome unknown, the client retries";
  EXPECT_FALSE(nodes_[old]->is_leader());
  EXPECT_EQ(fetch(old, false), fetch(nl, false)) << "the deposed leader's suffix was cut and replaced";
  EXPECT_EQ(nodes_[old]->waiting(), 0u);
}

TEST_F(ReplicaGroup, ARetryOfABatchTheOldLeaderWroteIsAnsweredOnceTheNewLeaderCommitsIt) {
  const int old = elect_and_commit_one('a');
  ASSERT_NE(old, 0);
  const int third = old == 3 ? 2 : 3, heir = 6 - old - third;
  cut_.insert(third);  // the batch reaches the heir only
  int16_t first = -2;
  auto p = produce(old, 3, 'r', ReplicaAck::kCommitted, &first);
  ASSERT_EQ(p.error, 0);
  cut_ = {old};  // the old leader dies before answering; the heir holds the batch
  int nl = 0;
  for (int t = 0; t < 100 && nl == 0; ++t) {
    round();
    nl = leader();
  }
  ASSERT_EQ(nl, heir) << "only the heir's log is complete";
  ASSERT_LT(nodes_[heir]->term_at(p.last), nodes_[heir]->term());
  // The producer's retry finds the batch in the log (a duplicate): it waits
  // for that entry, written in the old term.
  int16_t retry = -2, strict = -2;
  nodes_[heir]->wait(p.last, nodes_[heir]->term(), ReplicaAck::kCommitted, [&](int16_t e) { retry = e; },
                     nodes_[heir]->term_at(p.last));
  nodes_[heir]->wait(p.last, nodes_[heir]->term(), ReplicaAck::kCommitted, [&](int16_t e) { strict = e; });
  round(3);
  EXPECT_EQ(retry, 0) << "committed by the new leader: the retry succeeds with the original offsets";
  EXPECT_EQ(strict, 6) << "a waiter for an entry of this term finds another term's there";
}

TEST_F(ReplicaGroup, AFollowerRestartedFromItsOwnDiskCatchesUp) {
  const int l = elect();
  ASSERT_NE(l, 0);
  const int f = l == 3 ? 1 : 3;
  int16_t a = -2;
  produce(l, 2, 'p', ReplicaAck::kCommitted, &a);
  nodes_.erase(f);  // closed
  for (int n = 0; n < 3; ++n) {
    int16_t b = -2;
    produce(l, 2, 'q', ReplicaAck::kCommitted, &b);
    EXPECT_EQ(b, 0) << "two of three is a majority";
  }
  open(f);
  round(5);
  EXPECT_EQ(fetch(f, false), fetch(l, false));
  EXPECT_EQ(nodes_[f]->high_watermark(), nodes_[l]->high_watermark());
}

// DeleteRecords replicated: a LogStart entry. Answered once committed; by
// then every replica holding it keeps its log start there, and so does the
// leader elected after this one (Kafka's followers learn the leader's log
// start; here it is in the log they all hold).
TEST_F(ReplicaGroup, DeleteRecordsMovesEveryReplicasLogStartAndAFailoverKeepsIt) {
  const int l = elect();
  ASSERT_NE(l, 0);
  std::vector<PartitionReplica::Proposed> batches;
  for (int n = 0; n < 5; ++n) {
    int16_t a = -2;
    batches.push_back(produce(l, 3, static_cast<char>('a' + n), ReplicaAck::kCommitted, &a));
    ASSERT_EQ(a, 0);
  }
  round(2);
  const int64_t target = batches[3].first + 1;  // inside a batch, as Kafka allows
  auto refused = nodes_[l]->propose_log_start(nodes_[l]->high_watermark() + 1);
  EXPECT_EQ(refused.error, 1) << "OFFSET_OUT_OF_RANGE above the high watermark";
  auto p = nodes_[l]->propose_log_start(target);
  ASSERT_EQ(p.error, 0) << p.message;
  EXPECT_EQ(p.first, p.last) << "one offset, a control batch";
  int16_t answer = -2;
  nodes_[l]->wait(p.last, p.term, ReplicaAck::kCommitted, [&](int16_t e) { answer = e; });
  std::vector<raft::Message> out;
  ASSERT_TRUE(nodes_[l]->drive(out).ok());
  deliver(std::move(out));
  EXPECT_EQ(answer, 0);
  round(2);
  for (auto& [i, r] : nodes_) {
    EXPECT_EQ(r->log_start(), target) << i;
    EXPECT_EQ(r->log_start_floor(), target) << i;
  }
  cut_.insert(l);
  int nl = 0;
  for (int t = 0; t < 100 && nl == 0; ++t) {
    round();
    nl = leader();
  }
  ASSERT_NE(nl, 0);
  EXPECT_EQ(nodes_[nl]->log_start(), target) << "the new leader serves nothing below it";
  // Reopened from its own disk (raft.snapshot keeps the floor), a replica
  // still starts there.
  const int f = 6 - l - nl;
  nodes_.erase(f);
  open(f);
  EXPECT_EQ(nodes_[f]->log_start_floor(), target);
  EXPECT_EQ(nodes_[f]->log_start(), target);
}

TEST_F(ReplicaGroup, DeleteRecordsIsNotAnsweredUntilAMajorityHoldsIt) {
  const int l = elect_and_commit_one('a');
  ASSERT_NE(l, 0);
  int16_t a = -2;
  produce(l, 4, 'b', ReplicaAck::kCommitted, &a);
  ASSERT_EQ(a, 0);
  round(2);
  const int64_t target = nodes_[l]->high_watermark();
  for (int i = 1; i <= 3; ++i)
    if (i != l) cut_.insert(i);
  auto p = nodes_[l]->propose_log_start(target);
  ASSERT_EQ(p.error, 0);
  int16_t answer = -2;
  nodes_[l]->wait(p.last, p.term, ReplicaAck::kCommitted, [&](int16_t e) { answer = e; });
  std::vector<raft::Message> out;
  ASSERT_TRUE(nodes_[l]->drive(out).ok());
  deliver(std::move(out));
  EXPECT_EQ(answer, -2) << "not committed: not answered";
  EXPECT_EQ(nodes_[l]->log_start(), target) << "the leader moved its own start at the append";
  for (int i = 1; i <= 3; ++i) {
    if (i != l) {
      EXPECT_LT(nodes_[i]->log_start(), target) << i;
    }
  }
  cut_.clear();
  round(3);
  EXPECT_EQ(answer, 0);
  for (auto& [i, r] : nodes_) EXPECT_EQ(r->log_start(), target) << i;
}

// A follower holding a LogStart entry whose commit it does not know yet keeps
// its start at its own commit + 1 (never deleting what it does not know
// committed), and moves it the rest of the way as the commit arrives.
TEST_F(ReplicaGroup, AFollowerMovesItsStartNoFurtherThanItsCommit) {
  const int l = elect_and_commit_one('a');
  ASSERT_NE(l, 0);
  round(2);
  const int f = l == 3 ? 1 : 3;
  const int64_t f_commit = nodes_[f]->high_watermark() - 1;
  // A batch and a LogStart past it reach f, but no commit index past what it
  // knew (an append may carry an older commit, a beat may be lost).
  rewrite_ = [&](raft::Message& m) {
    if (m.to.value() == f && m.commit.value() > f_commit) m.commit = raft::Index(f_commit);
  };
  int16_t a = -2;
  auto p = produce(l, 5, 'b', ReplicaAck::kCommitted, &a);
  ASSERT_EQ(a, 0);
  const int64_t target = p.last + 1;
  auto ls = nodes_[l]->propose_log_start(target);
  ASSERT_EQ(ls.error, 0);
  std::vector<raft::Message> out;
  ASSERT_TRUE(nodes_[l]->drive(out).ok());
  deliver(std::move(out));
  round(2);
  ASSERT_GE(nodes_[f]->log_end(), ls.last + 1) << "f holds the LogStart entry";
  EXPECT_EQ(nodes_[f]->log_start_floor(), target);
  EXPECT_EQ(nodes_[f]->high_watermark(), f_commit + 1);
  EXPECT_EQ(nodes_[f]->log_start(), f_commit + 1) << "up to its own high watermark, no further";
  rewrite_ = nullptr;
  round(2);
  EXPECT_EQ(nodes_[f]->log_start(), target) << "the rest once the commit arrives";
}

// A follower whose own log start is ahead of the leader's (its retention, or
// a DeleteRecords whose outcome was unknown) keeps replicating and can lead.
TEST_F(ReplicaGroup, AFollowerWhoseLogStartIsAheadOfTheLeadersKeepsUpAndCanLead) {
  const int l = elect();
  ASSERT_NE(l, 0);
  int16_t a = -2;
  produce(l, 4, 'a', ReplicaAck::kCommitted, &a);
  produce(l, 4, 'b', ReplicaAck::kCommitted, &a);
  round(2);
  const int f = l == 3 ? 1 : 3;
  const int64_t ahead = nodes_[f]->high_watermark();
  ASSERT_TRUE(nodes_[f]->storage().delete_records_before(Offset(ahead)).ok());
  ASSERT_EQ(nodes_[f]->log_start(), ahead);
  ASSERT_LT(nodes_[l]->log_start(), ahead);
  produce(l, 3, 'c', ReplicaAck::kCommitted, &a);
  EXPECT_EQ(a, 0);
  round(2);
  EXPECT_EQ(nodes_[f]->high_watermark(), nodes_[l]->high_watermark());
  // The leader and the third replica go; f leads with the third back.
  const int third = 6 - l - f;
  cut_.insert(l);
  int nl = 0;
  for (int t = 0; t < 100 && nl == 0; ++t) {
    round();
    nl = leader();
  }
  ASSERT_NE(nl, 0);
  int16_t b = -2;
  produce(nl, 2, 'd', ReplicaAck::kCommitted, &b);
  EXPECT_EQ(b, 0);
  cut_.clear();
  round(5);
  for (int i : {l, third}) {
    EXPECT_EQ(nodes_[i]->high_watermark(), nodes_[nl]->high_watermark()) << i;
  }
  EXPECT_EQ(nodes_[f]->log_start(), ahead);
}

TEST(PartitionReplica, ASingleReplicaLeadsAtOnceAndCommitsAlone) {
  TempDir dir;
  storage::LogOptions o;
  o.hw_policy = storage::HwPolicy::kManual;
  auto log = storage::Log::open(dir.path() / "t-0", o);
  ASSERT_TRUE(log.ok());
  auto r = PartitionReplica::open(*log, {.me = 4, .group = 1, .replicas = {4}});
  ASSERT_TRUE(r.ok());
  std::vector<raft::Message> out;
  ASSERT_TRUE((*r)->drive(out).ok());
  EXPECT_TRUE((*r)->is_leader());
  auto p = (*r)->propose(producer_batch(2, 's'), 2);
  ASSERT_EQ(p.error, 0);
  int16_t answer = -2;
  (*r)->wait(p.last, p.term, ReplicaAck::kCommitted, [&](int16_t e) { answer = e; });
  ASSERT_TRUE((*r)->drive(out).ok());
  EXPECT_EQ(answer, 0);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ((*r)->high_watermark(), p.last + 1);
  // A new replica needs its replicas.
  TempDir empty;
  auto l2 = storage::Log::open(empty.path() / "t-0", o);
  ASSERT_TRUE(l2.ok());
  EXPECT_FALSE(PartitionReplica::open(*l2, {.me = 4, .group = 1, .replicas = {}}).ok());
}

// A partition of replication factor 1 runs no Raft group (the single-replica
// path writes its log); a reassignment that adds a replica opens one over that
// log. Its records were acknowledged by their only replica: they stay readable,
// the old replica goes on leading (its new peer is only being added) and takes
// writes at once, in a term not behind its log's epochs.
TEST(PartitionReplica, ALogThatNeverRanRaftJoinsAGroupLeadingWithItsRecordsCommitted) {
  TempDir dir;
  auto log = storage::Log::open(dir.path() / "t-0", storage::LogOptions{});
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 3; ++i) {
    auto b = producer_batch(4, 'a');
    ASSERT_TRUE((*log)->append(b, LeaderEpoch(2)).ok());
  }
  ASSERT_EQ((*log)->high_watermark(), Offset(12));
  (*log)->set_manual_high_watermark();
  auto r = PartitionReplica::open(*log, {.me = 7, .group = 3, .replicas = {9, 7}, .adding = {9}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::vector<raft::Message> out;
  ASSERT_TRUE((*r)->drive(out).ok());
  EXPECT_TRUE((*r)->is_leader()) << "the only voter until 9 has caught up";
  // Its 12 records stay readable (and the leader's LeaderChange entry after them).
  EXPECT_EQ((*r)->high_watermark(), 13) << "what its only replica acknowledged stays readable";
  EXPECT_GT((*r)->term(), 2);
  auto p = (*r)->propose(producer_batch(2, 'b'), 2);
  ASSERT_EQ(p.error, 0);
  EXPECT_EQ(p.first, 13) << "appended after the records it held";
  int16_t answer = -2;
  (*r)->wait(p.last, p.term, ReplicaAck::kCommitted, [&](int16_t e) { answer = e; });
  ASSERT_TRUE((*r)->drive(out).ok());
  EXPECT_EQ(answer, 0);
  EXPECT_EQ((*r)->high_watermark(), p.last + 1);
}

}  // namespace
}  // namespace millrace::cluster
