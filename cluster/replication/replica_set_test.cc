// Three brokers' ReplicaSets sharing several partitions (replication factor 3
// and 2), their messages carried between them as the transport will: one
// RaftBatch per broker pair per round, encoded and decoded by raft/rpc's codec.
#include "cluster/replication/replica_set.h"

#include <gtest/gtest.h>

#include <set>

#include "protocol/record/batch_builder.h"
#include "raft/rpc/codec.h"
#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

using storage::testing::TempDir;

std::vector<uint8_t> one_record(const std::string& v) {
  record::BatchBuilder b(record::BatchOptions{});
  b.append(1'700'000'000'000, std::nullopt,
           std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
  std::vector<uint8_t> out;
  EXPECT_TRUE(b.finish(out).ok());
  return out;
}

std::array<uint8_t, 16> topic(uint8_t n) {
  std::array<uint8_t, 16> id{};
  id[0] = 0x11;
  id[15] = n;
  return id;
}

struct Partition {
  int64_t group;
  std::vector<int32_t> replicas;
};

class Brokers : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int b = 1; b <= 3; ++b) sets_[b] = std::make_unique<ReplicaSet>(b, 10, quiesce_ticks_, io_threads_, lag_ticks_);
    // Four partitions on all three brokers (or rf3_ of them), two on brokers 1 and 2 only.
    for (int p = 0; p < rf3_; ++p) parts_.push_back({group_id(topic(1), p), {1, 2, 3}});
    for (int p = 0; p < 2; ++p) parts_.push_back({group_id(topic(2), p), {1, 2}});
    for (const auto& part : parts_)
      for (int32_t b : part.replicas) {
        storage::LogOptions o;
        o.hw_policy = storage::HwPolicy::kManual;
        auto log = storage::Log::open(dir_.path() / std::to_string(b) / std::to_string(part.group), o);
        ASSERT_TRUE(log.ok());
        ASSERT_TRUE(sets_[b]->add(part.group, *log, part.replicas).ok());
      }
  }

  // One round: every broker ticks (or not), drives, and sends one batch per
  // peer through the codec; then batches are delivered until none is left.
  void round(bool tick = true) {
    std::map<int, std::vector<std::vector<uint8_t>>> inbox = std::move(carried_);
    carried_.clear();
    auto send_all = [&]() {
      bool any = false;
      for (auto& [b, set] : sets_) {
        auto by_peer = set->drive();
        for (auto& [to, msgs] : by_peer) {
          ++batches_;
          messages_ += msgs.size();
          if (down_.count(b) || down_.count(to)) continue;
          inbox[to].push_back(raft::rpc::encode_batch(raft::NodeId(b), raft::NodeId(to), msgs));
          bytes_ += inbox[to].back().size();
          any = true;
        }
      }
      return any;
    };
    if (tick)
      for (auto& [b, set] : sets_) set->tick();
    ++rounds_;
    bool more = send_all() || !inbox.empty();
    for (int hop = 0; hop < hops_ && more; ++hop) {
      auto boxes = std::move(inbox);
      inbox.clear();
      for (auto& [to, batches] : boxes)
        for (auto& bytes : batches) {
          auto d = raft::rpc::decode_batch(bytes);
          ASSERT_TRUE(d.ok()) << d.error;
          sets_[to]->heard_from(static_cast<int32_t>(d.from.value()));
          sets_[to]->deliver(d.messages);
        }
      more = send_all();
    }
    if (hops_ < 30) carried_ = std::move(inbox);  // a slow network: the rest arrives next round
  }
  int leader_of(int64_t group) {
    for (auto& [b, set] : sets_)
      if (!down_.count(b) && set->get(group) && set->get(group)->is_leader()) return b;
    return 0;
  }

  // 80 rounds to elect and go quiet, then the broker leading partition 0
  // stops: (that broker, the RF-3 partitions it led). {0, {}} if none led.
  std::pair<int, std::vector<int64_t>> settle_then_stop_a_leader() {
    for (int t = 0; t < 80; ++t) round();
    const int dead = leader_of(parts_[0].group);
    std::vector<int64_t> led;
    if (dead == 0) return {0, led};
    for (const auto& p : parts_)
      if (leader_of(p.group) == dead && p.replicas.size() == 3) led.push_back(p.group);
    down_.insert(dead);
    return {dead, led};
  }
  bool moved_away(const std::vector<int64_t>& led, int dead) {
    for (int64_t g : led) {
      int l = leader_of(g);
      if (l == 0 || l == dead) return false;
    }
    return true;
  }

  TempDir dir_;
  std::map<int, std::unique_ptr<ReplicaSet>> sets_;
  std::vector<Partition> parts_;
  std::set<int> down_;
  int rounds_ = 0;
  size_t batches_ = 0, messages_ = 0, bytes_ = 0;
  int quiesce_ticks_ = 0;
  int rf3_ = 4;
  int io_threads_ = 0;
  int lag_ticks_ = 0;
  int hops_ = 30;  // deliveries per round
  std::map<int, std::vector<std::vector<uint8_t>>> carried_;
};

