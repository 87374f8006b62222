// Behaviour of one partition Log: append/read, bad input, idempotence, leader
// epochs, roll, recovery from torn and corrupt tails, truncation, retention,
// DeleteRecords, time lookups, group commit, full disk.
//
// A crash is simulated by copying the directory of a log that is still open
// (what kill -9 leaves: everything written is in the page cache, nothing was
// closed) and opening the copy.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include "storage/log.h"
#include "storage/segment.h"
#include "storage/test_util.h"

namespace millrace::storage {
namespace {

namespace fs = std::filesystem;
using testing::make_batch;
using testing::read_region;
using testing::Rec;
using testing::simple_batch;
using testing::TempDir;

class LogTest : public ::testing::Test {
 protected:
  std::shared_ptr<Log> open_log(LogConfig cfg = {}, const fs::path& where = {}) {
    LogOptions o;
    o.config = cfg;
    o.clock = [this] { return now_.load(); };
    o.append_buffer_bytes = buffer_bytes_;
    o.preallocate_bytes = preallocate_bytes_;
    auto r = Log::open(where.empty() ? dir_.path() / "t-0" : where, o);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : nullptr;
  }
  // What kill -9 leaves behind, opened as a new log.
  std::shared_ptr<Log> crash_copy(LogConfig cfg = {}) {
    fs::path copy = dir_.path() / ("crash" + std::to_string(++copies_));
    fs::copy(dir_.path() / "t-0", copy, fs::copy_options::recursive);
    crash_dir_ = copy;
    return open_log(cfg, copy);
  }
  Result<AppendResult> append(Log& log, std::vector<uint8_t> b, int32_t epoch = 0) {
    return log.append(b, LeaderEpoch(epoch));
  }
  std::vector<testing::ReadRecord> read_all(Log& log) {
    std::vector<testing::ReadRecord> out;
    int64_t o = log.log_start_offset().value();
    while (o < log.log_end_offset().value()) {
      auto r = log.read(Offset(o), 1 << 20, log.log_end_offset());
      EXPECT_TRUE(r.ok()) << r.status().to_string();
      if (!r.ok() || r->empty()) break;
      auto recs = testing::decode_records(read_region(*r));
      out.insert(out.end(), recs.begin(), recs.end());
      o = r->last_offset + 1;
    }
    return out;
  }

  int64_t log_file_size(int64_t base = 0) {
    return static_cast<int64_t>(fs::file_size(dir_.path() / "t-0" / segment_file_name(base, ".log")));
  }

  TempDir dir_;
  int64_t buffer_bytes_ = 0;  // LogOptions::append_buffer_bytes of open_log()
  int64_t preallocate_bytes_ = 0;
  std::atomic<int64_t> now_{1'000'000};
  fs::path crash_dir_;
  int copies_ = 0;
};

TEST_F(LogTest, AppendAssignsOffsetsAndReadReturnsWholeBatches) {
  auto log = open_log();
  for (int i = 0; i < 3; ++i) {
    auto r = append(*log, simple_batch(5));
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->base_offset.value(), i * 5);
    EXPECT_EQ(r->last_offset.value(), i * 5 + 4);
  }
  EXPECT_EQ(log->log_end_offset().value(), 15);
  EXPECT_EQ(log->high_watermark().value(), 15);

  auto all = log->read(Offset(0), 1 << 20, Offset(15));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->first_offset, 0);
  EXPECT_EQ(all->last_offset, 14);
  auto recs = testing::decode_records(read_region(*all));
  ASSERT_EQ(recs.size(), 15u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(recs[i].offset, i);

  auto mid = log->read(Offset(7), 1 << 20, Offset(15));
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(mid->first_offset, 5);  // the whole batch holding offset 7

  auto one = log->read(Offset(0), 1, Offset(15));  // smaller than one batch: still one batch
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->first_offset, 0);
  EXPECT_EQ(one->last_offset, 4);

  auto bounded = log->read(Offset(0), 1 << 20, Offset(10));  // batches below the bound only
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->last_offset, 9);

  EXPECT_TRUE(log->read(Offset(15), 1 << 20, Offset(15))->empty());
  EXPECT_EQ(log->read(Offset(16), 1 << 20, Offset(16)).code(), Errc::kOffsetOutOfRange);
}

TEST_F(LogTest, CorruptBatchIsRefusedAndNothingIsWritten) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  int64_t size = log->size_bytes();
  auto good = simple_batch(3);

  auto flipped = good;
  flipped.back() ^= 0x01;  // under the CRC
  EXPECT_EQ(append(*log, flipped).code(), Errc::kCorruptMessage);

  auto torn = good;
  torn.resize(torn.size() - 3);
  EXPECT_EQ(append(*log, torn).code(), Errc::kCorruptMessage);

  // A good batch followed by a bad one: neither is written.
  auto pair = good;
  pair.insert(pair.end(), flipped.begin(), flipped.end());
  EXPECT_EQ(append(*log, pair).code(), Errc::kCorruptMessage);

  auto old_magic = good;
  old_magic[record::kMagicOffset] = 1;
  EXPECT_EQ(append(*log, old_magic).code(), Errc::kUnsupportedMagic);

  EXPECT_EQ(append(*log, {}).code(), Errc::kCorruptMessage);

  LogConfig small;
  small.max_message_bytes = 100;
  log->update_config(small);
  EXPECT_EQ(append(*log, simple_batch(10)).code(), Errc::kMessageTooLarge);

  EXPECT_EQ(log->log_end_offset().value(), 2);
  EXPECT_EQ(log->size_bytes(), size);
}

