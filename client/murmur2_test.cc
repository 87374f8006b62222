#include "client/murmur2.h"

#include <gtest/gtest.h>

#include <string>

namespace millrace::client {
namespace {

// Golden values printed by Apache Kafka 4.1.1's own client (kafka-clients jar,
// org.apache.kafka.common.utils.Utils.murmur2 and
// BuiltInPartitioner.partitionForKey = toPositive(murmur2(key)) % n) for these bytes.
// tests/client/murmur2-vs-java compares 10,000 more keys with the Java client live.
struct Golden {
  std::string bytes;
  int32_t hash;
  int32_t partition_of_12;
  int32_t partition_of_7;
};

const Golden kGolden[] = {
    {"", 275646681, 9, 2},
    {"a", -1563381124, 4, 5},
    {"ab", 316155434, 2, 0},
    {"abc", 479470107, 3, 4},
    {"abcd", -1323649548, 8, 5},
    {"hello world", 1221641059, 7, 2},
    // Bytes >= 0x80: Java masks each byte with 0xff; a signed-char reading differs.
    {"\xff\xfe\xfd\xfc\xfb", 524068735, 7, 1},
    {"\x80", 857690492, 8, 1},
    {"\x7f\x80\x81", 756355482, 6, 1},
    {"\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x99\x82", 2047975597, 1, 3},   // "é漢🙂" in UTF-8
};

TEST(Murmur2, MatchesTheJavaClient) {
  for (const auto& g : kGolden) EXPECT_EQ(murmur2(g.bytes), g.hash) << "key of " << g.bytes.size() << " bytes";
}

TEST(Murmur2, PartitionForKeyMatchesTheJavaClient) {
  for (const auto& g : kGolden) {
    EXPECT_EQ(partition_for_key(g.bytes, 12), g.partition_of_12) << "key of " << g.bytes.size() << " bytes";
    EXPECT_EQ(partition_for_key(g.bytes, 7), g.partition_of_7) << "key of " << g.bytes.size() << " bytes";
  }
  // A negative hash goes through toPositive (hash & 0x7fffffff), not abs():
  // "a" hashes to -1563381124; toPositive gives 584102524, 584102524 % 1000 = 524.
  EXPECT_EQ(partition_for_key("a", 1000), 524);
  EXPECT_EQ(partition_for_key("abcd", 1000), 100);
}

}  // namespace
}  // namespace millrace::client