// Many idle partitions: they quiesce, and what crosses between brokers then is
// one empty batch per broker pair every few ticks, whatever their number; a
// dead broker is noticed by that node liveness and its partitions fail over.
class IdleBrokers : public Brokers {
 protected:
  IdleBrokers() {
    quiesce_ticks_ = 5;
    rf3_ = 60;
  }
};

TEST_F(IdleBrokers, IdlePartitionsQuiesceAndCostOneSmallBeatPerBrokerPair) {
  for (int t = 0; t < 80; ++t) round();
  for (const auto& p : parts_) ASSERT_NE(leader_of(p.group), 0) << p.group;
  size_t total = 0;
  for (auto& [b, set] : sets_) total += set->quiesced();
  EXPECT_EQ(total, 60u * 3 + 2u * 2) << "every replica of every idle partition is quiescent";
  bytes_ = batches_ = messages_ = 0;
  const int rounds = 30;
  for (int t = 0; t < rounds; ++t) round();
  EXPECT_EQ(messages_, 0u) << "no Raft message at all";
  for (auto& [b, set] : sets_) EXPECT_EQ(set->awake(), 0u) << "broker " << b << " ticks no quiescent replica";
  // Six ordered broker pairs, one beat each every beat_ticks (3) ticks, ~25 bytes each.
  EXPECT_LE(batches_, 6u * (rounds / 3 + 1));
  EXPECT_LE(bytes_, 6u * (rounds / 3 + 1) * 32) << bytes_ << " bytes in " << rounds << " ticks";
  for (const auto& p : parts_) EXPECT_NE(leader_of(p.group), 0) << "quiescent groups keep their leaders";
}

TEST_F(IdleBrokers, AQuiescentGroupFailsOverWhenItsLeadersBrokerDies) {
  const auto [dead, led] = settle_then_stop_a_leader();
  ASSERT_NE(dead, 0);
  ASSERT_FALSE(led.empty());
  int t = 0;
  auto all_moved = [&] { return moved_away(led, dead); };
  for (; t < 100 && !all_moved(); ++t) round();
  ASSERT_TRUE(all_moved()) << "each of the " << led.size() << " partitions broker " << dead
                           << " led has another leader after " << t << " ticks";
  EXPECT_LE(t, 60) << "within a few election timeouts";
  auto* r = sets_[leader_of(led[0])]->get(led[0]);
  auto prop = r->propose(one_record("after"), 1);
  ASSERT_EQ(prop.error, 0);
  int16_t answer = -2;
  r->wait(prop.last, prop.term, ReplicaAck::kCommitted, [&](int16_t e) { answer = e; });
  round(false);
  EXPECT_EQ(answer, 0);
}