TEST_F(LogTest, MultiBatchAppendIsAllOrNothingAndContiguous) {
  auto log = open_log();
  auto b = simple_batch(2);
  auto c = simple_batch(3);
  b.insert(b.end(), c.begin(), c.end());
  auto r = append(*log, b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->base_offset.value(), 0);
  EXPECT_EQ(r->last_offset.value(), 4);
  auto recs = read_all(*log);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[4].offset, 4);
}

TEST_F(LogTest, LeaderEpochIsStampedAndCached) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(2), 3).ok());  // 0..1
  ASSERT_TRUE(append(*log, simple_batch(2), 3).ok());  // 2..3
  ASSERT_TRUE(append(*log, simple_batch(2), 5).ok());  // 4..5
  auto r = log->read(Offset(0), 1, Offset(6));
  auto bytes = read_region(*r);
  EXPECT_EQ(record::parse_batch_header(bytes).header.partition_leader_epoch, 3);

  EXPECT_EQ(log->end_offset_for_epoch(LeaderEpoch(3)).end_offset.value(), 4);
  EXPECT_EQ(log->end_offset_for_epoch(LeaderEpoch(4)).epoch.value(), 3);
  EXPECT_EQ(log->end_offset_for_epoch(LeaderEpoch(4)).end_offset.value(), 4);
  EXPECT_EQ(log->end_offset_for_epoch(LeaderEpoch(5)).end_offset.value(), 6);
  EXPECT_EQ(log->end_offset_for_epoch(LeaderEpoch(1)).epoch.value(), -1);
  EXPECT_EQ(log->leader_epoch_start_offset(LeaderEpoch(5))->value(), 4);
  EXPECT_EQ(log->latest_epoch().value(), 5);

  ASSERT_TRUE(log->close().ok());
  auto again = open_log();
  EXPECT_EQ(again->end_offset_for_epoch(LeaderEpoch(3)).end_offset.value(), 4);
  // After a crash the epochs come back from the batches themselves.
  ASSERT_TRUE(append(*again, simple_batch(1), 9).ok());
  auto crashed = crash_copy();
  EXPECT_EQ(crashed->leader_epoch_start_offset(LeaderEpoch(9))->value(), 6);
}

TEST_F(LogTest, IdempotentProducerDuplicatesGapsAndFencing) {
  auto log = open_log();
  auto b0 = make_batch({{"a", "1"}, {"b", "2"}}, 42, 0, 0);
  auto r0 = append(*log, b0);
  ASSERT_TRUE(r0.ok());
  EXPECT_FALSE(r0->duplicate);
  ASSERT_TRUE(append(*log, simple_batch(3)).ok());  // someone else's records in between

  auto dup = append(*log, make_batch({{"a", "1"}, {"b", "2"}}, 42, 0, 0));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->base_offset.value(), 0);
  EXPECT_EQ(dup->last_offset.value(), 1);
  EXPECT_EQ(log->log_end_offset().value(), 5);

  EXPECT_EQ(append(*log, make_batch({{"c", "3"}}, 42, 0, 5)).code(), Errc::kOutOfOrderSequence);
  ASSERT_TRUE(append(*log, make_batch({{"c", "3"}}, 42, 0, 2)).ok());
  EXPECT_EQ(append(*log, make_batch({{"c", "3"}}, 42, -1 + 0, 3)).code(), Errc::kInvalidProducerEpoch);
  EXPECT_EQ(append(*log, make_batch({{"d", "4"}}, 42, 1, 7)).code(), Errc::kOutOfOrderSequence);
  ASSERT_TRUE(append(*log, make_batch({{"d", "4"}}, 42, 1, 0)).ok());  // new epoch starts at 0
  EXPECT_EQ(append(*log, make_batch({{"d", "4"}}, 42, 0, 3)).code(), Errc::kInvalidProducerEpoch);

  // State survives a clean restart and a crash.
  auto crashed = crash_copy();
  auto d1 = append(*crashed, make_batch({{"d", "4"}}, 42, 1, 0));
  ASSERT_TRUE(d1.ok());
  EXPECT_TRUE(d1->duplicate);
  ASSERT_TRUE(log->close().ok());
  auto again = open_log();
  auto d2 = append(*again, make_batch({{"d", "4"}}, 42, 1, 0));
  ASSERT_TRUE(d2.ok());
  EXPECT_TRUE(d2->duplicate);
  EXPECT_EQ(d2->base_offset.value(), 6);
}

