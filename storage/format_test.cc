// LevelDB-style tests of every storage metadata format: round trip, flip each
// byte, truncate at each length, fix the checksum after a semantic change, and
// assert the exact outcome.
#include <gtest/gtest.h>

#include "protocol/record/crc32c.h"
#include "storage/checkpoint.h"
#include "storage/index_file.h"
#include "storage/producer_state.h"
#include "storage/test_util.h"

namespace millrace::storage {
namespace {

void fix_crc(std::vector<uint8_t>& b) {
  uint32_t crc = record::crc32c(0, b.data(), b.size() - 4);
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
}

// ---- partition.checkpoint ----

TEST(PartitionCheckpointFormat, RoundTrip) {
  PartitionCheckpoint c{100, 7, 99, 50};
  auto bytes = encode_partition_checkpoint(c);
  ASSERT_EQ(bytes.size(), kPartitionCheckpointSize);
  EXPECT_EQ(bytes[0], kPartitionCheckpointVersion);
  auto d = decode_partition_checkpoint(bytes);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(*d, c);
}

TEST(PartitionCheckpointFormat, EveryFlippedByteIsCorrupt) {
  auto good = encode_partition_checkpoint({100, 7, 99, 50});
  for (size_t i = 0; i < good.size(); ++i) {
    auto b = good;
    b[i] ^= 0x01;
    auto d = decode_partition_checkpoint(b);
    ASSERT_FALSE(d.ok()) << "byte " << i;
    EXPECT_EQ(d.code(), Errc::kCorruptSegment);
  }
}

TEST(PartitionCheckpointFormat, EveryTruncationIsCorrupt) {
  auto good = encode_partition_checkpoint({1, 2, 3, 4});
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> b(good.begin(), good.begin() + static_cast<long>(n));
    EXPECT_EQ(decode_partition_checkpoint(b).code(), Errc::kCorruptSegment) << n;
  }
}

TEST(PartitionCheckpointFormat, UnknownVersionWithValidChecksum) {
  auto b = encode_partition_checkpoint({1, 2, 3, 4});
  b[0] = 2;
  fix_crc(b);
  auto d = decode_partition_checkpoint(b);
  EXPECT_EQ(d.code(), Errc::kCorruptSegment);
  EXPECT_NE(d.status().message().find("unknown version 2"), std::string::npos);
}

TEST(PartitionCheckpointFormat, NegativeOffsetWithValidChecksum) {
  auto b = encode_partition_checkpoint({1, 2, 3, 4});
  b[1] = 0xff;  // recovery point becomes negative
  fix_crc(b);
  auto d = decode_partition_checkpoint(b);
  EXPECT_EQ(d.code(), Errc::kCorruptSegment);
  EXPECT_NE(d.status().message().find("negative"), std::string::npos);
}

// ---- leader-epoch.checkpoint ----

TEST(EpochCheckpointFormat, RoundTripEmptyAndFull) {
  for (const auto& entries : {std::vector<EpochEntry>{}, std::vector<EpochEntry>{{0, 0}, {3, 10}, {7, 10}}}) {
    auto d = decode_epoch_checkpoint(encode_epoch_checkpoint(entries));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, entries);
  }
}

TEST(EpochCheckpointFormat, FlipsAndTruncationsAreCorrupt) {
  auto good = encode_epoch_checkpoint({{0, 0}, {3, 10}});
  for (size_t i = 0; i < good.size(); ++i) {
    auto b = good;
    b[i] ^= 0x80;
    EXPECT_EQ(decode_epoch_checkpoint(b).code(), Errc::kCorruptSegment) << "flip " << i;
  }
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(decode_epoch_checkpoint({good.begin(), good.begin() + static_cast<long>(n)}).code(),
              Errc::kCorruptSegment)
        << "len " << n;
}

TEST(EpochCheckpointFormat, CountMismatchWithValidChecksum) {
  auto b = encode_epoch_checkpoint({{0, 0}, {3, 10}});
  b[4] = 3;  // count 2 -> 3
  fix_crc(b);
  auto d = decode_epoch_checkpoint(b);
  EXPECT_EQ(d.code(), Errc::kCorruptSegment);
  EXPECT_NE(d.status().message().find("count"), std::string::npos);
}

TEST(EpochCheckpointFormat, DecreasingEpochsWithValidChecksum) {
  auto b = encode_epoch_checkpoint({{5, 0}, {3, 10}});
  auto d = decode_epoch_checkpoint(b);
  EXPECT_EQ(d.code(), Errc::kCorruptSegment);
  EXPECT_NE(d.status().message().find("not increasing"), std::string::npos);
}

// ---- producer.snapshot ----

ProducerStateManager sample_producers() {
  ProducerStateManager m;
  for (int i = 0; i < 7; ++i) m.update({42, 1, i * 10, i * 10 + 9}, 100 + i * 10, 109 + i * 10, 5000 + i, 8000 + i);
  m.update({7, 0, 0, 0}, 500, 500, 6000, 9000);
  return m;
}

