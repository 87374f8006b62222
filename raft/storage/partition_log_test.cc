// PartitionRaftLog over a real storage::Log: entries read back equal, terms
// from the epoch cache, control batches as a Kafka fetch sees them, truncation
// around control batches, restart, install_snapshot, retention past a Voters
// entry, and crashes between the steps of a write.
#include "raft/storage/partition_log.h"

#include <gtest/gtest.h>

#include "protocol/record/control_record.h"
#include "protocol/record/record_reader.h"
#include "raft/rpc/codec.h"
#include "raft/storage/entry_batch.h"
#include "storage/checkpoint.h"
#include "storage/fault_env.h"
#include "storage/index_file.h"
#include "storage/test_util.h"

namespace millrace::raft {
namespace {

using storage::FaultInjectionEnv;
using storage::testing::TempDir;

Payload bytes_of(std::vector<uint8_t> v) { return std::make_shared<const std::vector<uint8_t>>(std::move(v)); }

const Config kC1{{NodeId(1), NodeId(2), NodeId(3)}, {}, {}};
const Config kC2{{NodeId(1), NodeId(2), NodeId(4)}, {NodeId(1), NodeId(2), NodeId(3)}, {}};
const Config kC3{{NodeId(1), NodeId(2), NodeId(4)}, {}, {NodeId(5)}};

// A data entry as a follower receives it: the leader already stamped it.
Entry data(int64_t first, int n, int32_t term, size_t value_size = 10) {
  auto b = storage::testing::simple_batch(n, 1000, value_size);
  record::set_base_offset(b, first);
  record::set_partition_leader_epoch(b, term);
  return Entry{Index(first), Index(first + n - 1), Term(term), EntryType::kData, bytes_of(std::move(b))};
}
Entry lc(int64_t at, int32_t term, int32_t leader) {
  return Entry{Index(at), Index(at), Term(term), EntryType::kLeaderChange,
               bytes_of(encode_leader_change(LeaderChange{NodeId(leader), {NodeId(1), NodeId(2), NodeId(3)}, {}}))};
}
Entry voters(int64_t at, int32_t term, const Config& c) {
  return Entry{Index(at), Index(at), Term(term), EntryType::kVoters, bytes_of(c.encode())};
}

class PartitionRaftLogTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override { close(); }

  void open() {
    storage::LogOptions o;
    o.config = cfg_;
    o.clock = [] { return int64_t{1'000'000}; };
    o.hw_policy = storage::HwPolicy::kManual;
    o.env = &env_;
    auto s = storage::Log::open(dir_.path() / "p-0", o);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    storage_ = *s;
    PartitionRaftLogOptions po;
    po.env = &env_;
    po.clock = [] { return int64_t{5000}; };
    po.file_span_min_bytes = span_min_;
    auto l = PartitionRaftLog::open(storage_, po);
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    log_ = std::move(*l);
  }
  void close() {
    log_.reset();
    if (storage_) (void)storage_->close();
    storage_.reset();
  }
  void reopen() {
    close();
    open();
  }
  // Power loss: what was not synced is gone.
  void crash_and_reopen() {
    log_.reset();
    env_.crash();
    storage_.reset();  // its close() fails: the env is dead
    env_.revive();
    open();
  }
  void append(const std::vector<Entry>& es) { ASSERT_TRUE(log_->append(es)) << log_->last_error().to_string(); }
  std::vector<Entry> all() { return log_->entries(log_->start(), SIZE_MAX); }

  // The log as a Kafka fetch returns it: whole batches from the start.
  std::vector<uint8_t> fetch_bytes() {
    std::vector<uint8_t> out;
    int64_t o = storage_->log_start_offset().value();
    while (o < storage_->log_end_offset().value()) {
      auto r = storage_->read(Offset(o), 1 << 20, storage_->log_end_offset());
      EXPECT_TRUE(r.ok());
      if (!r.ok() || r->empty()) break;
      auto b = storage::testing::read_region(*r);
      out.insert(out.end(), b.begin(), b.end());
      o = r->last_offset + 1;
    }
    return out;
  }