TEST_F(LogTest, IdempotenceIsCheckedPerBatchOfOneAppend) {
  auto log = open_log();
  auto cat = [](std::vector<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  auto two = [&] { return cat({make_batch({{"a", "1"}, {"b", "2"}}, 7, 0, 0), make_batch({{"c", "3"}, {"d", "4"}}, 7, 0, 2)}); };
  auto first = append(*log, two());
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(first->last_offset.value(), 3);
  // The retried request: both batches are duplicates, original offsets back.
  auto retry = append(*log, two());
  ASSERT_TRUE(retry.ok()) << retry.status().to_string();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->base_offset.value(), 0);
  EXPECT_EQ(retry->last_offset.value(), 3);
  EXPECT_EQ(log->log_end_offset().value(), 4);
  // A gap after the first batch of one append.
  auto gap = append(*log, cat({make_batch({{"e", "5"}}, 7, 0, 4), make_batch({{"f", "6"}}, 7, 0, 6)}));
  EXPECT_EQ(gap.code(), Errc::kOutOfOrderSequence);
  // The same batch twice in one append.
  auto twice = append(*log, cat({make_batch({{"e", "5"}}, 7, 0, 4), make_batch({{"e", "5"}}, 7, 0, 4)}));
  EXPECT_EQ(twice.code(), Errc::kOutOfOrderSequence);
  // A duplicate followed by a new batch.
  auto mixed = append(*log, cat({make_batch({{"c", "3"}, {"d", "4"}}, 7, 0, 2), make_batch({{"e", "5"}}, 7, 0, 4)}));
  EXPECT_EQ(mixed.code(), Errc::kOutOfOrderSequence);
  EXPECT_EQ(log->log_end_offset().value(), 4);  // nothing of the refused appends was written
  // Two producers interleaved in one append, each in sequence.
  auto both = append(*log, cat({make_batch({{"e", "5"}}, 7, 0, 4), make_batch({{"x", "1"}}, 8, 0, 0),
                                make_batch({{"f", "6"}}, 7, 0, 5), make_batch({{"y", "2"}}, 8, 0, 1)}));
  ASSERT_TRUE(both.ok()) << both.status().to_string();
  EXPECT_EQ(both->base_offset.value(), 4);
  EXPECT_EQ(both->last_offset.value(), 7);
  EXPECT_EQ(read_all(*log).size(), 8u);
}

TEST_F(LogTest, RollsBySizeAndTimeAndReadsAcrossSegments) {
  LogConfig cfg;
  cfg.segment_bytes = 1000;
  auto log = open_log(cfg);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(append(*log, simple_batch(2, 1000, 50)).ok());
  EXPECT_GT(log->segment_count(), 3);
  auto recs = read_all(*log);
  ASSERT_EQ(recs.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(recs[i].offset, i);

  cfg.segment_bytes = 1 << 30;
  cfg.segment_ms = 1000;
  log->update_config(cfg);
  int before = log->segment_count();
  ASSERT_TRUE(append(*log, simple_batch(1)).ok());
  now_ += 2000;
  ASSERT_TRUE(log->enforce_retention().ok());
  EXPECT_EQ(log->segment_count(), before + 1);
}

TEST_F(LogTest, CleanReopenKeepsEverythingWithoutScanning) {
  LogConfig cfg;
  cfg.segment_bytes = 2000;
  {
    auto log = open_log(cfg);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(append(*log, simple_batch(3, 1000 + i)).ok());
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(cfg);
  EXPECT_TRUE(log->recovery_info().clean_shutdown);
  EXPECT_EQ(log->recovery_info().segments_scanned, 0);
  EXPECT_EQ(log->log_end_offset().value(), 90);
  EXPECT_EQ(read_all(*log).size(), 90u);
  auto r = append(*log, simple_batch(1));
  EXPECT_EQ(r->base_offset.value(), 90);
}

TEST_F(LogTest, TornTailIsTruncatedToLastWholeBatch) {
  auto log = open_log();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  int64_t whole = log->size_bytes();
  auto copy_log = [&] { return crash_dir_ / segment_file_name(0, ".log"); };
  // Copy, then tear: half of a sixth batch at the end.
  fs::path copy = dir_.path() / "torn";
  fs::copy(dir_.path() / "t-0", copy, fs::copy_options::recursive);
  crash_dir_ = copy;
  auto extra = simple_batch(2);
  {
    std::ofstream f(copy_log(), std::ios::app | std::ios::binary);
    f.write(reinterpret_cast<const char*>(extra.data()), static_cast<long>(extra.size() / 2));
  }
  auto rec = open_log({}, copy);
  ASSERT_TRUE(rec);
  EXPECT_FALSE(rec->recovery_info().clean_shutdown);
  EXPECT_EQ(rec->recovery_info().bytes_truncated, static_cast<int64_t>(extra.size() / 2));
  EXPECT_EQ(rec->log_end_offset().value(), 10);
  EXPECT_EQ(rec->size_bytes(), whole);
  EXPECT_EQ(fs::file_size(copy_log()), static_cast<uintmax_t>(whole));
  EXPECT_EQ(append(*rec, simple_batch(1))->base_offset.value(), 10);
}

TEST_F(LogTest, CorruptByteTruncatesFromThatBatchAndDropsLaterSegments) {
  LogConfig cfg;
  cfg.segment_bytes = 600;
  auto log = open_log(cfg);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(append(*log, simple_batch(2, 1000, 40)).ok());
  ASSERT_GE(log->segment_count(), 3);
  fs::path copy = dir_.path() / "corrupt";
  fs::copy(dir_.path() / "t-0", copy, fs::copy_options::recursive);
  // Flip a byte inside the second batch of the first segment.
  fs::path first = copy / segment_file_name(0, ".log");
  auto bytes = testing::read_region(*log->read(Offset(0), 1, Offset(2)));
  int64_t second_batch = static_cast<int64_t>(bytes.size());
  {
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(second_batch + 70);
    char c = 0;
    f.seekg(second_batch + 70);
    f.read(&c, 1);
    c ^= 0x20;
    f.seekp(second_batch + 70);
    f.write(&c, 1);
  }
  // Recovery starts at 0 because the partition checkpoint is gone as well.
  fs::remove(copy / "partition.checkpoint");
  auto rec = open_log(cfg, copy);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->log_end_offset().value(), 2);
  EXPECT_EQ(rec->segment_count(), 1);
  EXPECT_EQ(read_all(*rec).size(), 2u);
}

TEST_F(LogTest, DamageAfterCleanShutdownIsRecoveredNotTrusted) {
  {
    auto log = open_log();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(append(*log, simple_batch(2)).ok());
    ASSERT_TRUE(log->close().ok());
  }
  fs::path seg = dir_.path() / "t-0" / segment_file_name(0, ".log");
  auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 10);  // the last batch is torn although the marker says clean
  auto log = open_log();
  ASSERT_TRUE(log);
  EXPECT_FALSE(log->recovery_info().clean_shutdown);
  EXPECT_EQ(log->log_end_offset().value(), 6);
  EXPECT_EQ(read_all(*log).size(), 6u);
}

