#include "coordination/offsets_format.h"

#include <gtest/gtest.h>

namespace millrace::coordination {
namespace {

TEST(OffsetsFormatTest, OffsetKeyRoundTrips) {
  auto bytes = encode_offset_key({"g", "orders", 7});
  auto k = decode_key(bytes);
  auto* ok = std::get_if<OffsetKey>(&k);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->group, "g");
  EXPECT_EQ(ok->topic, "orders");
  EXPECT_EQ(ok->partition, 7);
}

TEST(OffsetsFormatTest, OffsetValueRoundTrips) {
  auto v = decode_offset_value(encode_offset_value({42, 3, "meta", 1000}));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->offset, 42);
  EXPECT_EQ(v->leader_epoch, 3);
  EXPECT_EQ(v->metadata, "meta");
  EXPECT_EQ(v->commit_timestamp_ms, 1000);
}

TEST(OffsetsFormatTest, GroupValueRoundTrips) {
  GroupValue in{"consumer", 5, std::string("range"), std::nullopt, 9};
  auto v = decode_group_value(encode_group_value(in));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->generation, 5);
  EXPECT_EQ(v->protocol, "range");
  EXPECT_FALSE(v->leader);
  auto k = decode_key(encode_group_key({"g"}));
  ASSERT_NE(std::get_if<GroupKey>(&k), nullptr);
}

TEST(OffsetsFormatTest, TruncatedBytesAreRejectedNotRead) {
  auto key = encode_offset_key({"group", "topic", 1});
  for (size_t n = 0; n < key.size(); ++n)
    EXPECT_TRUE(std::holds_alternative<std::monostate>(decode_key({key.data(), n}))) << n;
  auto value = encode_offset_value({1, 0, "m", 2});
  for (size_t n = 0; n < value.size(); ++n) EXPECT_FALSE(decode_offset_value({value.data(), n})) << n;
}

TEST(OffsetsFormatTest, UnknownVersionIsRejected) {
  auto value = encode_offset_value({1, 0, "", 2});
  value[1] = 9;
  EXPECT_FALSE(decode_offset_value(value));
  std::vector<uint8_t> key = {0, 7, 0, 0};
  EXPECT_TRUE(std::holds_alternative<std::monostate>(decode_key(key)));
}

std::vector<uint8_t> bytes_of(std::initializer_list<int> in) {
  std::vector<uint8_t> out;
  for (int b : in) out.push_back(static_cast<uint8_t>(b));
  return out;
}

// Hand-assembled from Kafka's GroupMetadataKey.json (version 2: group) and
// GroupMetadataValue.json (version 3) field by field.
TEST(OffsetsFormatTest, GroupKeyMatchesKafkaLayout) {
  EXPECT_EQ(encode_group_key({"g"}), bytes_of({0, 2, 0, 1, 'g'}));
}

TEST(OffsetsFormatTest, GroupValueV3MatchesKafkaLayout) {
  GroupValue in{"consumer", 5, std::string("range"), std::string("m1"), 0x0102, {}};
  in.members.push_back({"m1", std::nullopt, "c", "h", 300000, 10000, {0xaa}, {0xbb, 0xcc}});
  auto expected = bytes_of({
      0, 3,                                          // version
      0, 8, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',  // protocolType
      0, 0, 0, 5,                                    // generation
      0, 5, 'r', 'a', 'n', 'g', 'e',                 // protocol
      0, 2, 'm', '1',                                // leader
      0, 0, 0, 0, 0, 0, 1, 2,                        // currentStateTimestamp
      0, 0, 0, 1,                                    // members: 1
      0, 2, 'm', '1',                                // memberId
      0xff, 0xff,                                    // groupInstanceId: null
      0, 1, 'c',                                     // clientId
      0, 1, 'h',                                     // clientHost
      0, 0x04, 0x93, 0xe0,                           // rebalanceTimeout 300000
      0, 0, 0x27, 0x10,                              // sessionTimeout 10000
      0, 0, 0, 1, 0xaa,                              // subscription
      0, 0, 0, 2, 0xbb, 0xcc});                      // assignment
  EXPECT_EQ(encode_group_value(in), expected);
  auto v = decode_group_value(expected);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->protocol_type, "consumer");
  EXPECT_EQ(v->generation, 5);
  EXPECT_EQ(v->leader, std::optional<std::string>("m1"));
  EXPECT_EQ(v->state_timestamp_ms, 0x0102);
  ASSERT_EQ(v->members.size(), 1u);
  EXPECT_EQ(v->members[0], in.members[0]);
}