  // 0-2 data e1 | 3 LC e2 | 4 V(C1) e2 | 5-9 data e2 | 10 LC e3 | 11-12 data e3
  std::vector<Entry> sample() {
    return {data(0, 3, 1), lc(3, 2, 2), voters(4, 2, kC1), data(5, 5, 2), lc(10, 3, 1), data(11, 2, 3)};
  }

  storage::LogConfig cfg_;
  size_t span_min_ = 0;
  FaultInjectionEnv env_;
  TempDir dir_;
  std::shared_ptr<storage::Log> storage_;
  std::unique_ptr<PartitionRaftLog> log_;
};

TEST_F(PartitionRaftLogTest, EmptyLog) {
  EXPECT_EQ(log_->start(), Index(0));
  EXPECT_EQ(log_->last(), Index(-1));
  EXPECT_EQ(log_->term_at(Index(-1)), Term(0));
  EXPECT_EQ(log_->term_at(Index(0)), std::nullopt);
  EXPECT_TRUE(log_->entries(Index(0), 100).empty());
  EXPECT_EQ(log_->snapshot(), (SnapshotMeta{Index(-1), Term(0), Config{}}));
  EXPECT_TRUE(log_->config_entries().empty());
}

TEST_F(PartitionRaftLogTest, FollowerAppendReadsBackEqual) {
  auto es = sample();
  append(es);
  EXPECT_EQ(log_->last(), Index(12));
  EXPECT_EQ(all(), es);
  EXPECT_EQ(log_->entries(Index(6), SIZE_MAX).front(), es[3]);  // from inside an entry: the whole entry
  EXPECT_EQ(log_->config_entries(), std::vector<Entry>{es[2]});
}

TEST_F(PartitionRaftLogTest, AppendInSeveralCallsReadsBackEqual) {
  auto es = sample();
  for (const Entry& e : es) append({e});
  EXPECT_EQ(all(), es);
}

TEST_F(PartitionRaftLogTest, LeadersUnstampedBatchIsStamped) {
  Entry e{Index(0), Index(2), Term(4), EntryType::kData, bytes_of(storage::testing::simple_batch(3))};
  append({e});
  auto back = all();
  ASSERT_EQ(back.size(), 1u);
  auto h = record::parse_batch_header(*back[0].data).header;
  EXPECT_EQ(h.base_offset, 0);
  EXPECT_EQ(h.partition_leader_epoch, 4);
  EXPECT_EQ(back[0].term, Term(4));
}

TEST_F(PartitionRaftLogTest, EntriesRespectMaxBytesButReturnAtLeastOne) {
  append({data(0, 1, 1, 100), data(1, 1, 1, 100), data(2, 1, 1, 100)});
  const size_t one = all()[0].bytes();
  EXPECT_EQ(log_->entries(Index(0), 1).size(), 1u);
  EXPECT_EQ(log_->entries(Index(0), one).size(), 1u);
  EXPECT_EQ(log_->entries(Index(0), 2 * one).size(), 2u);
  EXPECT_EQ(log_->entries(Index(1), 2 * one + 1).size(), 2u);
  EXPECT_TRUE(log_->entries(Index(3), 1000).empty());
}

TEST_F(PartitionRaftLogTest, TermAtAcrossEpochs) {
  append(sample());
  const int32_t want[] = {1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3};
  for (int i = 0; i <= 12; ++i) EXPECT_EQ(log_->term_at(Index(i)), Term(want[i])) << i;
  EXPECT_EQ(log_->term_at(Index(-1)), Term(0));
  EXPECT_EQ(log_->term_at(Index(13)), std::nullopt);
  EXPECT_EQ(log_->term_at(Index(-2)), std::nullopt);
}

TEST_F(PartitionRaftLogTest, AppendRefusesAGapADecreasingTermAndALateStart) {
  append({data(0, 2, 3)});
  EXPECT_FALSE(log_->append({data(3, 1, 3)}));  // gap
  EXPECT_FALSE(log_->append({data(1, 1, 3)}));  // overlaps: truncate first
  EXPECT_FALSE(log_->append({data(2, 1, 2)}));  // term goes back
  EXPECT_FALSE(log_->append({data(2, 1, 3), data(4, 1, 3)}));  // not contiguous
  EXPECT_EQ(log_->last(), Index(1));
  EXPECT_EQ(log_->last_error().code(), storage::Errc::kInvalidArgument);
}

TEST_F(PartitionRaftLogTest, ControlBatchesAreFlaggedInFetchBytesAndOffsetsContiguous) {
  append(sample());
  auto bytes = fetch_bytes();
  std::span<const uint8_t> rest(bytes);
  int64_t expect = 0;
  std::vector<std::pair<int64_t, int16_t>> controls;  // (offset, type)
  while (!rest.empty()) {
    ASSERT_EQ(record::validate_batch(rest), record::BatchError::kOk);
    std::vector<uint8_t> scratch;
    record::RecordReader reader(rest, scratch);
    const auto h = reader.header();
    EXPECT_EQ(h.base_offset, expect);
    expect = h.last_offset() + 1;
    if (h.is_control()) {
      EXPECT_FALSE(h.is_transactional());
      EXPECT_EQ(h.producer_id, -1);
      record::Record rec;
      ASSERT_TRUE(reader.next(rec));
      controls.emplace_back(h.base_offset, *record::control_record_type(rec));
    }
    rest = rest.subspan(h.total_size());
  }
  EXPECT_EQ(expect, 13);
  EXPECT_EQ(controls, (std::vector<std::pair<int64_t, int16_t>>{{3, 2}, {4, 5}, {10, 2}}));
}

TEST_F(PartitionRaftLogTest, TruncateAtAControlBatch) {
  auto es = sample();
  append(es);
  ASSERT_TRUE(log_->truncate_suffix(Index(10)));  // the LC of term 3
  EXPECT_EQ(log_->last(), Index(9));
  EXPECT_EQ(log_->term_at(Index(9)), Term(2));
  EXPECT_EQ(log_->term_at(Index(10)), std::nullopt);
  append({lc(10, 4, 3), data(11, 1, 4)});
  EXPECT_EQ(log_->term_at(Index(10)), Term(4));
  auto back = all();
  ASSERT_EQ(back.size(), 6u);
  EXPECT_EQ(back[4], lc(10, 4, 3));
  EXPECT_EQ(back[5], data(11, 1, 4));
}

TEST_F(PartitionRaftLogTest, TruncateInTheMiddleOfData) {
  append({data(0, 3, 1), data(3, 3, 1), data(6, 3, 1)});
  ASSERT_TRUE(log_->truncate_suffix(Index(3)));
  EXPECT_EQ(log_->last(), Index(2));
  EXPECT_EQ(all(), std::vector<Entry>{data(0, 3, 1)});
  append({data(3, 2, 2)});
  EXPECT_EQ(log_->term_at(Index(4)), Term(2));
  EXPECT_EQ(log_->term_at(Index(2)), Term(1));
}

TEST_F(PartitionRaftLogTest, TruncateBeforeVotersForgetsTheConfig) {
  append({data(0, 2, 1), voters(2, 1, kC1), data(3, 2, 1), voters(5, 1, kC2)});
  ASSERT_EQ(log_->config_entries().size(), 2u);
  ASSERT_TRUE(log_->truncate_suffix(Index(5)));
  EXPECT_EQ(log_->config_entries(), std::vector<Entry>{voters(2, 1, kC1)});
  ASSERT_TRUE(log_->truncate_suffix(Index(2)));
  EXPECT_TRUE(log_->config_entries().empty());
  reopen();  // and the file forgot them too
  EXPECT_TRUE(log_->config_entries().empty());
  EXPECT_EQ(log_->last(), Index(1));
}

TEST_F(PartitionRaftLogTest, TruncatedVotersOffsetReusedByDataIsNotResurrectedByRetention) {
  ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(-1), Term(0), kC1}));
  append({data(0, 2, 1), voters(2, 1, kC2)});
  ASSERT_TRUE(log_->sync());
  ASSERT_TRUE(log_->truncate_suffix(Index(2)));  // C2 never committed
  append({data(2, 3, 2)});                       // offset 2 is data now
  ASSERT_TRUE(log_->sync());
  log_->set_commit(Index(4));
  ASSERT_TRUE(storage_->delete_records_before(Offset(5)).ok());
  reopen();
  EXPECT_EQ(log_->snapshot(), (SnapshotMeta{Index(4), Term(2), kC1}));
}