TEST_F(LogTest, FailedOpenLeavesNoCleanMarker) {
  {
    auto log = open_log();
    ASSERT_TRUE(append(*log, simple_batch(2)).ok());
    ASSERT_TRUE(log->roll().ok());
    ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  }
  fs::path seg = dir_.path() / "t-0" / segment_file_name(0, ".log");
  fs::remove(seg);
  fs::create_directory(seg);
  fs::remove(dir_.path() / "t-0" / ".clean_shutdown");
  ASSERT_FALSE(Log::open(dir_.path() / "t-0", LogOptions{}).ok());
  EXPECT_FALSE(fs::exists(dir_.path() / "t-0" / ".clean_shutdown"));
}

TEST_F(LogTest, UnreadableSegmentIsReportedNotSkipped) {
  {
    auto log = open_log();
    ASSERT_TRUE(append(*log, simple_batch(2)).ok());
    ASSERT_TRUE(log->roll().ok());
    ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  }
  fs::path seg = dir_.path() / "t-0" / segment_file_name(0, ".log");
  fs::remove(seg);
  fs::create_directory(seg);  // a .log that cannot be read as a file
  LogOptions o;
  auto r = Log::open(dir_.path() / "t-0", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::kCorruptSegment);
}

// The new segment has the old one's name: it must not be unlinked with it.
TEST_F(LogTest, TruncateFullyAtTheActiveSegmentsBaseKeepsLaterAppends) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(3)).ok());
  ASSERT_TRUE(log->truncate_fully_and_start_at(Offset(0)).ok());
  ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  ASSERT_TRUE(log->close().ok());
  log = open_log();
  EXPECT_EQ(log->log_end_offset(), Offset(2));
  EXPECT_EQ(read_all(*log).size(), 2u);
}

TEST_F(LogTest, TruncateToRemovesWholeBatchesAndFollowsEpochs) {
  LogConfig cfg;
  cfg.segment_bytes = 500;
  auto log = open_log(cfg);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(append(*log, simple_batch(3), i < 5 ? 1 : 2).ok());
  ASSERT_TRUE(log->truncate_to(Offset(16)).ok());  // batch 15..17 goes whole
  EXPECT_EQ(log->log_end_offset().value(), 15);
  EXPECT_EQ(log->latest_epoch().value(), 1);
  EXPECT_EQ(read_all(*log).size(), 15u);
  EXPECT_EQ(append(*log, simple_batch(1), 3)->base_offset.value(), 15);
  EXPECT_EQ(log->leader_epoch_start_offset(LeaderEpoch(3))->value(), 15);
  auto crashed = crash_copy(cfg);
  EXPECT_EQ(crashed->log_end_offset().value(), 16);
}

TEST_F(LogTest, RetentionByBytesAndTimeDeletesWholeOldSegments) {
  LogConfig cfg;
  cfg.segment_bytes = 500;
  auto log = open_log(cfg);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(append(*log, simple_batch(2, 1000 + i * 100, 30)).ok());
  int segs = log->segment_count();
  cfg.retention_bytes = 1000;
  log->update_config(cfg);
  auto d = log->enforce_retention();
  ASSERT_TRUE(d.ok());
  EXPECT_GT(*d, 0);
  EXPECT_EQ(log->segment_count(), segs - *d);
  EXPECT_GE(log->size_bytes(), 1000 - 500);
  EXPECT_GT(log->log_start_offset().value(), 0);
  EXPECT_EQ(log->read(Offset(0), 100, Offset(40)).code(), Errc::kOffsetOutOfRange);

  cfg.retention_bytes = -1;
  cfg.retention_ms = 10;
  log->update_config(cfg);
  now_ = 1000 + 20 * 100 + 100;  // every batch older than 10 ms
  ASSERT_TRUE(log->enforce_retention().ok());
  EXPECT_EQ(log->segment_count(), 1);  // the active segment stays
  EXPECT_EQ(log->log_start_offset().value(), log->log_end_offset().value() -
                                                 static_cast<int64_t>(read_all(*log).size()));
}

TEST_F(LogTest, DeleteRecordsMovesLogStart) {
  LogConfig cfg;
  cfg.segment_bytes = 400;
  auto log = open_log(cfg);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  EXPECT_EQ(log->delete_records_before(Offset(21)).code(), Errc::kOffsetOutOfRange);
  auto r = log->delete_records_before(Offset(7));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(log->log_start_offset().value(), 7);
  EXPECT_EQ(log->read(Offset(6), 100, Offset(20)).code(), Errc::kOffsetOutOfRange);
  EXPECT_TRUE(log->read(Offset(7), 100, Offset(20)).ok());
  ASSERT_TRUE(log->close().ok());
  EXPECT_EQ(open_log(cfg)->log_start_offset().value(), 7);
}

