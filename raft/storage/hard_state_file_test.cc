// HardStateFile: round trip, restart, slots written in turn in place, a torn
// slot leaving the state before it, every truncation and every flipped byte
// detected with the exact error (versions 1 and 2), and failed writes
// leaving the old state.
#include "raft/storage/hard_state_file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

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

TEST(HardStateFileTest, WritesAlternateSlotsInPlaceWithoutANewFile) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  ASSERT_TRUE(f.write(HardState{Term(1), NodeId(1), Index(1)}).ok());
  struct stat first {};
  ASSERT_EQ(::stat(f.path().c_str(), &first), 0);
  for (int i = 2; i <= 5; ++i) {
    ASSERT_TRUE(f.write(HardState{Term(i), NodeId(i), Index(i)}).ok());
    EXPECT_EQ(f.seq(), static_cast<uint64_t>(i));
    auto bytes = slurp(f.path());
    ASSERT_EQ(bytes.size(), kHardStateFileSize);
    auto got = decode_hard_state(bytes, "f");
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(got->state, (HardState{Term(i), NodeId(i), Index(i)}));
    // The slot before still holds the previous state (what a torn write leaves).
    const size_t older = ((i - 1) % 2) * kHardStateSlotStride;
    std::vector<uint8_t> only_older(kHardStateFileSize, 0);
    std::copy(bytes.begin() + older, bytes.begin() + older + kHardStateSlotSize, only_older.begin() + older);
    EXPECT_EQ(decode_hard_state(only_older, "f")->state, (HardState{Term(i - 1), NodeId(i - 1), Index(i - 1)}));
  }
  struct stat last {};
  ASSERT_EQ(::stat(f.path().c_str(), &last), 0);
  EXPECT_EQ(first.st_ino, last.st_ino);  // overwritten in place: no rename
}

TEST(HardStateFileTest, ATornSlotLeavesTheStateBeforeIt) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  ASSERT_TRUE(f.write(HardState{Term(1), NodeId(1), Index(0)}).ok());
  ASSERT_TRUE(f.write(kState).ok());  // seq 2: slot 0
  auto bytes = slurp(f.path());
  for (size_t i = 0; i < kHardStateSlotSize; ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0xff}}) {
      auto torn = bytes;
      torn[i] ^= mask;
      auto r = decode_hard_state(torn, "f");
      ASSERT_TRUE(r.ok()) << i << ": " << r.status().to_string();
      EXPECT_EQ(r->state, (HardState{Term(1), NodeId(1), Index(0)})) << i;
    }
  }
}

TEST(HardStateFileTest, NoValidSlotIsAnError) {
  auto bytes = encode_hard_state(kState, 1);  // slot 1 only
  for (size_t i = kHardStateSlotStride; i < kHardStateFileSize; ++i) {
    auto bad = bytes;
    bad[i] ^= 0x10;
    auto r = decode_hard_state(bad, "f");
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.code(), Errc::kCorruptSegment);
    EXPECT_EQ(r.status().message(), "f: checksum mismatch in every written slot") << i;
  }
  EXPECT_EQ(decode_hard_state(std::vector<uint8_t>(kHardStateFileSize, 0), "f").status().message(),
            "f: no slot written");
  // Bytes between the slots are not read.
  auto padded = bytes;
  padded[100] = 0x5a;
  EXPECT_EQ(decode_hard_state(padded, "f")->state, kState);
}

TEST(HardStateFileTest, EveryTruncationIsDetected) {
  for (const auto& bytes : {encode_hard_state(kState, 1), encode_hard_state(kState, 2)}) {
    for (size_t n = 0; n < bytes.size(); n += (n < 64 ? 1 : 61)) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
      auto r = decode_hard_state(cut, "f");
      ASSERT_FALSE(r.ok()) << n;
      EXPECT_EQ(r.code(), Errc::kCorruptSegment);
      if (n == 0)
        EXPECT_EQ(r.status().message(), "f: empty file");
      else
        EXPECT_EQ(r.status().message(), "f: size " + std::to_string(n) + ", version 2 has 4128") << n;
    }
  }
}

TEST(HardStateFileTest, TrailingBytesAreDetected) {
  auto bytes = encode_hard_state(kState, 2);
  bytes.push_back(0);
  EXPECT_EQ(decode_hard_state(bytes, "f").status().message(), "f: size 4129, version 2 has 4128");
}

TEST(HardStateFileTest, ValidChecksumOverNegativeTermIsRefused) {
  // A writer bug, not a disk fault: the CRC matches but the term cannot be.
  HardState neg{Term(-5), NodeId(1), Index(0)};
  EXPECT_EQ(decode_hard_state(encode_hard_state(neg), "f").status().message(), "f: field out of range");
  EXPECT_EQ(decode_hard_state(encode_hard_state_v1(neg), "f").status().message(), "f: field out of range");
}