TEST_F(PartitionRaftLogTest, RestartRecoversTheConfigListAndTheSnapshot) {
  ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(99), Term(5), kC1}));
  append({lc(100, 6, 1), voters(101, 6, kC2), data(102, 3, 6), voters(105, 6, kC3)});
  ASSERT_TRUE(log_->sync());
  auto configs = log_->config_entries();
  reopen();
  EXPECT_EQ(log_->config_entries(), configs);
  EXPECT_EQ(log_->snapshot(), (SnapshotMeta{Index(99), Term(5), kC1}));
  EXPECT_EQ(log_->start(), Index(100));
  EXPECT_EQ(log_->last(), Index(105));
  EXPECT_EQ(log_->term_at(Index(99)), Term(5));
  EXPECT_EQ(log_->term_at(Index(100)), Term(6));
}

TEST_F(PartitionRaftLogTest, RestartWithoutTheFileScansTheLog) {
  append({data(0, 2, 1), voters(2, 1, kC1), data(3, 1, 1)});
  ASSERT_TRUE(log_->sync());
  close();
  std::filesystem::remove(dir_.path() / "p-0" / kSnapshotFileName);
  open();
  EXPECT_EQ(log_->config_entries(), std::vector<Entry>{voters(2, 1, kC1)});
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "p-0" / kSnapshotFileName));
}