TEST(OffsetsFormatTest, GroupValueV3StaticMemberRoundTrips) {
  GroupValue in{"consumer", 1, std::string("range"), std::string("a"), 7, {}};
  in.members.push_back({"a", std::string("inst"), "c", "h", 1, 2, {}, {}});
  in.members.push_back({"b", std::nullopt, "c2", "h2", 3, 4, {1}, {}});
  auto v = decode_group_value(encode_group_value(in));
  ASSERT_TRUE(v);
  ASSERT_EQ(v->members.size(), 2u);
  EXPECT_EQ(v->members[0], in.members[0]);
  EXPECT_EQ(v->members[1], in.members[1]);
}

TEST(OffsetsFormatTest, GroupValueV0ReadsWithKafkaDefaults) {
  // v0: no currentStateTimestamp, no rebalanceTimeout, no groupInstanceId.
  auto v = decode_group_value(bytes_of({0, 0, 0, 8, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r', 0, 0, 0, 2,
                                        0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 1, 'm', 0, 1, 'c', 0, 1, 'h',
                                        0, 0, 0x17, 0x70, 0, 0, 0, 0, 0, 0, 0, 1, 7}));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->generation, 2);
  EXPECT_FALSE(v->protocol);
  EXPECT_FALSE(v->leader);
  EXPECT_EQ(v->state_timestamp_ms, -1);
  ASSERT_EQ(v->members.size(), 1u);
  EXPECT_EQ(v->members[0].session_timeout_ms, 6000);
  EXPECT_EQ(v->members[0].rebalance_timeout_ms, 6000);
  EXPECT_EQ(v->members[0].assignment, bytes_of({7}));
}

TEST(OffsetsFormatTest, GroupValueV1AndV2AddTheirFields) {
  // v1: rebalanceTimeout after clientHost; still no timestamp.
  auto v1 = decode_group_value(bytes_of({0, 1, 0, 1, 'x', 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1,
                                         0, 1, 'm', 0, 1, 'c', 0, 1, 'h', 0, 0, 0, 9, 0, 0, 0x17, 0x70,
                                         0, 0, 0, 0, 0, 0, 0, 0}));
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->state_timestamp_ms, -1);
  ASSERT_EQ(v1->members.size(), 1u);
  EXPECT_EQ(v1->members[0].rebalance_timeout_ms, 9);
  EXPECT_EQ(v1->members[0].session_timeout_ms, 6000);
  // v2: currentStateTimestamp before the members; no groupInstanceId.
  auto v2 = decode_group_value(bytes_of({0, 2, 0, 1, 'x', 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff,
                                         0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0}));
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->state_timestamp_ms, 42);
  EXPECT_TRUE(v2->members.empty());
}

TEST(OffsetsFormatTest, BadGroupValuesAreRejected) {
  GroupValue in{"consumer", 1, std::string("range"), std::string("a"), 7, {}};
  in.members.push_back({"a", std::string("inst"), "c", "h", 1, 2, {1, 2}, {3}});
  auto bytes = encode_group_value(in);
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(decode_group_value({bytes.data(), n})) << n;
  auto v4 = bytes;
  v4[1] = 4;  // flexible version: not read
  EXPECT_FALSE(decode_group_value(v4));
  // A member count far beyond the bytes present.
  auto huge = bytes_of({0, 3, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0});
  EXPECT_FALSE(decode_group_value(huge));
  auto negative_bytes = bytes_of({0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                  0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0});
  EXPECT_FALSE(decode_group_value(negative_bytes));
}

}  // namespace
}  // namespace millrace::coordination
