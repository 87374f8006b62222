#include "cluster/controller/metadata_log.h"

#include <gtest/gtest.h>

#include <fstream>

#include "cluster/controller/topic_control.h"
#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

using storage::testing::TempDir;
using namespace records;

std::vector<AnyRecord> register_self(int32_t id) {
  RegisterBrokerRecord r;
  r.broker_id = id;
  r.broker_epoch = 1;
  r.fenced = false;
  return {r};
}

TopicId id_of(uint8_t n) {
  TopicId id{};
  id[0] = 0x40;
  id[15] = n;
  return id;
}

std::filesystem::path segment_of(const std::filesystem::path& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir / kMetadataPartitionDir))
    if (e.path().extension() == ".log") return e.path();
  return {};
}

TEST(MetadataLog, WritesCommitApplyAndSurviveARestart) {
  TempDir dir;
  MetadataState expected;
  int64_t last = -1;
  {
    auto m = MetadataLog::open(dir.path(), 1);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    auto w = (*m)->write(register_self(1));
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    auto topic = create_topic((*m)->state(), {"orders", 3, 1, {{"retention.ms", "1000"}}}, id_of(1));
    ASSERT_TRUE(topic.ok()) << topic.message;
    auto w2 = (*m)->write(topic.records);
    ASSERT_TRUE(w2.ok()) << w2.status().to_string();
    EXPECT_GT(*w2, *w);
    ASSERT_TRUE((*m)->state().topic("orders"));
    EXPECT_EQ((*m)->state().topic("orders")->partitions.size(), 3u);
    expected = (*m)->state();
    last = (*m)->applied_offset();
    ASSERT_TRUE((*m)->close().ok());
  }
  auto again = MetadataLog::open(dir.path(), 1);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ((*again)->state(), expected);
  EXPECT_GE((*again)->applied_offset(), last);
  auto more = create_topic((*again)->state(), {"later", 1, 1, {}}, id_of(2));
  ASSERT_TRUE((*again)->write(more.records).ok());
  EXPECT_TRUE((*again)->state().topic("later"));
}

TEST(MetadataLog, AWriteThatDoesNotApplyIsRefusedAndNotLogged) {
  TempDir dir;
  {
    auto m = MetadataLog::open(dir.path(), 1);
    ASSERT_TRUE(m.ok());
    PartitionRecord orphan;
    orphan.topic_id.bytes = id_of(9);
    orphan.partition_id = 0;
    orphan.replicas = {1};
    orphan.isr = {1};
    orphan.leader = 1;
    auto w = (*m)->write({orphan});
    EXPECT_FALSE(w.ok());
    EXPECT_EQ(w.status().code(), storage::Errc::kInvalidArgument);
    EXPECT_TRUE((*m)->state().topics().empty());
  }
  auto again = MetadataLog::open(dir.path(), 1);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->state().topics().empty());
}

// Three writes, the directory closed cleanly; returns the segment file.
std::filesystem::path three_writes(const std::filesystem::path& dir) {
  auto m = MetadataLog::open(dir, 1);
  EXPECT_TRUE(m.ok());
  EXPECT_TRUE((*m)->write(register_self(1)).ok());
  EXPECT_TRUE((*m)->write(create_topic((*m)->state(), {"kept", 1, 1, {}}, id_of(1)).records).ok());
  EXPECT_TRUE((*m)->write(create_topic((*m)->state(), {"last", 1, 1, {}}, id_of(2)).records).ok());
  EXPECT_TRUE((*m)->close().ok());
  return segment_of(dir);
}

TEST(MetadataLog, BytesDamagedAfterACleanShutdownFailOpenNamingTheOffset) {
  TempDir dir;
  auto seg = three_writes(dir.path());
  ASSERT_FALSE(seg.empty());
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    auto at = static_cast<std::streamoff>(f.tellg()) - 6;  // inside the last batch's records
    char c = 0;
    f.seekg(at);
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(at);
    f.write(&c, 1);
  }
  auto again = MetadataLog::open(dir.path(), 1);
  ASSERT_FALSE(again.ok()) << "a damaged entry was used";
  EXPECT_EQ(again.status().code(), storage::Errc::kCorruptSegment);
  EXPECT_NE(again.status().message().find("CRC mismatch"), std::string::npos) << again.status().to_string();
}

TEST(MetadataLog, ATornTailAfterACrashIsCutAndTheQuorumCarriesOn) {
  TempDir dir;
  auto seg = three_writes(dir.path());
  ASSERT_FALSE(seg.empty());
  std::filesystem::remove(dir.path() / kMetadataPartitionDir / ".clean_shutdown");  // as after a crash
  std::filesystem::resize_file(seg, std::filesystem::file_size(seg) - 6);           // the last write torn
  auto again = MetadataLog::open(dir.path(), 1);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_TRUE((*again)->state().topic("kept"));
  EXPECT_FALSE((*again)->state().topic("last")) << "a torn entry was applied";
  ASSERT_TRUE((*again)->write(create_topic((*again)->state(), {"last", 1, 1, {}}, id_of(3)).records).ok());
  EXPECT_TRUE((*again)->state().topic("last"));
}

}  // namespace
}  // namespace millrace::cluster
