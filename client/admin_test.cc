// Kafka's text form of a topic id (Uuid.toString: base64url without padding of
// the 16 bytes, most significant long first). Expected strings were computed
// with Python's base64.urlsafe_b64encode, independently of this code.
#include <gtest/gtest.h>

#include "client/admin.h"
#include "client/group_by_topic.h"

namespace millrace::client {
namespace {

proto::Uuid from_hex(const std::string& hex) {
  proto::Uuid u;
  for (size_t i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return u;
}

TEST(TopicIdString, ZeroIdMeansNoId) { EXPECT_EQ(topic_id_string(proto::Uuid{}), ""); }

TEST(TopicIdString, LowBitOnly) {
  EXPECT_EQ(topic_id_string(from_hex("00000000000000000000000000000001")), "AAAAAAAAAAAAAAAAAAAAAQ");
}

TEST(TopicIdString, UsesUrlSafeAlphabetWithoutPadding) {
  auto s = topic_id_string(from_hex("deadbeefcafebabe0123456789abcdef"));
  EXPECT_EQ(s, "3q2-78r-ur4BI0VniavN7w");
  EXPECT_EQ(s.size(), 22u);
}

TEST(TopicIdString, AllOnes) {
  EXPECT_EQ(topic_id_string(from_hex("ffffffffffffffffffffffffffffffff")), "_____________________w");
}

// The per-topic body of a request: topics in name order, partitions in the order
// given, the index and the filled field on each.
TEST(GroupByTopic, OneEntryPerTopicInNameOrderPartitionsInGivenOrder) {
  std::map<TopicPartition, int64_t> offsets{{{"b", 1}, 11}, {{"a", 3}, 3}, {{"b", 0}, 10}, {{"a", 1}, 1}};
  auto topics = group_by_topic<proto::OffsetCommitRequest::OffsetCommitRequestTopic>(
      offsets, [](auto& p, const auto& item) { p.committed_offset = item.second; });
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[0].name, "a");
  EXPECT_EQ(topics[1].name, "b");
  ASSERT_EQ(topics[0].partitions.size(), 2u);
  EXPECT_EQ(topics[0].partitions[0].partition_index, 1);
  EXPECT_EQ(topics[0].partitions[0].committed_offset, 1);
  EXPECT_EQ(topics[0].partitions[1].partition_index, 3);
  EXPECT_EQ(topics[0].partitions[1].committed_offset, 3);
  ASSERT_EQ(topics[1].partitions.size(), 2u);
  EXPECT_EQ(topics[1].partitions[0].partition_index, 0);
  EXPECT_EQ(topics[1].partitions[1].committed_offset, 11);

  std::vector<TopicPartition> tps{{"x", 2}, {"w", 0}, {"x", 0}};
  auto lo = group_by_topic<proto::ListOffsetsRequest::ListOffsetsTopic>(
      tps, [](auto& p, const TopicPartition&) { p.timestamp = -2; });
  ASSERT_EQ(lo.size(), 2u);
  EXPECT_EQ(lo[0].name, "w");
  ASSERT_EQ(lo[1].partitions.size(), 2u);
  EXPECT_EQ(lo[1].partitions[0].partition_index, 2);
  EXPECT_EQ(lo[1].partitions[1].partition_index, 0);
  EXPECT_EQ(lo[1].partitions[1].timestamp, -2);
}

}  // namespace
}  // namespace millrace::client
