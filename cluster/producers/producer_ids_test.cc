// ProducerIds: the framed block file, ids never reused across restarts, a
// damaged file refused, the older text format read.
#include "cluster/producers/producer_ids.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace millrace::cluster
