// A real raft::Raft single-node group driven through PartitionRaftLog and
// HardStateFile, in the driver order of raft.h: the partition directory then
// holds a LeaderChange control batch followed by the data, commit = HW - 1,
// and a restart carries on from what is on disk.
#include <gtest/gtest.h>

#include "protocol/record/control_record.h"
#include "protocol/record/record_reader.h"
#include "raft/raft.h"
#include "raft/storage/entry_batch.h"
#include "raft/storage/hard_state_file.h"
#include "raft/storage/partition_log.h"
#include "storage/test_util.h"

namespace millrace::raft {
namespace {

using storage::testing::TempDir;

const NodeId kMe(1);

class SingleNodeGroupTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override { stop(); }

  void start() {
    storage::LogOptions o;
    o.hw_policy = storage::HwPolicy::kManual;
    auto s = storage::Log::open(dir_.path() / "p-0", o);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    storage_ = *s;
    auto l = PartitionRaftLog::open(storage_);
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    log_ = std::move(*l);
    hs_file_ = std::make_unique<HardStateFile>(dir_.path() / "p-0" / kHardStateFileName);
    auto hs = hs_file_->read();
    ASSERT_TRUE(hs.ok()) << hs.status().to_string();
    if (*hs == HardState{} && log_->last() < Index(0) && log_->snapshot().config.voters.empty()) {
      // Bootstrap: the first configuration stands below offset 0.
      ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(-1), Term(0), Config{{kMe}, {}, {}}}));
    }
    Options opts;
    opts.id = kMe;
    opts.group = GroupId(7);
    opts.seed = 42;
    raft_ = std::make_unique<Raft>(opts, *log_, *hs);
  }

  void stop() {
    raft_.reset();
    log_.reset();
    if (storage_) (void)storage_->close();
    storage_.reset();
  }

  // Steps 1-4 of the driver loop of raft.h, in order; false on an I/O error.
  bool persist(const Ready& rd) {
    if (rd.snapshot && !log_->install_snapshot(*rd.snapshot)) return false;
    if (rd.truncate_from && !log_->truncate_suffix(*rd.truncate_from)) return false;
    if (!rd.entries.empty() && !log_->append(rd.entries)) return false;
    if (rd.must_sync && !log_->sync()) return false;
    if (rd.hard_state && !hs_file_->write(*rd.hard_state).ok()) return false;
    return true;
  }

  void drive() {
    for (int guard = 0; raft_->has_ready() && guard < 1000; ++guard) {
      Ready rd = raft_->ready();
      ASSERT_TRUE(persist(rd)) << log_->last_error().to_string();
      // Step 5, rd.messages: a single-node group has nobody to send to.
      if (rd.commit) log_->set_commit(*rd.commit);  // step 6
      raft_->advance(rd);
    }
  }

  void become_leader() {
    raft_->campaign();
    drive();
    for (int i = 0; i < 100 && raft_->role() != Role::kLeader; ++i) {
      raft_->tick();
      drive();
    }
    ASSERT_EQ(raft_->role(), Role::kLeader);
  }

  ProposeResult propose(int records) {
    auto batch = storage::testing::simple_batch(records);
    auto r = raft_->propose(std::make_shared<const std::vector<uint8_t>>(std::move(batch)), records);
    drive();
    return r;
  }

  TempDir dir_;
  std::shared_ptr<storage::Log> storage_;
  std::unique_ptr<PartitionRaftLog> log_;
  std::unique_ptr<HardStateFile> hs_file_;
  std::unique_ptr<Raft> raft_;
};

TEST_F(SingleNodeGroupTest, ProposeCommitRestart) {
  become_leader();
  const Term t1 = raft_->term();
  auto p1 = propose(3);
  ASSERT_TRUE(p1.ok()) << p1.message;
  auto p2 = propose(2);
  ASSERT_TRUE(p2.ok()) << p2.message;
  EXPECT_EQ(raft_->commit(), p2.last);
  EXPECT_EQ(storage_->high_watermark().value() - 1, raft_->commit().value());

  // The log: a LeaderChange control batch of the leader's term, then the data.
  auto es = log_->entries(log_->start(), SIZE_MAX);
  ASSERT_EQ(es.size(), 3u);
  EXPECT_EQ(es[0].type, EntryType::kLeaderChange);
  EXPECT_EQ(es[0].first, Index(0));
  EXPECT_EQ(es[0].term, t1);
  EXPECT_EQ(es[1].type, EntryType::kData);
  EXPECT_EQ(es[1].first, Index(1));
  EXPECT_EQ(es[1].last, p1.last);
  EXPECT_EQ(es[2].last, p2.last);
  EXPECT_EQ(es[2].term, p2.term);
  // As a Kafka consumer fetches it: the first batch is control, the rest are not.
  auto region = storage_->read(Offset(0), 1 << 20, storage_->high_watermark());
  ASSERT_TRUE(region.ok());
  auto bytes = storage::testing::read_region(*region);
  EXPECT_TRUE(record::parse_batch_header(bytes).header.is_control());
  EXPECT_TRUE(is_raft_control_batch(bytes));

  const Index committed = raft_->commit();
  stop();
  start();
  auto hs = hs_file_->read();
  ASSERT_TRUE(hs.ok());
  EXPECT_EQ(hs->term, t1);
  EXPECT_EQ(hs->vote, kMe);
  EXPECT_EQ(log_->last(), committed);
  EXPECT_EQ(log_->term_at(committed), t1);
  EXPECT_EQ(log_->snapshot().config.voters, std::vector<NodeId>{kMe});

  become_leader();
  EXPECT_GT(raft_->term(), t1);
  auto p3 = propose(1);
  ASSERT_TRUE(p3.ok()) << p3.message;
  EXPECT_EQ(raft_->commit(), p3.last);
  EXPECT_EQ(storage_->high_watermark().value() - 1, raft_->commit().value());
  es = log_->entries(log_->start(), SIZE_MAX);
  ASSERT_EQ(es.size(), 5u);
  EXPECT_EQ(es[3].type, EntryType::kLeaderChange);  // the new term's first entry
  EXPECT_EQ(es[3].first, committed + 1);
  EXPECT_EQ(es[3].term, raft_->term());
  EXPECT_EQ(es[4].first, committed + 2);
}

}  // namespace
}  // namespace millrace::raft