// A replicated partition's commit: the high watermark and the log start move
// together, the start never past the new high watermark and never down.
TEST_F(LogTest, HighWatermarkAndLogStartMoveTogether) {
  LogConfig cfg;
  cfg.segment_bytes = 400;
  auto log = open_log(cfg);
  log->set_manual_high_watermark();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  log->set_high_watermark(Offset(4));
  auto r = log->set_high_watermark_and_log_start(Offset(8), Offset(15));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, Offset(8)) << "clamped to the new high watermark";
  EXPECT_EQ(log->high_watermark(), Offset(8));
  EXPECT_EQ(log->log_start_offset(), Offset(8));
  r = log->set_high_watermark_and_log_start(Offset(20), Offset(15));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Offset(15));
  EXPECT_EQ(log->read(Offset(14), 100, Offset(20)).code(), Errc::kOffsetOutOfRange);
  r = log->set_high_watermark_and_log_start(Offset(20), Offset(3));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Offset(15)) << "never down";
  ASSERT_TRUE(log->close().ok());
  EXPECT_EQ(open_log(cfg)->log_start_offset().value(), 15);
}

TEST_F(LogTest, OffsetForTimestamp) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, make_batch({{"a", "1", 1000}, {"b", "2", 1100}})).ok());  // 0,1
  ASSERT_TRUE(log->roll().ok());
  ASSERT_TRUE(append(*log, make_batch({{"c", "3", 2000}, {"d", "4", 2500}})).ok());  // 2,3
  auto at = [&](int64_t ts) { return *log->offset_for_timestamp(ts); };
  EXPECT_EQ(at(0)->offset.value(), 0);
  EXPECT_EQ(at(1050)->offset.value(), 1);
  EXPECT_EQ(at(1050)->timestamp, 1100);
  EXPECT_EQ(at(1101)->offset.value(), 2);
  EXPECT_EQ(at(2100)->offset.value(), 3);
  EXPECT_FALSE(at(2501).has_value());
  EXPECT_EQ(at(-1)->offset.value(), 4);
  EXPECT_EQ(at(-2)->offset.value(), 0);
  EXPECT_EQ(at(-3)->timestamp, 2500);
}

TEST_F(LogTest, LogAppendTimeStampsTheBatch) {
  LogConfig cfg;
  cfg.log_append_time = true;
  auto log = open_log(cfg);
  auto r = append(*log, make_batch({{"a", "1", 5}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->log_append_time_ms, now_.load());
  auto recs = read_all(*log);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].timestamp, now_.load());
  auto region = log->read(Offset(0), 100, Offset(1));
  EXPECT_EQ(record::validate_batch(read_region(*region)), record::BatchError::kOk);
}

TEST_F(LogTest, GroupCommitCompletesEveryWaiterAfterFsync) {
  auto log = open_log();
  std::atomic<int> done{0}, failed{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto r = append(*log, simple_batch(4));
        if (!r.ok()) { ++failed; continue; }
        std::promise<Status> p;
        log->flush_up_to(r->last_offset + 1, [&](Status s) { p.set_value(s); });
        Status s = p.get_future().get();
        if (!s.ok() || log->recovery_point() <= r->last_offset) ++failed;
        ++done;
      }
    });
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(done.load(), 200);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(log->recovery_point().value(), 800);
}

TEST_F(LogTest, FullDiskIsAnErrorAndTheLogStaysUsable) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  int64_t size = log->size_bytes();
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  rlimit lim = old;
  lim.rlim_cur = static_cast<rlim_t>(size + 100);  // the next batch does not fit
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
  auto r = append(*log, simple_batch(20, 1000, 50));
  ::setrlimit(RLIMIT_FSIZE, &old);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::kStorageFull);
  EXPECT_EQ(log->log_end_offset().value(), 2);
  EXPECT_EQ(fs::file_size(dir_.path() / "t-0" / segment_file_name(0, ".log")), static_cast<uintmax_t>(size));
  auto ok = append(*log, simple_batch(1));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->base_offset.value(), 2);
  EXPECT_EQ(read_all(*log).size(), 3u);
  auto crashed = crash_copy();
  EXPECT_EQ(crashed->log_end_offset().value(), 3);
}

TEST_F(LogTest, ReplicatedAppendKeepsOffsetsAndEpochs) {
  auto leader = open_log({}, dir_.path() / "leader");
  ASSERT_TRUE(append(*leader, simple_batch(3), 4).ok());
  ASSERT_TRUE(append(*leader, simple_batch(2), 6).ok());
  auto region = leader->read(Offset(0), 1 << 20, Offset(5));
  auto bytes = read_region(*region);
  auto follower = open_log();
  auto r = follower->append_replicated(bytes);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->last_offset.value(), 4);
  EXPECT_EQ(follower->leader_epoch_start_offset(LeaderEpoch(6))->value(), 3);
  EXPECT_EQ(follower->append_replicated(bytes).code(), Errc::kInvalidArgument);
}

// A batch at `base` of n records: data, a Raft entry (control) or a
// transaction marker (control and transactional).
std::vector<uint8_t> batch_at(int64_t base, int n, bool control, bool transactional) {
  record::BatchOptions o;
  o.base_offset = base;
  o.partition_leader_epoch = 1;
  o.control = control;
  o.transactional = transactional;
  if (transactional) {
    o.producer_id = 9;
    o.producer_epoch = 0;
  }
  record::BatchBuilder b(o);
  const std::vector<uint8_t> key = {0, 0, 0, static_cast<uint8_t>(transactional ? 1 : 2)};
  for (int i = 0; i < n; ++i)
    b.append(1000, control ? std::optional<record::Bytes>(key) : std::nullopt, record::as_bytes(std::string("v")));
  std::vector<uint8_t> out;
  EXPECT_TRUE(b.finish(out).ok());
  return out;
}

