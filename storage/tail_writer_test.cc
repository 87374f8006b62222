// TailWriter and AppendBufferPool: what reaches the file when, alignment of
// the writes, the memory budget, preallocation and errors.
#include "storage/tail_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "storage/index_file.h"
#include "storage/test_util.h"

namespace millrace::storage {
namespace {

std::vector<uint8_t> bytes_of(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

class TailWriterTest : public ::testing::Test {
 protected:
  std::shared_ptr<FileHandle> open_file(int flags = O_RDWR | O_CREAT) {
    path_ = dir_.path() / "seg.log";
    int fd = ::open(path_.c_str(), flags | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0);
    return std::make_shared<FileHandle>(fd, path_.string());
  }
  int64_t disk_size() { return static_cast<int64_t>(std::filesystem::file_size(path_)); }
  std::vector<uint8_t> disk_bytes() {
    auto r = read_whole_file(path_);
    return r.ok() ? *r : std::vector<uint8_t>{};
  }
  int64_t allocated_bytes() {
    struct stat st{};
    ::stat(path_.c_str(), &st);
    return static_cast<int64_t>(st.st_blocks) * 512;
  }

  testing::TempDir dir_;
  std::filesystem::path path_;
};

TEST_F(TailWriterTest, WriteThroughPutsEveryAppendInTheFileAtOnce) {
  TailWriter w(open_file(), {}, 0);
  auto a = bytes_of(1000, 1);
  ASSERT_TRUE(w.append(a).ok());
  EXPECT_EQ(w.file_size(), 1000);
  EXPECT_EQ(w.end(), 1000);
  EXPECT_FALSE(w.pending());
  EXPECT_FALSE(w.has_buffer());
  EXPECT_EQ(disk_bytes(), a);
}

TEST_F(TailWriterTest, BufferedBytesReachTheFileOnlyWhenWrittenOut) {
  TailWriter w(open_file(), {.buffer_bytes = 16384}, 0);
  auto a = bytes_of(5000, 1), b = bytes_of(3000, 2);
  ASSERT_TRUE(w.append(a).ok());
  ASSERT_TRUE(w.append(b).ok());
  EXPECT_EQ(w.end(), 8000);
  EXPECT_EQ(w.file_size(), 0);
  EXPECT_TRUE(w.pending());
  EXPECT_EQ(disk_size(), 0);
  ASSERT_TRUE(w.write_out().ok());
  EXPECT_EQ(w.file_size(), 8000);
  EXPECT_FALSE(w.pending());
  auto want = a;
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(disk_bytes(), want);
}

TEST_F(TailWriterTest, AFullChunkIsWrittenAsOneAlignedWriteAndTheRestWaits) {
  TailWriter w(open_file(), {.buffer_bytes = 16384}, 0);
  std::vector<uint8_t> all;
  for (int i = 0; i < 5; ++i) {  // 5 x 5000 = 25000: one chunk of 16384 written, 8616 pending
    auto x = bytes_of(5000, static_cast<uint8_t>(i));
    ASSERT_TRUE(w.append(x).ok());
    all.insert(all.end(), x.begin(), x.end());
  }
  EXPECT_EQ(w.file_size(), 16384);
  EXPECT_EQ(w.end(), 25000);
  EXPECT_EQ(disk_size(), 16384);
  ASSERT_TRUE(w.write_out().ok());
  EXPECT_EQ(disk_bytes(), all);
}

TEST_F(TailWriterTest, AnUnalignedStartFillsUpToTheNextAlignedChunkEnd) {
  auto f = open_file();
  auto head = bytes_of(5000, 9);
  ASSERT_EQ(::pwrite(f->fd(), head.data(), head.size(), 0), 5000);
  TailWriter w(f, {.buffer_bytes = 16384}, 5000);
  // The chunk starts at 4096 (the page holding the end), so it is full at 4096 + 16384.
  auto a = bytes_of(15480, 3);
  ASSERT_TRUE(w.append(a).ok());
  EXPECT_EQ(w.file_size(), 5000);  // 20480 not reached yet
  auto b = bytes_of(100, 4);
  ASSERT_TRUE(w.append(b).ok());
  EXPECT_EQ(w.file_size(), 4096 + 16384);
  EXPECT_EQ(w.end(), 5000 + 15480 + 100);
  ASSERT_TRUE(w.write_out().ok());
  auto want = head;
  want.insert(want.end(), a.begin(), a.end());
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(disk_bytes(), want);
}

TEST_F(TailWriterTest, LargeAppendsGoStraightToTheFileInWholeChunks) {
  TailWriter w(open_file(), {.buffer_bytes = 8192}, 0);
  auto a = bytes_of(100, 1), big = bytes_of(40000, 2);
  ASSERT_TRUE(w.append(a).ok());
  ASSERT_TRUE(w.append(big).ok());
  // 40100 bytes: whole chunks of 8192 up to 40960 are not reached; 4 chunks (32768) are written.
  EXPECT_EQ(w.file_size(), 32768);
  EXPECT_EQ(w.end(), 40100);
  ASSERT_TRUE(w.write_out().ok());
  auto want = a;
  want.insert(want.end(), big.begin(), big.end());
  EXPECT_EQ(disk_bytes(), want);
}

TEST_F(TailWriterTest, PoolBudgetMakesLogsBeyondItWriteThrough) {
  auto pool = std::make_shared<AppendBufferPool>(16384);
  testing::TempDir other;
  int fd2 = ::open((other.path() / "b.log").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  auto f2 = std::make_shared<FileHandle>(fd2, "b.log");
  {
    TailWriter a(open_file(), {.buffer_bytes = 16384, .pool = pool}, 0);
    TailWriter b(f2, {.buffer_bytes = 16384, .pool = pool}, 0);
    ASSERT_TRUE(a.append(bytes_of(100, 1)).ok());
    ASSERT_TRUE(b.append(bytes_of(100, 2)).ok());
    EXPECT_TRUE(a.has_buffer());
    EXPECT_FALSE(b.has_buffer());  // budget spent by a
    EXPECT_TRUE(a.pending());
    EXPECT_FALSE(b.pending());
    EXPECT_EQ(pool->in_use(), 16384);
    ASSERT_TRUE(a.release().ok());  // idle: memory back, bytes in the file
    EXPECT_EQ(pool->in_use(), 0);
    EXPECT_EQ(disk_size(), 100);
    ASSERT_TRUE(b.append(bytes_of(100, 3)).ok());
    EXPECT_TRUE(b.has_buffer());
    EXPECT_EQ(b.end(), 200);
    EXPECT_EQ(b.file_size(), 100);
  }
  EXPECT_EQ(pool->in_use(), 0);  // destructors return what they held
}

TEST_F(TailWriterTest, PreallocationReservesPastTheEndWithoutChangingTheSizeAndTrimGivesItBack) {
  TailWriter w(open_file(), {.buffer_bytes = 8192, .preallocate_bytes = 1 << 20}, 0);
  ASSERT_TRUE(w.append(bytes_of(3000, 1)).ok());
  ASSERT_TRUE(w.write_out().ok());
  EXPECT_EQ(disk_size(), 3000);
  // A small file reserves a small step, not preallocate_bytes.
  EXPECT_GE(allocated_bytes(), 3000 + kMinReserveStep - kPageSize);
  EXPECT_LE(allocated_bytes(), 3000 + kMinReserveStep + 2 * kPageSize);
  // The step grows with the file, up to preallocate_bytes.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(w.append(bytes_of(8000, 2)).ok());
  ASSERT_TRUE(w.write_out().ok());
  const int64_t size = 3000 + 200 * 8000;
  EXPECT_EQ(disk_size(), size);
  EXPECT_GE(allocated_bytes(), size + 16 * kMinReserveStep) << "a grown file reserves a larger step";
  EXPECT_LE(allocated_bytes(), size + (1 << 20) + 8 * kPageSize) << "never more than preallocate_bytes ahead";
  ASSERT_TRUE(w.trim().ok());
  EXPECT_EQ(disk_size(), size);
  EXPECT_LE(allocated_bytes(), size + 8192);
}

TEST_F(TailWriterTest, WriteErrorKeepsNothingOfTheAppendAndPendingBytesStay) {
  // A read-only descriptor: every write fails (EBADF).
  { auto f = open_file(); }
  auto ro = open_file(O_RDONLY);
  TailWriter through(ro, {}, 0);
  Status s = through.append(bytes_of(100, 1));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Errc::kStorageError);
  EXPECT_EQ(through.end(), 0);

  TailWriter buffered(ro, {.buffer_bytes = 8192}, 0);
  ASSERT_TRUE(buffered.append(bytes_of(5000, 1)).ok());  // fits in memory
  EXPECT_FALSE(buffered.write_out().ok());
  EXPECT_TRUE(buffered.pending());
  EXPECT_EQ(buffered.end(), 5000);
  // An append that needs a write fails whole: the logical end does not move.
  EXPECT_FALSE(buffered.append(bytes_of(5000, 2)).ok());
  EXPECT_EQ(buffered.end(), 5000);
}

TEST_F(TailWriterTest, ResetDropsPendingBytesAndRestartsAtTheGivenSize) {
  auto f = open_file();
  TailWriter w(f, {.buffer_bytes = 8192}, 0);
  ASSERT_TRUE(w.append(bytes_of(6000, 1)).ok());
  ASSERT_TRUE(w.write_out().ok());
  ASSERT_EQ(::ftruncate(f->fd(), 2500), 0);
  w.reset(f, 2500);
  EXPECT_EQ(w.end(), 2500);
  EXPECT_EQ(w.file_size(), 2500);
  auto b = bytes_of(100, 5);
  ASSERT_TRUE(w.append(b).ok());
  ASSERT_TRUE(w.write_out().ok());
  auto want = bytes_of(6000, 1);
  want.resize(2500);
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(disk_bytes(), want);
}

TEST(AppendBufferPoolTest, TakePendingWaitsForALogAndReturnsNothingAfterStop) {
  auto pool = std::make_shared<AppendBufferPool>(1 << 20);
  pool->note_pending(std::weak_ptr<Log>());
  auto got = pool->take_pending(1);
  EXPECT_EQ(got.size(), 1u);
  std::thread stopper([&] { pool->stop(); });
  EXPECT_TRUE(pool->take_pending(1).empty());
  stopper.join();
}

}  // namespace
}  // namespace millrace::storage
