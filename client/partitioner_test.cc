#include "client/partitioner.h"

#include <gtest/gtest.h>

#include <set>

namespace millrace::client {
namespace {

TEST(DefaultPartitioner, KeyedRecordsGoWhereTheJavaClientPutsThem) {
  // Partitions from Apache Kafka 4.1.1's BuiltInPartitioner.partitionForKey (the
  // Java producer's default for keyed records), for 12 and 3 partitions.
  struct Case {
    const char* key;
    int32_t of_12, of_3;
  };
  const Case cases[] = {{"k0", 5, 2}, {"k1", 5, 2}, {"k2", 9, 0}, {"k17", 1, 1}, {"user-42", 4, 1}, {"order-1001", 6, 0}};
  DefaultPartitioner p(1);
  for (const auto& c : cases) {
    EXPECT_EQ(p.partition("t", std::string(c.key), 12), c.of_12) << c.key;
    EXPECT_EQ(p.partition("t", std::string(c.key), 3), c.of_3) << c.key;
  }
  // Keyed records do not move the sticky partition, nor does it move them.
  p.on_new_batch("t", 5, 12);
  EXPECT_EQ(p.partition("t", std::string("k0"), 12), 5);
}

TEST(DefaultPartitioner, KeylessRecordsStickUntilNewBatch) {
  DefaultPartitioner p(7);
  int32_t first = p.partition("t", std::nullopt, 8);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p.partition("t", std::nullopt, 8), first);
  p.on_new_batch("t", first, 8);
  int32_t second = p.partition("t", std::nullopt, 8);
  EXPECT_NE(second, first);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p.partition("t", std::nullopt, 8), second);
}

TEST(DefaultPartitioner, NewBatchOnOtherPartitionDoesNotMove) {
  DefaultPartitioner p(3);
  int32_t cur = p.partition("t", std::nullopt, 8);
  p.on_new_batch("t", (cur + 1) % 8, 8);   // a keyed batch elsewhere filled
  EXPECT_EQ(p.partition("t", std::nullopt, 8), cur);
}

TEST(DefaultPartitioner, StickyVisitsAllPartitionsOverTime) {
  DefaultPartitioner p(11);
  std::set<int32_t> seen;
  for (int i = 0; i < 500; ++i) {
    int32_t cur = p.partition("t", std::nullopt, 6);
    seen.insert(cur);
    p.on_new_batch("t", cur, 6);
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(DefaultPartitioner, TopicsAreIndependent) {
  DefaultPartitioner p(5);
  int32_t a = p.partition("a", std::nullopt, 50);
  int32_t b = p.partition("b", std::nullopt, 50);
  p.on_new_batch("b", b, 50);
  EXPECT_EQ(p.partition("a", std::nullopt, 50), a);
}

TEST(DefaultPartitioner, SinglePartitionAlwaysZero) {
  DefaultPartitioner p(9);
  p.on_new_batch("t", 0, 1);
  EXPECT_EQ(p.partition("t", std::nullopt, 1), 0);
}

TEST(RoundRobinPartitioner, Cycles) {
  RoundRobinPartitioner p;
  for (int i = 0; i < 9; ++i) EXPECT_EQ(p.partition("t", std::string("same"), 3), i % 3);
}

struct EvenOnly final : Partitioner {
  int32_t partition(std::string_view, const std::optional<std::string>& key, int32_t n) override {
    return key ? (static_cast<int32_t>(key->size()) * 2) % n : 0;
  }
};

TEST(CustomPartitioner, InterfaceIsUsable) {
  EvenOnly p;
  Partitioner& base = p;
  EXPECT_EQ(base.partition("t", std::string("abc"), 10), 6);
}

}  // namespace
}  // namespace millrace::client