// A consumer's read (ReadFilter::kNoRaftControl) never mixes Raft's own
// entries (control, not transactional) with other batches: at one it gets that
// batch alone, marked; otherwise it stops before one. Transaction markers
// (control and transactional) are read like data.
TEST_F(LogTest, ReadWithoutRaftControlNeverMixesThemWithData) {
  std::vector<uint8_t> all;
  for (auto part : {batch_at(0, 3, false, false), batch_at(3, 1, true, false), batch_at(4, 2, false, false),
                    batch_at(6, 1, true, true), batch_at(7, 1, false, false)})
    all.insert(all.end(), part.begin(), part.end());
  auto log = open_log();
  auto appended = log->append_replicated(all);
  ASSERT_TRUE(appended.ok()) << appended.status().to_string();
  const Offset end = log->log_end_offset();
  ASSERT_EQ(end.value(), 8);
  auto whole = log->read(Offset(0), 1 << 20, end);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->last_offset, 7) << "kAll reads across control batches";
  EXPECT_FALSE(whole->raft_control);
  auto data = log->read(Offset(1), 1 << 20, end, ReadFilter::kNoRaftControl);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->first_offset, 0);
  EXPECT_EQ(data->last_offset, 2) << "stops before the Raft control batch";
  EXPECT_FALSE(data->raft_control);
  auto control = log->read(Offset(3), 1 << 20, end, ReadFilter::kNoRaftControl);
  ASSERT_TRUE(control.ok());
  EXPECT_TRUE(control->raft_control);
  EXPECT_EQ(control->first_offset, 3);
  EXPECT_EQ(control->last_offset, 3) << "the control batch alone (a run of one)";
  auto rest = log->read(Offset(4), 1 << 20, end, ReadFilter::kNoRaftControl);
  ASSERT_TRUE(rest.ok());
  EXPECT_FALSE(rest->raft_control);
  EXPECT_EQ(rest->first_offset, 4);
  EXPECT_EQ(rest->last_offset, 7) << "a transaction marker is read like data";
}

// Where a consumer's data ends (Log::data_end): the end of the last batch that
// is not Raft's own. Kept by every append, found by a scan back through the
// index after a reopen or a truncation below it; the high watermark consumers
// are told (consumer_end) stops there. A run of Raft's entries, however long,
// is one region of a consumer's read.
TEST_F(LogTest, DataEndsAtTheLastBatchThatIsNotRaftsOwn) {
  LogConfig cfg;
  cfg.index_interval_bytes = 128;  // several index entries for the scan to go back over
  {
    auto log = open_log(cfg);
    std::vector<uint8_t> all;
    auto add = [&all](const std::vector<uint8_t>& b) { all.insert(all.end(), b.begin(), b.end()); };
    add(batch_at(0, 3, false, false));
    add(batch_at(3, 1, true, true));  // a transaction marker is data
    for (int i = 0; i < 100; ++i) add(batch_at(4 + i, 1, true, false));  // Raft's entries [4, 103]
    ASSERT_TRUE(log->append_replicated(all).ok());
    EXPECT_EQ(log->data_end(), Offset(4));
    EXPECT_EQ(log->consumer_end(Offset(104)), Offset(4)) << "the run of Raft's entries is not counted";
    EXPECT_EQ(log->consumer_end(Offset(2)), Offset(2)) << "never above the high watermark";
    auto run = log->read(Offset(4), 1 << 20, Offset(104), ReadFilter::kNoRaftControl);
    ASSERT_TRUE(run.ok());
    EXPECT_TRUE(run->raft_control);
    EXPECT_EQ(run->first_offset, 4);
    EXPECT_EQ(run->last_offset, 103) << "100 Raft entries, one region";
    auto bounded = log->read(Offset(50), 1 << 20, Offset(60), ReadFilter::kNoRaftControl);
    ASSERT_TRUE(bounded.ok());
    EXPECT_EQ(bounded->first_offset, 50);
    EXPECT_EQ(bounded->last_offset, 59) << "below the bound only";
    ASSERT_TRUE(log->close().ok());
  }
  {
    auto log = open_log(cfg);  // clean: nothing scanned at open; data_end is found when asked
    EXPECT_EQ(log->data_end(), Offset(4));
    auto more = batch_at(104, 2, false, false);
    ASSERT_TRUE(log->append_replicated(more).ok());
    EXPECT_EQ(log->data_end(), Offset(106));
    EXPECT_EQ(log->consumer_end(Offset(106)), Offset(106));
    ASSERT_TRUE(log->truncate_to(Offset(60)).ok());
    EXPECT_EQ(log->data_end(), Offset(4)) << "found again after the truncation";
    auto record = batch_at(60, 1, false, false), entry = batch_at(61, 1, true, false);
    ASSERT_TRUE(log->append_replicated(record).ok());
    ASSERT_TRUE(log->append_replicated(entry).ok());
  }
  auto crashed = crash_copy(cfg);  // kill -9: recovered by a scan, data_end found after it
  EXPECT_EQ(crashed->data_end(), Offset(61));
  ASSERT_TRUE(crashed->truncate_to(Offset(2)).ok());  // the batch [0, 2] goes whole
  EXPECT_EQ(crashed->data_end(), Offset(0)) << "no data left: the log start";
  EXPECT_EQ(crashed->consumer_end(crashed->log_end_offset()), Offset(0));
}

