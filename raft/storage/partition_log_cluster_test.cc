// Three real raft::Raft replicas, each over its own storage::Log through
// PartitionRaftLog and HardStateFile, messages delivered in process: the
// replicas' partition logs end byte-for-byte equal (what a Kafka fetch reads
// from any of them), a deposed leader's uncommitted suffix is truncated, and a
// restarted replica catches up from its own disk.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "raft/raft.h"
#include "raft/storage/hard_state_file.h"
#include "raft/storage/partition_log.h"
#include "storage/fault_env.h"
#include "storage/test_util.h"

namespace millrace::raft {
namespace {

using storage::testing::TempDir;

struct Replica {
  std::filesystem::path dir;
  std::unique_ptr<storage::FaultInjectionEnv> env = std::make_unique<storage::FaultInjectionEnv>();
  std::shared_ptr<storage::Log> storage;
  std::unique_ptr<PartitionRaftLog> log;
  std::unique_ptr<HardStateFile> hs;
  std::unique_ptr<Raft> raft;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 3; ++i) start(i);
  }
  void TearDown() override {
    for (auto& [i, r] : nodes_) stop(i);
  }

  // `bootstrap`: a founding member (its first configuration below offset 0);
  // a replica added later starts empty and learns everything from the leader.
  void start(int i, bool bootstrap = true) {
    Replica& r = nodes_[i];
    r.dir = dir_.path() / ("n" + std::to_string(i));
    storage::LogOptions o;
    o.hw_policy = storage::HwPolicy::kManual;
    o.env = r.env.get();
    auto s = storage::Log::open(r.dir, o);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    r.storage = *s;
    PartitionRaftLogOptions po;
    po.env = r.env.get();
    po.clock = [] { return int64_t{1'700'000'000'000}; };  // the same on every replica
    auto l = PartitionRaftLog::open(r.storage, po);
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    r.log = std::move(*l);
    r.hs = std::make_unique<HardStateFile>(r.dir / kHardStateFileName, r.env.get());
    auto hs = r.hs->read();
    ASSERT_TRUE(hs.ok());
    if (bootstrap && *hs == HardState{} && r.log->last() < Index(0) && r.log->snapshot().config.voters.empty()) {
      ASSERT_TRUE(r.log->install_snapshot(SnapshotMeta{Index(-1), Term(0), Config{{N(1), N(2), N(3)}, {}, {}}}));
    }
    Options opts;
    opts.id = N(i);
    opts.group = GroupId(1);
    opts.seed = static_cast<uint64_t>(i);
    r.raft = std::make_unique<Raft>(opts, *r.log, *hs);
    down_.erase(i);
  }

  void stop(int i) {
    Replica& r = nodes_[i];
    r.raft.reset();
    r.log.reset();
    if (r.storage) (void)r.storage->close();
    r.storage.reset();
    down_.insert(i);
  }

  // Power loss: what node i had not synced is gone; it is down until start(i).
  void crash(int i) {
    Replica& r = nodes_[i];
    r.raft.reset();
    r.log.reset();
    r.env->crash();
    r.storage.reset();  // its close() fails: the machine is gone
    r.env->revive();
    down_.insert(i);
  }

  static NodeId N(int i) { return NodeId(i); }

  void drive(int i) {
    Replica& r = nodes_.at(i);
    while (r.raft->has_ready()) {
      Ready rd = r.raft->ready();
      bool ok = true;
      if (rd.snapshot) ok = ok && r.log->install_snapshot(*rd.snapshot);
      if (rd.truncate_from) ok = ok && r.log->truncate_suffix(*rd.truncate_from);
      if (!rd.entries.empty()) ok = ok && r.log->append(rd.entries);
      if (rd.must_sync) ok = ok && r.log->sync();
      if (rd.hard_state) ok = ok && r.hs->write(*rd.hard_state).ok();
      ASSERT_TRUE(ok) << "node " << i << ": " << r.log->last_error().to_string();
      for (Message& m : rd.messages) queue_.push_back(std::move(m));
      if (rd.commit) r.log->set_commit(*rd.commit);
      r.raft->advance(rd);
    }
  }

  bool blocked(const Message& m) const {
    return down_.count(m.to.value()) || down_.count(m.from.value()) || cut_.count(m.from.value()) ||
           cut_.count(m.to.value());
  }

  void deliver() {
    for (auto& [i, r] : nodes_)
      if (!down_.count(i)) drive(i);
    for (int n = 0; !queue_.empty() && n < 100000; ++n) {
      Message m = std::move(queue_.front());
      queue_.pop_front();
      if (blocked(m)) continue;
      nodes_.at(m.to.value()).raft->step(m);
      drive(m.to.value());
    }
  }

  void tick_all(int rounds) {
    for (int k = 0; k < rounds; ++k) {
      for (auto& [i, r] : nodes_)
        if (!down_.count(i)) {
          r.raft->tick();
          drive(i);
        }
      deliver();
    }
  }