TEST_F(PartitionRaftLogTest, DamagedSnapshotFileFailsOpen) {
  append({voters(0, 1, kC1)});
  close();
  auto path = dir_.path() / "p-0" / kSnapshotFileName;
  auto bytes = *storage::read_whole_file(path);
  bytes[3] ^= 1;
  ASSERT_TRUE(storage::write_file_atomic(path, bytes).ok());
  storage::LogOptions o;
  o.hw_policy = storage::HwPolicy::kManual;
  auto s = storage::Log::open(dir_.path() / "p-0", o);
  ASSERT_TRUE(s.ok());
  auto l = PartitionRaftLog::open(*s);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().message(), path.string() + ": checksum mismatch");
  (void)(*s)->close();
}

TEST_F(PartitionRaftLogTest, InstallSnapshotThenAppendContinuesAtIndexPlusOne) {
  append(sample());
  ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(499), Term(7), kC2}));
  EXPECT_EQ(log_->start(), Index(500));
  EXPECT_EQ(log_->last(), Index(499));
  EXPECT_EQ(log_->term_at(Index(499)), Term(7));
  EXPECT_EQ(log_->snapshot(), (SnapshotMeta{Index(499), Term(7), kC2}));
  EXPECT_TRUE(log_->config_entries().empty());
  EXPECT_FALSE(log_->append({data(0, 1, 7)}));
  append({data(500, 2, 7), voters(502, 8, kC3)});
  EXPECT_EQ(log_->term_at(Index(501)), Term(7));
  EXPECT_EQ(log_->term_at(Index(502)), Term(8));
  EXPECT_EQ(log_->config_entries(), std::vector<Entry>{voters(502, 8, kC3)});
  ASSERT_TRUE(log_->sync());
  reopen();
  EXPECT_EQ(log_->start(), Index(500));
  EXPECT_EQ(log_->term_at(Index(499)), Term(7));
  EXPECT_EQ(all(), (std::vector<Entry>{data(500, 2, 7), voters(502, 8, kC3)}));
}