// Version 1 files (21 bytes, replaced atomically) are still read, with every
// truncation and flipped byte detected, and the next write makes version 2.
TEST(HardStateFileTest, VersionOneIsReadAndReplacedByVersionTwo) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  spill(f.path(), encode_hard_state_v1(kState));
  ASSERT_EQ(*f.read(), kState);
  EXPECT_EQ(f.seq(), 0u);
  HardState next{Term(8), NodeId(2), Index(9)};
  ASSERT_TRUE(f.write(next).ok());
  EXPECT_EQ(slurp(f.path()).size(), kHardStateFileSize);
  HardStateFile again(f.path());
  EXPECT_EQ(*again.read(), next);
}

TEST(HardStateFileTest, VersionOneTruncationsAndFlipsAreDetected) {
  const auto bytes = encode_hard_state_v1(kState);
  for (size_t n = 1; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    EXPECT_EQ(decode_hard_state(cut, "f").status().message(),
              "f: size " + std::to_string(n) + ", version 1 has 21") << n;
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      auto bad = bytes;
      bad[i] ^= mask;
      auto r = decode_hard_state(bad, "f");
      ASSERT_FALSE(r.ok()) << i;
      EXPECT_EQ(r.code(), Errc::kCorruptSegment);
      if (i == 0 && (bad[0] == 0 || bad[0] == 2))
        EXPECT_EQ(r.status().message(), "f: size 21, version 2 has 4128");
      else if (i == 0)
        EXPECT_EQ(r.status().message(), "f: unknown version " + std::to_string(bad[0]));
      else
        EXPECT_EQ(r.status().message(), "f: checksum mismatch") << i;
    }
  }
}

TEST(HardStateFileTest, CorruptFileOnDiskIsAnErrorNotZero) {
  TempDir dir;
  HardStateFile f(dir.path() / kHardStateFileName);
  ASSERT_TRUE(f.write(kState).ok());  // seq 1: slot 1, slot 0 unwritten
  auto bytes = slurp(f.path());
  bytes[kHardStateSlotStride + 17] ^= 0x04;  // the vote
  spill(f.path(), bytes);
  auto r = f.read();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), f.path().string() + ": checksum mismatch in every written slot");
}

TEST(HardStateFileTest, FailedInPlaceSyncReportsAndTheNextWriteTakesTheSameSlot) {
  TempDir dir;
  FaultInjectionEnv env;
  HardStateFile f(dir.path() / kHardStateFileName, &env);
  ASSERT_TRUE(f.write(HardState{Term(1), NodeId(1), Index(0)}).ok());
  ASSERT_TRUE(f.write(kState).ok());
  env.inject(FaultInjectionEnv::Op::kSync, EIO, "raft.state");
  auto st = f.write(HardState{Term(8), NodeId(4), Index(5)});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::kStorageError);
  EXPECT_EQ(f.last_written(), kState);
  EXPECT_EQ(f.seq(), 2u);
  env.clear_faults();
  // The failed write went to slot 1; the state in slot 0 is untouched, and a
  // torn slot 1 (what a power loss mid-write leaves) reads as kState.
  auto bytes = slurp(f.path());
  bytes[kHardStateSlotStride + 9] ^= 0xff;
  EXPECT_EQ(decode_hard_state(bytes, "f")->state, kState);
  HardState next{Term(9), NodeId(4), Index(6)};
  ASSERT_TRUE(f.write(next).ok());
  EXPECT_EQ(f.seq(), 3u);
  HardStateFile again(f.path(), &env);
  EXPECT_EQ(*again.read(), next);
}

TEST(HardStateFileTest, FailedFsyncOfTheFirstFileReportsAndKeepsTheOldFile) {
  TempDir dir;
  FaultInjectionEnv env;
  HardStateFile f(dir.path() / kHardStateFileName, &env);
  spill(f.path(), encode_hard_state_v1(kState));  // version 1: the next write creates version 2
  ASSERT_EQ(*f.read(), kState);
  env.inject(FaultInjectionEnv::Op::kSync, EIO, "raft.state.tmp");
  auto st = f.write(HardState{Term(8), NodeId(4), Index(5)});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::kStorageError);
  env.clear_faults();
  EXPECT_EQ(*f.read(), kState);
}

TEST(HardStateFileTest, FailedRenameReportsAndKeepsTheOldFile) {
  TempDir dir;
  FaultInjectionEnv env;
  HardStateFile f(dir.path() / kHardStateFileName, &env);
  spill(f.path(), encode_hard_state_v1(kState));
  ASSERT_EQ(*f.read(), kState);
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
  ASSERT_TRUE(f.write(HardState{Term(7), NodeId(3), Index(5)}).ok());
  HardStateFile fresh(dir.path() / "other.state", &env);
  // The tmp file's fdatasync passes, the directory's fsync fails: not durable.
  env.inject(FaultInjectionEnv::Op::kSync, EIO, "", /*skip=*/1);
  EXPECT_FALSE(fresh.write(HardState{Term(8), NodeId(4), Index(5)}).ok());
  env.clear_faults();
  env.crash();
  env.revive();
  auto r = fresh.read();  // the rename was not made durable: no file, a new replica
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, HardState{});
  EXPECT_EQ(*f.read(), (HardState{Term(7), NodeId(3), Index(5)}));
}

}  // namespace
}  // namespace millrace::raft