  int leader() {
    int found = 0;
    for (auto& [i, r] : nodes_)
      if (!down_.count(i) && r.raft->role() == Role::kLeader && (found == 0 || r.raft->term() > term(found)))
        found = i;
    return found;
  }
  Term term(int i) { return nodes_.at(i).raft->term(); }

  ProposeResult propose(int i, int records) {
    auto b = storage::testing::simple_batch(records);
    auto res = nodes_.at(i).raft->propose(std::make_shared<const std::vector<uint8_t>>(std::move(b)), records);
    deliver();
    return res;
  }

  // The whole partition log as a Kafka fetch from offset `from` returns it.
  std::vector<uint8_t> fetch(int i, int64_t from = 0) {
    Replica& r = nodes_.at(i);
    std::vector<uint8_t> out;
    for (int64_t o = from; o < r.storage->log_end_offset().value();) {
      auto reg = r.storage->read(Offset(o), 1 << 20, r.storage->log_end_offset());
      EXPECT_TRUE(reg.ok());
      if (!reg.ok() || reg->empty()) break;
      auto b = storage::testing::read_region(*reg);
      out.insert(out.end(), b.begin(), b.end());
      o = reg->last_offset + 1;
    }
    return out;
  }

  void expect_committed_and_hw(int i) {
    Replica& r = nodes_.at(i);
    EXPECT_EQ(r.storage->high_watermark().value() - 1, r.raft->commit().value()) << "node " << i;
  }

  TempDir dir_;
  std::map<int, Replica> nodes_;
  std::deque<Message> queue_;
  std::set<int> down_;
  std::set<int> cut_;  // isolated nodes
};

TEST_F(ClusterTest, ReplicasHoldTheSameBytes) {
  nodes_.at(1).raft->campaign();
  deliver();
  ASSERT_EQ(leader(), 1);
  for (int k = 1; k <= 4; ++k) ASSERT_TRUE(propose(1, k).ok());
  tick_all(3);  // the commit index reaches the followers
  const Index last = nodes_.at(1).log->last();
  EXPECT_EQ(last, Index(10));  // LC + 1 + 2 + 3 + 4 records
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(nodes_.at(i).raft->commit(), last) << i;
    expect_committed_and_hw(i);
    EXPECT_EQ(fetch(i), fetch(1)) << "node " << i;
  }
  auto es = nodes_.at(2).log->entries(Index(0), SIZE_MAX);
  ASSERT_EQ(es.size(), 5u);
  EXPECT_EQ(es[0].type, EntryType::kLeaderChange);
}

TEST_F(ClusterTest, DeposedLeadersUncommittedSuffixIsTruncated) {
  nodes_.at(1).raft->campaign();
  deliver();
  ASSERT_TRUE(propose(1, 2).ok());
  tick_all(2);
  const Index committed = nodes_.at(1).raft->commit();
  cut_.insert(1);  // node 1 keeps leading alone: its new entries never commit
  ASSERT_TRUE(propose(1, 3).ok());
  ASSERT_TRUE(propose(1, 1).ok());
  ASSERT_GT(nodes_.at(1).log->last(), committed);
  for (int k = 0; k < 100 && (leader() == 0 || leader() == 1); ++k) tick_all(1);
  const int l = leader();
  ASSERT_TRUE(l == 2 || l == 3);
  ASSERT_TRUE(propose(l, 5).ok());
  cut_.clear();
  tick_all(30);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(nodes_.at(i).raft->commit(), nodes_.at(l).log->last()) << i;
    EXPECT_EQ(fetch(i), fetch(l)) << "node " << i;
    expect_committed_and_hw(i);
  }
  // Node 1's own term-1 entries past the commit are gone; the new leader's LC follows.
  auto es = nodes_.at(1).log->entries(committed + 1, SIZE_MAX);
  ASSERT_FALSE(es.empty());
  EXPECT_EQ(es[0].type, EntryType::kLeaderChange);
  EXPECT_EQ(es[0].term, term(l));
}

TEST_F(ClusterTest, RestartedFollowerCatchesUpFromItsDisk) {
  nodes_.at(1).raft->campaign();
  deliver();
  ASSERT_TRUE(propose(1, 2).ok());
  tick_all(2);
  stop(3);
  ASSERT_TRUE(propose(1, 3).ok());
  ASSERT_TRUE(propose(1, 4).ok());
  tick_all(2);
  start(3);
  EXPECT_EQ(nodes_.at(3).log->last(), Index(2));  // what it had synced
  tick_all(5);
  EXPECT_EQ(nodes_.at(3).log->last(), nodes_.at(1).log->last());
  EXPECT_EQ(fetch(3), fetch(1));
  expect_committed_and_hw(3);
}