// storage::Log::truncate_fully_and_start_at used to create the new segment
// over one of the same name and then unlink it: appends vanished at restart.
TEST_F(PartitionRaftLogTest, BootstrapAtTheCurrentStartKeepsLaterAppendsAcrossRestart) {
  ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(-1), Term(0), kC1}));  // segment 0 exists
  append({lc(0, 1, 1), data(1, 2, 1)});
  ASSERT_TRUE(log_->sync());
  reopen();
  EXPECT_EQ(log_->last(), Index(2));
  EXPECT_EQ(all(), (std::vector<Entry>{lc(0, 1, 1), data(1, 2, 1)}));
}

TEST_F(PartitionRaftLogTest, SecondInstallAtTheSameIndexKeepsLaterAppendsAcrossRestart) {
  ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(99), Term(5), kC1}));
  append({data(100, 2, 5)});
  ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(99), Term(5), kC1}));  // segment 100 exists
  append({data(100, 3, 6)});
  ASSERT_TRUE(log_->sync());
  reopen();
  EXPECT_EQ(all(), std::vector<Entry>{data(100, 3, 6)});
}

TEST_F(PartitionRaftLogTest, AppendAfterInstallRefusesATermBelowTheSnapshots) {
  ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(9), Term(5), kC1}));
  EXPECT_FALSE(log_->append({data(10, 1, 4)}));
  EXPECT_EQ(log_->last_error().code(), storage::Errc::kInvalidArgument);
  append({data(10, 1, 5)});
}

TEST_F(PartitionRaftLogTest, InstallInterruptedBeforeTheTruncationIsFinishedAtOpen) {
  append(sample());
  ASSERT_TRUE(log_->sync());
  close();
  // The first step of install_snapshot (the file) happened, the second did not.
  ASSERT_TRUE(write_snapshot_file(dir_.path() / "p-0" / kSnapshotFileName,
                                  SnapshotFileContent{SnapshotMeta{Index(7), Term(2), kC1}, {}}, nullptr)
                  .ok());
  open();
  EXPECT_EQ(log_->start(), Index(8));
  EXPECT_EQ(log_->last(), Index(7));
  EXPECT_EQ(log_->snapshot(), (SnapshotMeta{Index(7), Term(2), kC1}));
}

TEST_F(PartitionRaftLogTest, DeleteRecordsPastAVotersEntryMakesItTheSnapshotConfig) {
  ASSERT_TRUE(log_->install_snapshot(SnapshotMeta{Index(-1), Term(0), kC1}));
  append({lc(0, 1, 1), data(1, 3, 1), voters(4, 1, kC2), data(5, 2, 2), voters(7, 2, kC3), data(8, 2, 2)});
  log_->set_commit(Index(9));
  EXPECT_EQ(storage_->high_watermark(), Offset(10));
  ASSERT_TRUE(storage_->delete_records_before(Offset(5)).ok());
  EXPECT_EQ(log_->start(), Index(5));
  EXPECT_EQ(log_->snapshot(), (SnapshotMeta{Index(4), Term(1), kC2}));
  EXPECT_EQ(log_->config_entries(), std::vector<Entry>{voters(7, 2, kC3)});
  ASSERT_TRUE(storage_->delete_records_before(Offset(8)).ok());
  EXPECT_EQ(log_->snapshot(), (SnapshotMeta{Index(7), Term(2), kC3}));
  EXPECT_TRUE(log_->config_entries().empty());
}