// The owner's hint that a broker's process is gone (its port refuses
// connections, replication_service.cc): every partition it led elects another
// leader within a few ticks (without it: node liveness's election timeout,
// then the followers' own, as above).
TEST_F(IdleBrokers, ABrokerKnownGoneHasItsPartitionsLedElsewhereWithinAFewTicks) {
  const auto [dead, led] = settle_then_stop_a_leader();
  ASSERT_NE(dead, 0);
  ASSERT_FALSE(led.empty());
  for (auto& [b, set] : sets_)
    if (b != dead) set->peer_unreachable(dead);
  auto all_moved = [&] { return moved_away(led, dead); };
  int t = 0;
  for (; t < 100 && !all_moved(); ++t) round();
  ASSERT_TRUE(all_moved());
  EXPECT_LE(t, 6) << "each of the " << led.size() << " partitions broker " << dead << " led moved after " << t
                  << " ticks";
  // Each group orders its survivors its own way: the partitions spread.
  std::map<int, int> by_leader;
  for (int64_t g : led) ++by_leader[leader_of(g)];
  EXPECT_EQ(by_leader.size(), 2u) << "both survivors lead some of the " << led.size() << " partitions";
}

// In sync means holding the commit: a follower that was in sync, went silent
// (stopped) while the partition took records, and came back is not counted in
// sync on its old credit (replica.lag.time.max.ms, here 300 ticks, far longer
// than it was away) but only once its log holds every committed entry.
// Planted bug seen caught: the credit kept through the silence (no
// forget_caught_up when the broker goes silent): listed at once, holding 1 of 51.
class ReturningFollower : public IdleBrokers {
 protected:
  ReturningFollower() { lag_ticks_ = 300; }
};

TEST_F(ReturningFollower, IsInSyncAgainOnlyOnceItHoldsTheCommit) {
  for (int t = 0; t < 80; ++t) round();
  const int64_t g = parts_[0].group;
  const int l = leader_of(g);
  ASSERT_NE(l, 0);
  const int f = l == 3 ? 2 : 3;
  auto in_sync = [&] { return sets_[l]->get(g)->in_sync(); };
  auto has = [](const std::vector<int32_t>& v, int b) { return std::find(v.begin(), v.end(), b) != v.end(); };
  ASSERT_TRUE(has(in_sync(), f)) << "an idle follower is in sync";
  down_.insert(f);
  for (int t = 0; t < 15; ++t) round();  // more than the election timeout: silent
  ASSERT_TRUE(sets_[l]->is_silent(f));
  auto* r = sets_[l]->get(g);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(r->propose(one_record("while away " + std::to_string(i)), 1).error, 0);
  for (int t = 0; t < 5; ++t) round();
  const int64_t hw = r->high_watermark();
  ASSERT_GE(hw, 50) << "the two others commit";
  ASSERT_LT(sets_[f]->get(g)->log_end(), hw);
  down_.erase(f);
  hops_ = 1;  // one delivery per tick: catching up takes several
  bool back = false;
  for (int t = 0; t < 60 && !back; ++t) {
    round();
    const bool listed = has(in_sync(), f);
    EXPECT_TRUE(!listed || sets_[f]->get(g)->log_end() >= r->high_watermark())
        << "tick " << t << ": broker " << f << " listed in sync holding " << sets_[f]->get(g)->log_end()
        << " of " << r->high_watermark();
    back = listed;
  }
  EXPECT_TRUE(back) << "in sync again once caught up";
}

