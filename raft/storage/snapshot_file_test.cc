// raft.snapshot: round trip, and every truncation and flipped byte detected.
#include "raft/storage/snapshot_file.h"

#include <gtest/gtest.h>

#include "protocol/record/crc32c.h"
#include "storage/fault_env.h"
#include "storage/test_util.h"

namespace millrace::raft {
namespace {

SnapshotFileContent sample() {
  SnapshotFileContent c;
  c.base = SnapshotMeta{Index(99), Term(4), Config{{NodeId(1), NodeId(2), NodeId(3)}, {}, {}}};
  Config next{{NodeId(1), NodeId(2), NodeId(4)}, {NodeId(1), NodeId(2), NodeId(3)}, {NodeId(7)}};
  c.configs.push_back(Entry{Index(120), Index(120), Term(5), EntryType::kVoters,
                            std::make_shared<const std::vector<uint8_t>>(next.encode())});
  c.log_start_floor = Offset(107);
  return c;
}

// A version 1 file (before LogStart entries) is read with no floor.
TEST(SnapshotFileTest, VersionOneIsReadWithoutAFloor) {
  auto c = sample();
  auto bytes = encode_snapshot_file(c);
  // Version 1 is version 2 without the 8 floor bytes before the CRC.
  std::vector<uint8_t> v1(bytes.begin(), bytes.end() - 12);
  v1[0] = kSnapshotFileVersionNoFloor;
  const uint32_t crc = record::crc32c(0, v1.data(), v1.size());
  for (int i = 3; i >= 0; --i) v1.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  auto back = decode_snapshot_file(v1, "f");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  c.log_start_floor = Offset(0);
  EXPECT_EQ(*back, c);
}

TEST(SnapshotFileTest, RoundTrip) {
  auto c = sample();
  auto back = decode_snapshot_file(encode_snapshot_file(c), "f");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, c);
}

TEST(SnapshotFileTest, RoundTripThroughTheFileSystemAndAPowerLoss) {
  storage::testing::TempDir dir;
  storage::FaultInjectionEnv env;
  auto path = dir.path() / kSnapshotFileName;
  EXPECT_EQ(read_snapshot_file(path, &env).code(), storage::Errc::kNotFound);
  ASSERT_TRUE(write_snapshot_file(path, sample(), &env).ok());
  env.crash();
  env.revive();
  auto back = read_snapshot_file(path, &env);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, sample());
}

TEST(SnapshotFileTest, EveryTruncationIsDetected) {
  auto bytes = encode_snapshot_file(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_snapshot_file(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n)), "f");
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.code(), storage::Errc::kCorruptSegment);
  }
}

TEST(SnapshotFileTest, EveryFlippedByteIsDetected) {
  const auto bytes = encode_snapshot_file(sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto bad = bytes;
    bad[i] ^= 0x10;
    auto r = decode_snapshot_file(bad, "f");
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.status().message(), i == 0 ? "f: unknown version" : "f: checksum mismatch") << i;
  }
}

}  // namespace
}  // namespace millrace::raft