TEST_F(PartitionRaftLogTest, RetentionDeletingTheVotersSegmentKeepsTheConfigAcrossRestart) {
  close();
  cfg_.segment_bytes = 200;  // about one batch per segment
  open();
  for (const Entry& e : {lc(0, 1, 1), voters(1, 1, kC1), data(2, 2, 1), voters(4, 1, kC2), data(5, 2, 2), data(7, 2, 2)})
    append({e});  // storage rolls between appends: about one entry per segment
  ASSERT_TRUE(log_->sync());
  const int segments = storage_->segment_count();
  ASSERT_GE(segments, 4);
  log_->set_commit(Index(8));
  ASSERT_TRUE(storage_->delete_records_before(Offset(7)).ok());
  ASSERT_TRUE(storage_->write_checkpoints().ok());
  ASSERT_LT(storage_->segment_count(), segments);  // the Voters entry's segment went
  reopen();
  ASSERT_EQ(log_->start(), Index(7));
  // The segment holding the Voters entry at 4 is gone; raft.snapshot knew it.
  EXPECT_EQ(log_->snapshot(), (SnapshotMeta{Index(6), Term(2), kC2}));
  EXPECT_TRUE(log_->config_entries().empty());
}

TEST_F(PartitionRaftLogTest, DeleteRecordsInsideABatchRoundsTheStartUp) {
  append({data(0, 3, 1), data(3, 3, 2)});
  log_->set_commit(Index(5));
  ASSERT_TRUE(storage_->delete_records_before(Offset(4)).ok());
  EXPECT_EQ(storage_->log_start_offset(), Offset(4));
  EXPECT_EQ(log_->start(), Index(6));
  EXPECT_EQ(log_->term_at(Index(5)), Term(2));
  EXPECT_TRUE(log_->entries(Index(6), 100).empty());
}

TEST_F(PartitionRaftLogTest, UnsyncedVotersEntryLostInACrashIsForgotten) {
  append({data(0, 2, 1), voters(2, 1, kC1)});
  ASSERT_TRUE(log_->sync());
  append({data(3, 1, 1), voters(4, 1, kC2)});  // raft.snapshot names C2; the log is not synced
  crash_and_reopen();
  EXPECT_EQ(log_->last(), Index(2));
  EXPECT_EQ(log_->config_entries(), std::vector<Entry>{voters(2, 1, kC1)});
  // The file forgot it too: a later entry at 4 is data, and retention past it
  // must not resurrect C2.
  append({data(3, 2, 2)});
  log_->set_commit(Index(4));
  ASSERT_TRUE(storage_->delete_records_before(Offset(5)).ok());
  reopen();
  EXPECT_EQ(log_->snapshot().config, kC1);
}

TEST_F(PartitionRaftLogTest, SyncedEntriesSurviveAPowerLoss) {
  auto es = sample();
  append(es);
  ASSERT_TRUE(log_->sync());
  append({data(13, 2, 3)});  // not synced: may go
  crash_and_reopen();
  ASSERT_GE(log_->last(), Index(12));
  auto back = all();
  back.resize(es.size());
  EXPECT_EQ(back, es);
  EXPECT_EQ(log_->term_at(Index(12)), Term(3));
  EXPECT_EQ(log_->config_entries(), std::vector<Entry>{es[2]});
}

TEST_F(PartitionRaftLogTest, SyncReportsAFailedFsync) {
  append({data(0, 2, 1)});
  env_.inject(FaultInjectionEnv::Op::kSync, EIO);
  EXPECT_FALSE(log_->sync());
  EXPECT_FALSE(log_->last_error().ok());
  env_.clear_faults();
}

TEST_F(PartitionRaftLogTest, FailedSnapshotFileWriteFailsTheAppendAndWritesNothing) {
  append({data(0, 2, 1)});
  env_.inject(FaultInjectionEnv::Op::kRename, EIO, kSnapshotFileName);
  EXPECT_FALSE(log_->append({voters(2, 1, kC1)}));
  env_.clear_faults();
  EXPECT_EQ(log_->last(), Index(1));
  EXPECT_TRUE(log_->config_entries().empty());
}