TEST_F(LogTest, CompactionDropsTombstonesOnlyAfterDeleteRetention) {
  LogConfig cfg;
  cfg.cleanup_compact = true;
  cfg.cleanup_delete = false;
  cfg.delete_retention_ms = 1000;
  cfg.min_cleanable_dirty_ratio = 0.5;
  auto log = open_log(cfg);
  ASSERT_TRUE(append(*log, make_batch({{"a", "1", 1000}, {"b", "1", 1000}, {"c", "1", 1000}})).ok());  // 0..2
  ASSERT_TRUE(append(*log, make_batch({{"a", std::nullopt, 1000}})).ok());                            // 3: old tombstone
  ASSERT_TRUE(append(*log, make_batch({{"b", std::nullopt, now_.load()}})).ok());                     // 4: young tombstone
  ASSERT_TRUE(append(*log, make_batch({{"c", "2", now_.load()}})).ok());                              // 5
  ASSERT_TRUE(log->roll().ok());
  ASSERT_GT(log->dirty_ratio(), 0.99);
  auto st = log->compact();  // dirty enough: runs
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->records_removed, 4);  // a=1, b=1, c=1 superseded; a's tombstone expired
  EXPECT_EQ(log->dirty_ratio(), 0.0);
  auto recs = read_all(*log);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].offset, 4);
  EXPECT_FALSE(recs[0].value.has_value());
  EXPECT_EQ(recs[1].offset, 5);
  EXPECT_EQ(*recs[1].value, "2");
  EXPECT_EQ(log->log_end_offset().value(), 6);
  EXPECT_EQ(append(*log, simple_batch(1))->base_offset.value(), 6);  // offsets never move
  auto again = log->compact();  // nothing dirty below the active segment: no work
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->segments_cleaned, 0);
}

TEST_F(LogTest, FlushPolicyByMessagesAndTime) {
  LogConfig cfg;
  cfg.flush_messages = 5;
  auto log = open_log(cfg);
  ASSERT_TRUE(append(*log, simple_batch(3)).ok());
  EXPECT_EQ(log->recovery_point().value(), 0);
  ASSERT_TRUE(append(*log, simple_batch(3)).ok());  // 6 unflushed >= 5: fsynced in append
  EXPECT_EQ(log->recovery_point().value(), 6);
  cfg.flush_messages = INT64_MAX;
  cfg.flush_ms = 100;
  log->update_config(cfg);
  ASSERT_TRUE(append(*log, simple_batch(1)).ok());
  ASSERT_TRUE(log->maybe_flush().ok());
  EXPECT_EQ(log->recovery_point().value(), 6);  // not due yet
  now_ += 150;
  ASSERT_TRUE(log->maybe_flush().ok());
  EXPECT_EQ(log->recovery_point().value(), 7);
}

TEST_F(LogTest, HighWatermarkOnFlushPolicy) {
  LogOptions o;
  o.hw_policy = HwPolicy::kOnFlush;
  auto log = *Log::open(dir_.path() / "hw", o);
  auto b = simple_batch(4);
  ASSERT_TRUE(log->append(b, LeaderEpoch(0)).ok());
  EXPECT_EQ(log->high_watermark().value(), 0);
  EXPECT_TRUE(log->read(Offset(0), 1 << 20, log->high_watermark())->empty());  // consumers see nothing yet
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->high_watermark().value(), 4);
  o.hw_policy = HwPolicy::kManual;
  auto manual = *Log::open(dir_.path() / "manual", o);
  auto c = simple_batch(4);
  ASSERT_TRUE(manual->append(c, LeaderEpoch(0)).ok());
  ASSERT_TRUE(manual->flush().ok());
  EXPECT_EQ(manual->high_watermark().value(), 0);
  manual->set_high_watermark(Offset(10));  // clamped to the log end
  EXPECT_EQ(manual->high_watermark().value(), 4);
}

TEST_F(LogTest, ClosedLogRefusesCalls) {
  auto log = open_log();
  ASSERT_TRUE(log->close().ok());
  EXPECT_EQ(append(*log, simple_batch(1)).code(), Errc::kClosed);
  EXPECT_EQ(log->read(Offset(0), 1, Offset(0)).code(), Errc::kClosed);
}

}  // namespace
}  // namespace millrace::storage

namespace millrace::storage {
namespace {

// ---- append buffer (LogOptions::append_buffer_bytes) ----

class BufferedLogTest : public LogTest {
 protected:
  BufferedLogTest() { buffer_bytes_ = 64 << 10; }
};

TEST_F(BufferedLogTest, AppendStaysInTheBufferUntilAReadNeedsIt) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(3)).ok());
  ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  EXPECT_EQ(log_file_size(), 0);  // nothing written yet
  EXPECT_EQ(log->written_end_offset().value(), 0);
  auto r = log->read(Offset(3), 1 << 20, log->log_end_offset());  // the second batch
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->first_offset, 3);
  EXPECT_EQ(r->last_offset, 4);
  EXPECT_EQ(testing::decode_records(read_region(*r)).size(), 2u);
  EXPECT_EQ(log_file_size(), log->size_bytes());
  EXPECT_EQ(log->written_end_offset().value(), 5);
}

