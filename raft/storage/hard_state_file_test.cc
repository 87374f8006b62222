// HardStateFile: round trip, restart, every truncation and every flipped byte
// detected with the exact error, and failed fsync/rename leaving the old file.
#include "raft/storage/hard_state_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "storage/fault_env.h"
#include "storage/test_util.h"

namespace millrace::raft {
namespace {

using storage::Errc;
using storage::FaultInjectionEnv;
using storage::testing::TempDir;

const HardState kState{Term(7), NodeId(3), Index(1234567890123)};

std::vector<uint8_t> slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spill(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(HardStateFileTest, MissingFileIsANewReplica) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  auto hs = f.read();
  ASSERT_TRUE(hs.ok()) << hs.status().to_string();
  EXPECT_EQ(*hs, HardState{});
}

TEST(HardStateFileTest, RoundTrip) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  ASSERT_TRUE(f.write(kState).ok());
  auto hs = f.read();
  ASSERT_TRUE(hs.ok()) << hs.status().to_string();
  EXPECT_EQ(*hs, kState);
  EXPECT_EQ(slurp(f.path()).size(), kHardStateFileSize);
}

TEST(HardStateFileTest, NoVoteAndNoCommitRoundTrip) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  HardState none{Term(2), kNoNode, Index(-1)};
  ASSERT_TRUE(f.write(none).ok());
  EXPECT_EQ(*f.read(), none);
}

TEST(HardStateFileTest, LaterWriteReplacesAndSurvivesRestart) {
  TempDir dir;
  {
    HardStateFile f(dir.path() / kHardStateFileName);
    ASSERT_TRUE(f.write(HardState{Term(1), NodeId(1), Index(0)}).ok());
    ASSERT_TRUE(f.write(kState).ok());
  }
  HardStateFile again(dir.path() / kHardStateFileName);  // a restarted process
  EXPECT_EQ(*again.read(), kState);
}

TEST(HardStateFileTest, SurvivesPowerLossOnceWritten) {
  TempDir dir;
  FaultInjectionEnv env;
  HardStateFile f(dir.path() / kHardStateFileName, &env);
  ASSERT_TRUE(f.write(kState).ok());
  env.crash();
  env.revive();
  EXPECT_EQ(*f.read(), kState);
}

TEST(HardStateFileTest, OnlyTermOrVoteMustBeWrittenAtOnce) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  EXPECT_FALSE(f.must_write_now(HardState{}));
  ASSERT_TRUE(f.write(kState).ok());
  EXPECT_EQ(f.last_written(), kState);
  EXPECT_FALSE(f.must_write_now(HardState{kState.term, kState.vote, kState.commit + 10}));
  EXPECT_TRUE(f.must_write_now(HardState{kState.term + 1, kNoNode, kState.commit}));
  EXPECT_TRUE(f.must_write_now(HardState{kState.term, NodeId(9), kState.commit}));
  HardStateFile again(f.path());
  ASSERT_TRUE(again.read().ok());
  EXPECT_EQ(again.last_written(), kState);  // read() learns what is on disk
}

TEST(HardStateFileTest, EveryTruncationIsDetected) {
  auto bytes = encode_hard_state(kState);
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    auto r = decode_hard_state(cut, "f");
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.code(), Errc::kCorruptSegment);
    if (n == 0)
      EXPECT_EQ(r.status().message(), "f: empty file");
    else
      EXPECT_EQ(r.status().message(), "f: size " + std::to_string(n) + ", version 1 has 21") << n;
  }
}

TEST(HardStateFileTest, TrailingBytesAreDetected) {
  auto bytes = encode_hard_state(kState);
  bytes.push_back(0);
  EXPECT_EQ(decode_hard_state(bytes, "f").status().message(), "f: size 22, version 1 has 21");
}

TEST(HardStateFileTest, EveryFlippedByteIsDetected) {
  const auto bytes = encode_hard_state(kState);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      auto bad = bytes;
      bad[i] ^= mask;
      auto r = decode_hard_state(bad, "f");
      ASSERT_FALSE(r.ok()) << i;
      EXPECT_EQ(r.code(), Errc::kCorruptSegment);
      if (i == 0)
        EXPECT_EQ(r.status().message(), "f: unknown version " + std::to_string(bad[0]));
      else
        EXPECT_EQ(r.status().message(), "f: checksum mismatch") << i;
    }
  }
}

TEST(HardStateFileTest, CorruptFileOnDiskIsAnErrorNotZero) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  ASSERT_TRUE(f.write(kState).ok());
  auto bytes = slurp(f.path());
  bytes[5] ^= 0x04;  // the vote
  spill(f.path(), bytes);
  auto r = f.read();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), f.path().string() + ": checksum mismatch");
}

TEST(HardStateFileTest, ValidChecksumOverNegativeTermIsRefused) {
  // A writer bug, not a disk fault: the CRC matches but the term cannot be.
  HardState neg{Term(-5), NodeId(1), Index(0)};
  EXPECT_EQ(decode_hard_state(encode_hard_state(neg), "f").status().message(), "f: field out of range");
}

TEST(HardStateFileTest, FailedFsyncReportsAndKeepsTheOldFile) {
  TempDir dir;
  FaultInjectionEnv env;
  HardStateFile f(dir.path() / kHardStateFileName, &env);
  ASSERT_TRUE(f.write(kState).ok());
  env.inject(FaultInjectionEnv::Op::kSync, EIO, "raft.state.tmp");
  auto st = f.write(HardState{Term(8), NodeId(4), Index(5)});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::kStorageError);
  env.clear_faults();
  EXPECT_EQ(*f.read(), kState);
  env.crash();  // and a power loss right after keeps it too
  env.revive();
  EXPECT_EQ(*f.read(), kState);
}

TEST(HardStateFileTest, FailedRenameReportsAndKeepsTheOldFile) {
  TempDir dir;
  FaultInjectionEnv env;
  HardStateFile f(dir.path() / kHardStateFileName, &env);
  ASSERT_TRUE(f.write(kState).ok());
  env.inject(FaultInjectionEnv::Op::kRename, EIO);
  auto st = f.write(HardState{Term(8), NodeId(4), Index(5)});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("rename"), std::string::npos) << st.to_string();
  env.clear_faults();
  EXPECT_EQ(*f.read(), kState);
}

TEST(HardStateFileTest, FailedDirectoryFsyncIsReported) {
  TempDir dir;
  FaultInjectionEnv env;
  HardStateFile f(dir.path() / kHardStateFileName, &env);
  ASSERT_TRUE(f.write(kState).ok());
  // The tmp file's fdatasync passes, the directory's fsync fails: not durable.
  env.inject(FaultInjectionEnv::Op::kSync, EIO, "", /*skip=*/1);
  EXPECT_FALSE(f.write(HardState{Term(8), NodeId(4), Index(5)}).ok());
  env.clear_faults();
  env.crash();
  env.revive();
  auto r = f.read();  // the rename was not made durable: the old state, whole
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, kState);
}

}  // namespace
}  // namespace millrace::raft