// Data batches of at least file_span_min_bytes come back as file ranges (no
// bytes read), the others and every control entry in memory; either way the
// entries are the ones appended. The transport's gathered encoding of
// messages carrying them is byte for byte encode_batch's, its splices are
// exactly the file entries, and a file range that no longer holds the entry's
// batch (rewritten while it was sent) is refused by the receiver.
// Planted bugs seen caught: the receiver's Stamped check skipped (the last
// check), the batch's tags written from the wrong offset (39 stray bytes: the
// equality check).
class FileSpanLog : public PartitionRaftLogTest {
 protected:
  FileSpanLog() { span_min_ = 400; }
  // 0-2 small data e1 | 3 LC | 4 V | 5-9 large data e2 | 10 LC | 11-12 large data e3
  std::vector<Entry> mixed() {
    return {data(0, 3, 1, 10), lc(3, 2, 2), voters(4, 2, kC1), data(5, 5, 2, 200), lc(10, 3, 1), data(11, 2, 3, 300)};
  }
};

TEST_F(FileSpanLog, LargeDataBatchesAreFileRangesAndReadBackEqual) {
  auto es = mixed();
  append(es);
  auto back = all();
  ASSERT_EQ(back, es);
  std::vector<bool> in_file;
  for (const Entry& e : back) in_file.push_back(e.file && !e.data);
  EXPECT_EQ(in_file, (std::vector<bool>{false, false, false, true, false, true}));
  EXPECT_EQ(back[3].bytes(), es[3].bytes());
  EXPECT_EQ(*back[3].payload(), *es[3].data);
  EXPECT_EQ(log_->entries(Index(7), SIZE_MAX).front(), es[3]);  // from inside an entry: the whole entry
}

TEST_F(FileSpanLog, GatheredEncodingIsEncodeBatchsBytesWithTheFilesSpliced) {
  auto es = mixed();
  append(es);
  Message app;
  app.group = GroupId(7);
  app.type = MessageType::kAppend;
  app.term = Term(3);
  app.index = Index(-1);
  app.commit = Index(4);
  app.entries = all();
  Message beat;
  beat.group = GroupId(8);
  beat.type = MessageType::kHeartbeat;
  beat.term = Term(2);
  beat.commit = Index(1);
  Message memory = app;  // a second group's append, every entry in memory
  memory.group = GroupId(9);
  memory.entries = es;
  const std::vector<Message> msgs{beat, app, memory};
  auto g = rpc::encode_batch_gathered(NodeId(1), NodeId(2), msgs);
  ASSERT_EQ(g.splices.size(), 2u) << "the two large data entries";
  EXPECT_EQ(g.splices[0].file->length, static_cast<int64_t>(es[3].bytes()));
  const auto whole = rpc::materialize(g);
  EXPECT_EQ(whole.size(), g.size());
  EXPECT_EQ(whole, rpc::encode_batch(NodeId(1), NodeId(2), msgs));
  auto d = rpc::decode_batch(whole);
  ASSERT_TRUE(d.ok()) << d.error;
  ASSERT_EQ(d.messages.size(), 3u);
  EXPECT_EQ(d.messages[1].entries, es);
  EXPECT_EQ(d.messages[2].entries, es);

  // A file range rewritten under the message: the entry says term 3, the
  // batch now in the file says otherwise.
  Message stale = app;
  stale.entries = {stale.entries[5]};
  stale.entries[0].term = Term(2);
  auto bad = rpc::decode_batch(rpc::materialize(rpc::encode_batch_gathered(NodeId(1), NodeId(2), {stale})));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("Messages[0].Entries[0].Data: the batch at base offset 11, epoch 3 is not the entry's"),
            std::string::npos)
      << bad.error;
}

}  // namespace
}  // namespace millrace::raft
