// ProducerIds: the framed block file, ids never reused across restarts, a
// damaged file refused, the older text format read.
#include "cluster/producers/producer_ids.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

using storage::testing::file_bytes;
using storage::testing::write_bytes;

TEST(ProducerIdsTest, BlockFileIsFramedAndIdsNeverRepeatAcrossRestarts) {
  auto dir = std::filesystem::temp_directory_path() / ("producer-ids-test-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  auto file = dir / "producer_id.block";
  int64_t last = -1;
  {
    ProducerIds ids(file);
    ASSERT_EQ(ids.load(), "");
    for (int i = 0; i < 3; ++i) last = ids.next();
    EXPECT_EQ(last, 2);
  }
  auto bytes = file_bytes(file);
  ASSERT_EQ(bytes.size(), 13u);
  EXPECT_EQ(bytes[0], ProducerIds::kFileVersion);
  {
    ProducerIds ids(file);
    ASSERT_EQ(ids.load(), "");
    EXPECT_GT(ids.next(), last);
  }
  bytes[5] ^= 0x40;
  write_bytes(file, bytes);
  {
    ProducerIds ids(file);
    EXPECT_NE(ids.load().find("checksum mismatch"), std::string::npos);
  }
  {
    std::ofstream out(file, std::ios::trunc);
    out << "v1 5000\n";  // the older text format
  }
  {
    ProducerIds ids(file);
    ASSERT_EQ(ids.load(), "");
    EXPECT_EQ(ids.next(), 5000);
  }
  EXPECT_EQ(file_bytes(file)[0], ProducerIds::kFileVersion);
  std::filesystem::remove_all(dir);
}

TEST(ProducerIds, BlocksFromASourceReplaceTheFile) {
  auto dir = std::filesystem::temp_directory_path() / ("pid-source-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ProducerIds ids(dir / "producer_id.block");
  ASSERT_EQ(ids.load(), "");
  std::vector<int64_t> asked;
  int64_t next_block = 7000;
  ids.set_block_source([&](int64_t n) {
    asked.push_back(n);
    int64_t start = next_block;
    next_block += n;
    return start;
  });
  EXPECT_EQ(ids.next(), 7000);
  for (int i = 1; i < ProducerIds::kBlockSize; ++i) ids.next();
  EXPECT_EQ(ids.next(), 7000 + ProducerIds::kBlockSize) << "a second block from the source";
  EXPECT_EQ(asked.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dir / "producer_id.block")) << "the file is not written";
  ids.set_block_source([](int64_t) { return int64_t{-1}; });
  EXPECT_EQ(ids.next(), -1) << "no block: no id";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace millrace::cluster