TEST_F(Brokers, EveryPartitionElectsALeaderAndCommitsThroughOneBatchPerBrokerPair) {
  for (int t = 0; t < 60; ++t) round();
  for (const auto& p : parts_) ASSERT_NE(leader_of(p.group), 0) << p.group;
  // A write on every partition's leader, all answered on commit.
  std::map<int64_t, int16_t> answers;
  for (const auto& p : parts_) {
    auto* r = sets_[leader_of(p.group)]->get(p.group);
    auto prop = r->propose(one_record("v" + std::to_string(p.group)), 1);
    ASSERT_EQ(prop.error, 0);
    answers[p.group] = -2;
    r->wait(prop.last, prop.term, ReplicaAck::kCommitted, [&answers, g = p.group](int16_t e) { answers[g] = e; });
  }
  batches_ = messages_ = 0;
  rounds_ = 0;
  round(false);
  for (const auto& [g, a] : answers) EXPECT_EQ(a, 0) << g;
  // Six partitions' appends and answers travelled in at most one batch per
  // ordered broker pair per hop, not one per partition.
  EXPECT_GE(messages_, 6u * 2);
  EXPECT_LE(batches_, 6u * 4) << "hops x 6 ordered pairs at most";
  EXPECT_LT(batches_, messages_);
}

TEST_F(Brokers, APartitionSurvivesItsLeadersBrokerAndOthersAreUntouched) {
  for (int t = 0; t < 60; ++t) round();
  const int64_t g = parts_[0].group;
  const int dead = leader_of(g);
  ASSERT_NE(dead, 0);
  down_.insert(dead);
  int next = 0;
  for (int t = 0; t < 80 && (next == 0 || next == dead); ++t) {
    round();
    next = leader_of(g);
  }
  ASSERT_NE(next, 0);
  ASSERT_NE(next, dead);
  auto* r = sets_[next]->get(g);
  auto prop = r->propose(one_record("after"), 1);
  ASSERT_EQ(prop.error, 0);
  int16_t answer = -2;
  r->wait(prop.last, prop.term, ReplicaAck::kCommitted, [&](int16_t e) { answer = e; });
  round(false);
  EXPECT_EQ(answer, 0) << "two of three replicas commit";
  // A partition whose replicas are brokers 1 and 2 needs both.
  const int64_t two = parts_[4].group;
  if (dead == 1 || dead == 2) {
    EXPECT_EQ(leader_of(two), 0) << "one of two replicas is no majority";
  }
  EXPECT_EQ(sets_[3]->get(two), nullptr);
  EXPECT_EQ(sets_[3]->dropped(), 0u) << "no broker sent broker 3 messages for a group it does not hold";
}

// The same brokers persisting each round's Readies side by side on an IoPool
// (io_pool.h): 40 partitions elect, every write is answered on commit, every
// replica ends byte-for-byte equal to its leader, and a partition fails over
// when its leader's broker goes. (Under TSan in make tsan: the pool threads
// touch each replica's log and raft.state only.)
class PooledBrokers : public Brokers {
 protected:
  PooledBrokers() {
    io_threads_ = 4;
    rf3_ = 40;
  }
};

TEST_F(PooledBrokers, ElectCommitAndFailOverWithPersistenceSideBySide) {
  for (int t = 0; t < 60; ++t) round();
  for (const auto& p : parts_) ASSERT_NE(leader_of(p.group), 0) << p.group;
  std::map<std::pair<int64_t, int>, int16_t> answers;  // (group, write) -> answer
  for (int n = 0; n < 3; ++n)
    for (const auto& p : parts_) {
      auto* r = sets_[leader_of(p.group)]->get(p.group);
      auto prop = r->propose(one_record("v" + std::to_string(n)), 1);
      ASSERT_EQ(prop.error, 0);
      const auto k = std::make_pair(p.group, n);
      answers[k] = -2;
      r->wait(prop.last, prop.term, ReplicaAck::kCommitted, [&answers, k](int16_t e) { answers[k] = e; });
    }
  round(false);
  round();
  for (const auto& [k, a] : answers) EXPECT_EQ(a, 0) << k.first << " write " << k.second;
  for (const auto& p : parts_) {
    auto& lead = sets_[leader_of(p.group)]->get(p.group)->storage();
    for (int32_t b : p.replicas) {
      auto& log = sets_[b]->get(p.group)->storage();
      EXPECT_EQ(log.log_end_offset(), lead.log_end_offset()) << p.group << " on broker " << b;
      EXPECT_EQ(log.high_watermark(), lead.high_watermark()) << p.group << " on broker " << b;
    }
  }
  const int64_t g = parts_[0].group;
  const int dead = leader_of(g);
  down_.insert(dead);
  int next = 0;
  for (int t = 0; t < 80 && (next == 0 || next == dead); ++t) {
    round();
    next = leader_of(g);
  }
  EXPECT_NE(next, 0);
  EXPECT_NE(next, dead);
}

