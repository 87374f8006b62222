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

}  // namespace
}  // namespace millrace::coordination
