#include "cluster/metadata/records/codec.h"

#include <gtest/gtest.h>

#include "cluster/metadata/records/generated/testing/samples.h"

namespace millrace::cluster::records {
namespace {

// Every record type, every version: framed, decoded back equal; every strict
// prefix is refused, and so is a byte more.
template <typename T>
void every_version() {
  for (int16_t v = T::kLowestVersion; v <= T::kHighestVersion; ++v) {
    T rec;
    testing::fill_sample(rec, v, 7);
    auto bytes = encode_record(AnyRecord(rec), v);
    auto back = decode_record(bytes);
    ASSERT_TRUE(back.ok()) << back.error;
    EXPECT_EQ(back.value.version, v);
    ASSERT_TRUE(std::holds_alternative<T>(back.value.record));
    EXPECT_EQ(encode_record(back.value.record, v), bytes) << record_type_name(T::kApiKey) << " v" << v;
    for (size_t n = 0; n < bytes.size(); ++n)
      EXPECT_FALSE(decode_record(std::span<const uint8_t>(bytes.data(), n)).ok()) << n;
    bytes.push_back(0);
    EXPECT_NE(decode_record(bytes).error.find("after its end"), std::string::npos);
  }
}

template <typename... Ts>
struct All {
  static void run() { (every_version<Ts>(), ...); }
};

TEST(MetadataRecordCodec, EveryTypeEveryVersionRoundTripsInItsFrame) { WithAllMessages<All>::run(); }

TEST(MetadataRecordCodec, FrameIsKRaftsVarintHeader) {
  TopicRecord t;
  t.name = "orders";
  auto bytes = encode_record(AnyRecord(t));
  ASSERT_GE(bytes.size(), 3u);
  EXPECT_EQ(bytes[0], 1);  // frame version
  EXPECT_EQ(bytes[1], 2);  // TopicRecord
  EXPECT_EQ(bytes[2], 0);  // version 0
  EXPECT_EQ(record_type(AnyRecord(t)), 2);
}

TEST(MetadataRecordCodec, BadFramesAreNamed) {
  EXPECT_NE(decode_record(std::vector<uint8_t>{}).error.find("truncated frame header"), std::string::npos);
  EXPECT_NE(decode_record(std::vector<uint8_t>{0, 2, 0}).error.find("frame version 0"), std::string::npos);
  EXPECT_NE(decode_record(std::vector<uint8_t>{1, 99, 0}).error.find("unknown record type 99"), std::string::npos);
  EXPECT_NE(decode_record(std::vector<uint8_t>{1, 2, 5}).error.find("TopicRecord version 5 outside 0..0"),
            std::string::npos);
  EXPECT_NE(decode_record(std::vector<uint8_t>{1, 2, 0, 0x05}).error.find("truncated or malformed"),
            std::string::npos);
}

}  // namespace
}  // namespace millrace::cluster::records