TEST(ReplicaSetGroups, GroupIdsAreStableDistinctAndNeverTheQuorums) {
  std::set<int64_t> seen;
  for (uint8_t t = 0; t < 50; ++t)
    for (int32_t p = 0; p < 200; ++p) {
      int64_t g = group_id(topic(t), p);
      EXPECT_GT(g, 0);
      seen.insert(g);
    }
  EXPECT_EQ(seen.size(), 50u * 200u);
  EXPECT_EQ(group_id(topic(3), 7), group_id(topic(3), 7));
  TempDir dir;
  ReplicaSet set(1);
  storage::LogOptions o;
  o.hw_policy = storage::HwPolicy::kManual;
  auto a = storage::Log::open(dir.path() / "a", o);
  auto b = storage::Log::open(dir.path() / "b", o);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(set.add(5, *a, {1}).ok());
  EXPECT_FALSE(set.add(5, *b, {1}).ok()) << "one group id, one partition";
  set.deliver({raft::Message{.group = raft::GroupId(9), .from = raft::NodeId(2), .to = raft::NodeId(1)}});
  EXPECT_EQ(set.dropped(), 1u);
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

// A reassignment (issue 19): partition 0's group moves from brokers {1,2,3} to
// {2,3,4}. Broker 4 opens its replica as joining (no configuration of its own);
// the leader steers: 4 joins as a learner, catches up, then the voters change by
// joint consensus. Records written before and during the move are on 4.
class Reassignment : public Brokers {
 protected:
  void SetUp() override {
    Brokers::SetUp();
    sets_[4] = std::make_unique<ReplicaSet>(4, 10, quiesce_ticks_, io_threads_);
    for (int t = 0; t < 60; ++t) round();
  }
  int64_t commit_one(const std::string& v) {
    const int l = leader_of(group());
    if (l == 0) return -1;
    auto* r = sets_[l]->get(group());
    auto prop = r->propose(one_record(v), 1);
    if (prop.error != 0) return -1;
    int16_t answer = -2;
    r->wait(prop.last, prop.term, ReplicaAck::kCommitted, [&](int16_t e) { answer = e; });
    for (int t = 0; t < 10 && answer == -2; ++t) round();
    return answer == 0 ? prop.last : -1;
  }
  void open_on_4() {
    storage::LogOptions o;
    o.hw_policy = storage::HwPolicy::kManual;
    auto log = storage::Log::open(dir_.path() / "4" / std::to_string(group()), o);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(sets_[4]->add(group(), *log, {2, 3, 4, 1}, raft::Durability::kSynced, /*joining=*/true).ok());
  }
  // Rounds with the leader steering toward `a` until it reports the voters.
  std::optional<std::vector<int32_t>> steer(const PartitionReplica::Assignment& a, int* ticks) {
    for (*ticks = 0; *ticks < 200; ++*ticks) {
      const int l = leader_of(group());
      if (l != 0)
        if (auto done = sets_[l]->get(group())->steer(a)) return done;
      round();
    }
    return std::nullopt;
  }
  int64_t group() const { return parts_[0].group; }
};

TEST_F(Reassignment, ANewReplicaJoinsAsALearnerThenTheVotersChangeByJointConsensus) {
  int64_t before = -1;
  for (int i = 0; i < 20; ++i) ASSERT_GE(before = commit_one("before-" + std::to_string(i)), 0);
  open_on_4();
  EXPECT_TRUE(sets_[4]->get(group())->config().voters.empty()) << "a joining replica has no configuration yet";
  // Steered round by round; when the voters first change (joint), 4 already
  // holds what was committed: it was promoted caught up, not before.
  std::optional<std::vector<int32_t>> voters;
  bool joint_seen = false, caught_up_then = false;
  down_.insert(4);  // unreachable for its first 10 ticks: the leader must wait for it
  for (int t = 0; t < 200 && !voters; ++t) {
    if (t == 10) down_.erase(4);
    if (const int l = leader_of(group())) {
      voters = sets_[l]->get(group())->steer({{2, 3, 4, 1}, {4}, {1}});
      if (!joint_seen && sets_[l]->get(group())->config().joint()) {
        joint_seen = true;
        caught_up_then = sets_[4]->get(group())->log_end() > before;
      }
    }
    round();
  }
  ASSERT_TRUE(voters) << "the group never ran on {2,3,4}";
  EXPECT_TRUE(joint_seen) << "the voters changed through a joint configuration";
  EXPECT_TRUE(caught_up_then) << "broker 4 became a voter before it held the committed records";
  EXPECT_EQ(*voters, (std::vector<int32_t>{2, 3, 4}));
  const int l = leader_of(group());
  const raft::Config& c = sets_[l]->get(group())->config();
  EXPECT_EQ(c.voters, (std::vector<raft::NodeId>{raft::NodeId(2), raft::NodeId(3), raft::NodeId(4)}));
  EXPECT_FALSE(c.joint());
  EXPECT_TRUE(c.learners.empty());
  // 4 votes now: with 1 and 3 gone, {2,4} is a majority of {2,3,4}.
  down_.insert(1);
  down_.insert(3);
  int64_t last = -1;
  for (int t = 0; t < 100 && last < 0; ++t) {
    last = commit_one("after");
    if (last < 0) round();
  }
  ASSERT_GE(last, 0) << "brokers 2 and 4 commit without 1 and 3";
  auto* four = sets_[4]->get(group());
  EXPECT_GE(four->log_end(), last + 1) << "broker 4 holds everything, the records from before the move too";
}

TEST_F(Reassignment, ALeaderThatLeavesHandsTheGroupToTheTarget) {
  // Move away from whichever broker leads: it steps down once C_new commits.
  const int leaving = leader_of(group());
  ASSERT_NE(leaving, 0);
  ASSERT_GE(commit_one("x"), 0);
  std::vector<int32_t> target;
  for (int32_t b : {1, 2, 3})
    if (b != leaving) target.push_back(b);
  target.push_back(4);
  std::vector<int32_t> replicas = target;
  replicas.push_back(leaving);
  open_on_4();
  int ticks = 0;
  auto voters = steer({replicas, {4}, {leaving}}, &ticks);
  ASSERT_TRUE(voters);
  std::sort(target.begin(), target.end());
  std::vector<int32_t> got = *voters;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, target);
  EXPECT_NE(leader_of(group()), leaving) << "the leaving leader stepped down";
  EXPECT_GE(commit_one("y"), 0);
}