TEST(ProducerSnapshotFormat, RoundTripKeepsLastFive) {
  auto m = sample_producers();
  EXPECT_EQ(m.producers().at(42).batches.size(), 5u);
  auto d = ProducerStateManager::decode_snapshot(m.encode_snapshot(501));
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->second, 501);
  EXPECT_EQ(d->first, m);
}

TEST(ProducerSnapshotFormat, FlipsAndTruncationsAreCorrupt) {
  auto good = sample_producers().encode_snapshot(501);
  for (size_t i = 0; i < good.size(); ++i) {
    auto b = good;
    b[i] ^= 0x10;
    EXPECT_EQ(ProducerStateManager::decode_snapshot(b).code(), Errc::kCorruptSegment) << "flip " << i;
  }
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(ProducerStateManager::decode_snapshot({good.begin(), good.begin() + static_cast<long>(n)}).code(),
              Errc::kCorruptSegment)
        << "len " << n;
}

TEST(ProducerSnapshotFormat, TooManyBatchesWithValidChecksum) {
  ProducerStateManager m;
  m.update({1, 0, 0, 0}, 0, 0, 0, 0);
  auto b = m.encode_snapshot(1);
  // version(1) offset(8) count(4) pid(8) epoch(2) last_timestamp(8) -> batch_count at 31
  b[31] = 6;
  fix_crc(b);
  auto d = ProducerStateManager::decode_snapshot(b);
  EXPECT_EQ(d.code(), Errc::kCorruptSegment);
  EXPECT_NE(d.status().message().find("too many"), std::string::npos);
}

// ---- .index / .timeindex ----

TEST(OffsetIndexFormat, RoundTripAndChecks) {
  std::vector<OffsetEntry> e{{0, 0}, {10, 4096}, {25, 8200}};
  auto bytes = OffsetIndex::encode(e);
  ASSERT_EQ(bytes.size(), kIndexHeaderSize + 3 * kOffsetEntrySize);
  auto d = OffsetIndex::decode(bytes, 10000);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[2].relative_offset, 25);
  EXPECT_EQ((*d)[2].position, 8200);
  // Position past the end of the .log.
  EXPECT_EQ(OffsetIndex::decode(bytes, 8200).code(), Errc::kCorruptSegment);
  // Partial entry.
  auto cut = bytes;
  cut.pop_back();
  EXPECT_NE(OffsetIndex::decode(cut, 10000).status().message().find("partial"), std::string::npos);
  // Version.
  auto v = bytes;
  v[0] = 9;
  EXPECT_NE(OffsetIndex::decode(v, 10000).status().message().find("unknown version 9"), std::string::npos);
  // Non-increasing entries.
  auto swapped = OffsetIndex::encode({{10, 4096}, {5, 5000}});
  EXPECT_NE(OffsetIndex::decode(swapped, 10000).status().message().find("not increasing"), std::string::npos);
}

TEST(OffsetIndexFormat, LookupFindsFloorEntry) {
  OffsetIndex idx;
  idx.append({0, 0});
  idx.append({10, 100});
  idx.append({20, 200});
  EXPECT_EQ(idx.lookup(9).position, 0);
  EXPECT_EQ(idx.lookup(10).position, 100);
  EXPECT_EQ(idx.lookup(1000).position, 200);
  idx.truncate_to_position(150);
  EXPECT_EQ(idx.lookup(1000).position, 100);
}

TEST(TimeIndexFormat, RoundTripAndChecks) {
  std::vector<TimeEntry> e{{1000, 0}, {2000, 5}, {3000, 9}};
  auto bytes = TimeIndex::encode(e);
  ASSERT_EQ(bytes.size(), kIndexHeaderSize + 3 * kTimeEntrySize);
  auto d = TimeIndex::decode(bytes);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)[1].timestamp, 2000);
  auto cut = bytes;
  cut.resize(cut.size() - 5);
  EXPECT_EQ(TimeIndex::decode(cut).code(), Errc::kCorruptSegment);
  auto bad = TimeIndex::encode({{2000, 0}, {1000, 5}});
  EXPECT_NE(TimeIndex::decode(bad).status().message().find("not increasing"), std::string::npos);
}

TEST(IndexFile, SyncWritesOnlyNewEntriesAndTrimsAfterTruncate) {
  testing::TempDir dir;
  auto path = dir.path() / "x.index";
  OffsetIndex idx;
  idx.append({0, 0});
  idx.append({10, 100});
  ASSERT_TRUE(idx.sync(path, false).ok());
  idx.append({20, 200});
  ASSERT_TRUE(idx.sync(path, true).ok());
  auto loaded = OffsetIndex::load(path, 1000);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->entries().size(), 3u);
  idx.truncate_to_position(100);
  ASSERT_TRUE(idx.sync(path, false).ok());
  EXPECT_EQ(std::filesystem::file_size(path), kIndexHeaderSize + kOffsetEntrySize);
}

}  // namespace
}  // namespace millrace::storage