TEST_F(ClusterTest, FollowerBehindTheLeadersLogStartIsRestartedPastIt) {
  nodes_.at(1).raft->campaign();
  deliver();
  ASSERT_TRUE(propose(1, 2).ok());
  tick_all(2);
  stop(3);
  ASSERT_TRUE(propose(1, 3).ok());
  ASSERT_TRUE(propose(1, 4).ok());
  tick_all(2);
  // Retention on the two others, up to their commit index + 1.
  const Index cut_at = nodes_.at(1).raft->commit() - 3;  // inside the log: entries remain after it
  for (int i : {1, 2}) ASSERT_TRUE(nodes_.at(i).storage->delete_records_before(Offset(cut_at.value())).ok());
  ASSERT_GT(nodes_.at(1).log->start(), Index(3));
  start(3);
  tick_all(10);
  EXPECT_EQ(nodes_.at(3).log->start(), nodes_.at(1).log->start());
  EXPECT_EQ(nodes_.at(3).log->snapshot(), nodes_.at(1).log->snapshot());
  EXPECT_EQ(nodes_.at(3).log->last(), nodes_.at(1).log->last());
  EXPECT_EQ(fetch(3, nodes_.at(1).log->start().value()), fetch(1, nodes_.at(1).log->start().value()));
  expect_committed_and_hw(3);
  // And it restarts from there.
  stop(3);
  start(3);
  EXPECT_EQ(nodes_.at(3).log->snapshot(), nodes_.at(1).log->snapshot());
}

TEST_F(ClusterTest, MembershipChangesAreVotersControlBatchesThatSurviveRestart) {
  nodes_.at(1).raft->campaign();
  deliver();
  ASSERT_TRUE(propose(1, 2).ok());
  start(4, /*bootstrap=*/false);
  const Config with_learner{{N(1), N(2), N(3)}, {}, {N(4)}};
  auto r1 = nodes_.at(1).raft->propose_config(with_learner);
  ASSERT_TRUE(r1.ok()) << r1.message;
  deliver();
  tick_all(5);
  ASSERT_EQ(nodes_.at(4).raft->config(), with_learner);
  const Config replaced{{N(1), N(2), N(4)}, {}, {}};
  auto r2 = nodes_.at(1).raft->propose_config(replaced);
  ASSERT_TRUE(r2.ok()) << r2.message;
  deliver();
  tick_all(10);
  ASSERT_TRUE(propose(1, 1).ok());
  tick_all(3);
  for (int i : {1, 2, 4}) {
    EXPECT_EQ(nodes_.at(i).raft->config(), replaced) << i;
    EXPECT_EQ(fetch(i), fetch(1)) << i;
    // learner, joint (C_old,new), C_new: three Voters control batches.
    auto cs = nodes_.at(i).log->config_entries();
    ASSERT_EQ(cs.size(), 3u) << i;
    Config last;
    ASSERT_TRUE(Config::decode(*cs.back().data, &last));
    EXPECT_EQ(last, replaced);
    expect_committed_and_hw(i);
  }
  // A restarted replica rebuilds the configuration from its own disk.
  const auto before = nodes_.at(4).log->config_entries();
  stop(4);
  start(4, false);
  EXPECT_EQ(nodes_.at(4).log->config_entries(), before);
  EXPECT_EQ(nodes_.at(4).raft->config(), replaced);
}

// kSynced: an acknowledgement leaves only after the sync, so a power loss of
// every replica at once keeps every committed entry on a majority.
TEST_F(ClusterTest, CommittedEntriesSurviveAPowerLossOfEveryReplica) {
  nodes_.at(1).raft->campaign();
  deliver();
  for (int k = 1; k <= 3; ++k) ASSERT_TRUE(propose(1, k).ok());
  const Index committed = nodes_.at(1).raft->commit();
  const auto acked = nodes_.at(1).raft->progress(N(3))->match;
  ASSERT_EQ(committed, Index(6));
  auto bytes = fetch(1);
  for (int i = 1; i <= 3; ++i) crash(i);
  for (int i = 1; i <= 3; ++i) start(i);
  EXPECT_GE(nodes_.at(3).log->last(), acked);  // what node 3 acknowledged it still has
  for (int k = 0; k < 100 && leader() == 0; ++k) tick_all(1);
  const int l = leader();
  ASSERT_NE(l, 0);
  ASSERT_TRUE(propose(l, 1).ok());
  tick_all(3);
  for (int i = 1; i <= 3; ++i) {
    auto now = fetch(i);
    ASSERT_GE(now.size(), bytes.size()) << i;
    now.resize(bytes.size());
    EXPECT_EQ(now, bytes) << "node " << i << " lost or changed a committed entry";
    EXPECT_GE(nodes_.at(i).raft->commit(), committed);
    expect_committed_and_hw(i);
  }
}

}  // namespace
}  // namespace millrace::raft