TEST_F(Reassignment, ACancelledMoveGoesBackToTheOriginalVoters) {
  open_on_4();
  int ticks = 0;
  // Steer a few rounds toward {2,3,4} (4 becomes a learner), then cancel.
  for (int t = 0; t < 3; ++t) {
    if (int l = leader_of(group())) sets_[l]->get(group())->steer({{2, 3, 4, 1}, {4}, {1}});
    round();
  }
  auto voters = steer({{1, 2, 3}, {}, {}}, &ticks);
  ASSERT_TRUE(voters);
  EXPECT_EQ(*voters, (std::vector<int32_t>{1, 2, 3}));
  const raft::Config& c = sets_[leader_of(group())]->get(group())->config();
  EXPECT_TRUE(c.learners.empty()) << "the learner is gone again";
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

// leader.replication.throttled.rate: a learner catches up at the rate set, over
// ticks of a known length, not at once.
TEST_F(Reassignment, ALearnerCatchesUpAtTheThrottledRate) {
  const std::string big(2000, 'x');
  for (int i = 0; i < 100; ++i) ASSERT_GE(commit_one(big + std::to_string(i)), 0);  // ~200 KB
  constexpr int64_t kRate = 100'000;  // bytes/s; 5,000 per 50 ms tick
  for (auto& [b, set] : sets_) set->set_learner_rate(kRate, 50);
  open_on_4();
  int ticks = 0;
  auto voters = steer({{2, 3, 4, 1}, {4}, {1}}, &ticks);
  ASSERT_TRUE(voters);
  uint64_t sent = 0;
  for (auto& [b, set] : sets_) sent += set->learner_bytes();
  ASSERT_GT(sent, 200'000u) << "the learner was sent the log";
  const double rate = static_cast<double>(sent) / (ticks * 0.05);
  EXPECT_GE(ticks, 35) << "caught up in " << ticks << " ticks: not throttled";
  EXPECT_NEAR(rate, kRate, kRate * 0.2) << sent << " bytes in " << ticks << " ticks";
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

// A voter other than the leader (none: 0) is cut off while ~200 KB are
// committed: (that voter, the last offset committed), the voter still down.
std::pair<int, int64_t> leave_behind(const std::function<int64_t(const std::string&)>& commit, int leader,
                                     std::set<int>& down) {
  if (leader == 0) return {0, -1};
  const int behind = leader == 3 ? 2 : 3;
  down.insert(behind);
  const std::string big(2000, 'y');
  int64_t last = -1;
  for (int i = 0; i < 100; ++i)
    if ((last = commit(big + std::to_string(i))) < 0) return {0, -1};
  return {behind, last};
}

// Ticks until broker `b`'s replica holds `last`.
int ticks_to_hold(const std::function<void()>& round, ReplicaSet& set, int64_t group, int64_t last, int limit = 400) {
  for (int t = 0; t < limit; ++t) {
    if (set.peek(group) && set.peek(group)->log_end() > last) return t;
    round();
  }
  return limit;
}

// follower.replication.throttled.rate: the learner's broker takes the log in
// at its rate, whatever its leader would send.
TEST_F(Reassignment, ALearnerTakesTheLogInAtTheFollowerThrottledRate) {
  const std::string big(2000, 'x');
  for (int i = 0; i < 100; ++i) ASSERT_GE(commit_one(big + std::to_string(i)), 0);  // ~200 KB
  constexpr int64_t kRate = 100'000;
  sets_[4]->set_learner_rate(0, 50);
  sets_[4]->set_follower_rate(kRate);
  open_on_4();
  int ticks = 0;
  ASSERT_TRUE(steer({{2, 3, 4, 1}, {4}, {1}}, &ticks));
  const uint64_t taken = sets_[4]->follower_bytes();
  ASSERT_GT(taken, 200'000u) << "broker 4 counted the catch-up it took in";
  EXPECT_GE(ticks, 35) << "caught up in " << ticks << " ticks: not throttled";
  EXPECT_NEAR(static_cast<double>(taken) / (ticks * 0.05), kRate, kRate * 0.2) << taken << " bytes in " << ticks;
  EXPECT_EQ(sets_[4]->deferred(), 0u) << "nothing left waiting once caught up";
}

// A topic-level list that names none of a partition's replicas on a broker
// turns both throttles off there (Kafka: only listed replicas are throttled).
TEST_F(Reassignment, AListNamingOtherReplicasLeavesThisOneUnthrottled) {
  const std::string big(2000, 'x');
  for (int i = 0; i < 100; ++i) ASSERT_GE(commit_one(big + std::to_string(i)), 0);
  for (auto& [b, set] : sets_) {
    set->set_learner_rate(100'000, 50);
    set->set_follower_rate(100'000);
  }
  open_on_4();
  const int64_t p = 0;  // the fixture's partition
  for (auto& [b, set] : sets_)
    set->set_throttle(group(), {throttled_by("7:9", p, b), throttled_by("7:9", p, b)});
  int ticks = 0;
  ASSERT_TRUE(steer({{2, 3, 4, 1}, {4}, {1}}, &ticks));
  EXPECT_LT(ticks, 20) << "caught up in " << ticks << " ticks: throttled though not listed";
}

// A listed voter that fell behind (down while 200 KB were committed) is
// throttled on the leader's side once back, as Kafka throttles a listed
// replica out of the ISR; unlisted (the default), a voter is never throttled.
TEST_F(Reassignment, AListedVoterOutOfSyncCatchesUpAtTheLeaderRate) {
  auto run = [&](bool listed) {
    const auto [behind, last] = leave_behind([&](const std::string& v) { return commit_one(v); },
                                             leader_of(group()), down_);
    EXPECT_NE(behind, 0) << "no leader, or it did not commit without one voter";
    for (auto& [b, set] : sets_) {
      set->set_learner_rate(100'000, 50);
      if (listed) set->set_throttle(group(), {throttled_by("*", 0, b), Throttled::kLearners});
    }
    down_.erase(behind);
    const int ticks = ticks_to_hold([&] { round(); }, *sets_[behind], group(), last);
    for (auto& [b, set] : sets_) {
      set->set_learner_rate(0, 50);
      set->set_throttle(group(), {});
    }
    return ticks;
  };
  const int unlisted = run(false);
  EXPECT_LT(unlisted, 20) << "an unlisted voter was throttled";
  const int listed = run(true);
  EXPECT_GE(listed, 35) << "the listed voter caught up in " << listed << " ticks: not throttled";
  EXPECT_LT(listed, 80) << "the listed voter caught up too slowly";
}

// The same on the follower's side: follower.replication.throttled.replicas
// "*" throttles a voter's catch-up (appends of entries its leader has
// committed) at its broker's rate.
TEST_F(Reassignment, AListedVoterOutOfSyncTakesTheLogInAtTheFollowerRate) {
  const auto [behind, last] = leave_behind([&](const std::string& v) { return commit_one(v); },
                                           leader_of(group()), down_);
  ASSERT_NE(behind, 0) << "no leader, or it did not commit without one voter";
  sets_[behind]->set_follower_rate(100'000);
  sets_[behind]->set_throttle(group(), {Throttled::kLearners, throttled_by("0:" + std::to_string(behind), 0, behind)});
  down_.erase(behind);
  const int ticks = ticks_to_hold([&] { round(); }, *sets_[behind], group(), last);
  EXPECT_GE(ticks, 35) << "caught up in " << ticks << " ticks: not throttled";
  EXPECT_GT(sets_[behind]->follower_bytes(), 150'000u);
  // Caught up, new appends carry entries above the commit: not throttled.
  const uint64_t before = sets_[behind]->follower_bytes();
  for (int i = 0; i < 5; ++i) ASSERT_GE(commit_one("small"), 0);
  EXPECT_EQ(sets_[behind]->follower_bytes(), before) << "an in-sync follower's appends were counted as catch-up";
}

TEST(Throttle, ListsByKafkasFormat) {
  EXPECT_EQ(throttled_by("", 0, 1), Throttled::kLearners);
  EXPECT_EQ(throttled_by(" * ", 3, 1), Throttled::kOutOfSync);
  EXPECT_EQ(throttled_by("0:1,3:2", 3, 2), Throttled::kOutOfSync);
  EXPECT_EQ(throttled_by("0:1, 3 : 2", 3, 2), Throttled::kOutOfSync);
  EXPECT_EQ(throttled_by("0:1,3:2", 3, 1), Throttled::kNone);
  EXPECT_EQ(throttled_by("0:1,x:2", 0, 2), Throttled::kNone);
}

}  // namespace
}  // namespace millrace::cluster