TEST_F(BufferedLogTest, ReadBelowTheBufferedTailDoesNotWriteItOut) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(3)).ok());
  ASSERT_TRUE(log->flush().ok());
  const int64_t flushed_size = log_file_size();
  ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  auto r = log->read(Offset(0), 1 << 20, log->log_end_offset());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->last_offset, 2);  // only what is in the file
  EXPECT_EQ(log_file_size(), flushed_size);
  auto tail = log->read(Offset(r->last_offset + 1), 1 << 20, log->log_end_offset());
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->first_offset, 3);
  EXPECT_EQ(read_all(*log).size(), 5u);
}

TEST_F(BufferedLogTest, KillLosesOnlyTheUnwrittenTailAndFlushMakesItDurable) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(4)).ok());
  ASSERT_TRUE(log->write_out_buffer().ok());
  ASSERT_TRUE(append(*log, simple_batch(3)).ok());
  EXPECT_EQ(log->written_end_offset().value(), 4);
  auto crashed = crash_copy();
  EXPECT_EQ(crashed->log_end_offset().value(), 4);  // a clean prefix: the written part
  EXPECT_EQ(read_all(*crashed).size(), 4u);
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(log->recovery_point().value(), 7);
  auto after_flush = crash_copy();
  EXPECT_EQ(after_flush->log_end_offset().value(), 7);
  EXPECT_EQ(read_all(*after_flush).size(), 7u);
}

TEST_F(BufferedLogTest, GroupCommitWritesTheBufferBeforeItsFsync) {
  auto log = open_log();
  auto r = append(*log, simple_batch(5));
  ASSERT_TRUE(r.ok());
  std::promise<Status> p;
  log->flush_up_to(r->last_offset + 1, [&](Status s) { p.set_value(s); });
  ASSERT_TRUE(p.get_future().get().ok());
  EXPECT_EQ(log_file_size(), log->size_bytes());
  EXPECT_EQ(crash_copy()->log_end_offset().value(), 5);
}

TEST_F(BufferedLogTest, RollAndCloseWriteTheTailAndReopenKeepsEverything) {
  LogConfig cfg;
  cfg.segment_bytes = 1000;
  auto log = open_log(cfg);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(append(*log, simple_batch(4, 1000, 40)).ok());
  ASSERT_GT(log->segment_count(), 2);
  // Every sealed segment is whole in its file: a crash keeps all of them.
  const int64_t written = log->written_end_offset().value();
  EXPECT_LT(written, 48);  // the active segment's tail is still buffered
  EXPECT_GT(written, 0);   // sealed segments are whole in their files
  auto crashed = crash_copy(cfg);
  EXPECT_EQ(crashed->log_end_offset().value(), written);
  ASSERT_TRUE(log->close().ok());
  auto again = open_log(cfg);
  EXPECT_TRUE(again->recovery_info().clean_shutdown);
  EXPECT_EQ(again->log_end_offset().value(), 48);
  EXPECT_EQ(read_all(*again).size(), 48u);
}

TEST_F(BufferedLogTest, TimeLookupAndTruncationSeeBufferedBatches) {
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(2, 1000)).ok());
  ASSERT_TRUE(append(*log, simple_batch(2, 5000)).ok());
  ASSERT_TRUE(append(*log, simple_batch(2, 9000)).ok());
  auto t = log->offset_for_timestamp(4000);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->offset.value(), 2);
  ASSERT_TRUE(append(*log, simple_batch(2, 9500)).ok());
  ASSERT_TRUE(log->truncate_to(Offset(5)).ok());
  EXPECT_EQ(log->log_end_offset().value(), 4);
  ASSERT_TRUE(append(*log, simple_batch(1)).ok());
  EXPECT_EQ(read_all(*log).size(), 5u);
  ASSERT_TRUE(log->flush().ok());
  EXPECT_EQ(crash_copy()->log_end_offset().value(), 5);
}

TEST_F(BufferedLogTest, FullDiskWhileWritingAChunkRefusesTheAppendWhole) {
  buffer_bytes_ = 8192;
  auto log = open_log();
  ASSERT_TRUE(append(*log, simple_batch(2)).ok());
  ASSERT_TRUE(log->flush().ok());
  int64_t size = log->size_bytes();
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  rlimit lim = old;
  lim.rlim_cur = static_cast<rlim_t>(size + 100);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
  auto r = append(*log, simple_batch(20, 1000, 500));  // > 8 KiB: needs a chunk write
  ::setrlimit(RLIMIT_FSIZE, &old);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::kStorageFull);
  EXPECT_EQ(log->log_end_offset().value(), 2);
  EXPECT_EQ(log_file_size(), size);
  auto ok = append(*log, simple_batch(1));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->base_offset.value(), 2);
  EXPECT_EQ(read_all(*log).size(), 3u);
}

TEST_F(BufferedLogTest, PreallocatedBlocksAreGivenBackAtClose) {
  preallocate_bytes_ = 4 << 20;
  auto log = open_log();
  // Steps grow with the segment (tail_writer.h): write 1 MiB or so first.
  while (log->size_bytes() < (1 << 20)) ASSERT_TRUE(append(*log, simple_batch(50, 1000, 1000)).ok());
  ASSERT_TRUE(log->flush().ok());
  struct stat st{};
  fs::path file = dir_.path() / "t-0" / segment_file_name(0, ".log");
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  const int64_t size = log->size_bytes();
  EXPECT_GE(static_cast<int64_t>(st.st_blocks) * 512, size + (256 << 10));
  EXPECT_EQ(log_file_size(), size);
  ASSERT_TRUE(log->close().ok());
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_LT(static_cast<int64_t>(st.st_blocks) * 512, size + (64 << 10));
}

}  // namespace
}  // namespace millrace::storage
