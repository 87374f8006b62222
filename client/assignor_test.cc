#include "client/assignor.h"

#include <gtest/gtest.h>

#include <set>

namespace millrace::client {
namespace {

Subscription sub(std::vector<std::string> topics, std::vector<TopicPartition> owned = {}, int32_t gen = -1) {
  return Subscription{std::move(topics), std::move(owned), gen};
}

TEST(RangeAssignor, SplitsEachTopicByMemberOrder) {
  auto a = range_assign({{"a", sub({"t"})}, {"b", sub({"t"})}}, {{"t", 5}});
  EXPECT_EQ(a["a"], (std::vector<TopicPartition>{{"t", 0}, {"t", 1}, {"t", 2}}));
  EXPECT_EQ(a["b"], (std::vector<TopicPartition>{{"t", 3}, {"t", 4}}));
}

TEST(RangeAssignor, OnlySubscribersGetATopic) {
  auto a = range_assign({{"a", sub({"t"})}, {"b", sub({"u"})}}, {{"t", 2}, {"u", 1}});
  EXPECT_EQ(a["a"].size(), 2u);
  EXPECT_EQ(a["b"], (std::vector<TopicPartition>{{"u", 0}}));
}

TEST(CooperativeSticky, FreshGroupIsBalanced) {
  auto a = cooperative_sticky_assign({{"a", sub({"t"})}, {"b", sub({"t"})}, {"c", sub({"t"})}}, {{"t", 7}});
  std::set<TopicPartition> all;
  for (auto& [m, tps] : a) {
    EXPECT_GE(tps.size(), 2u);
    EXPECT_LE(tps.size(), 3u);
    all.insert(tps.begin(), tps.end());
  }
  EXPECT_EQ(all.size(), 7u);
}

TEST(CooperativeSticky, OwnersKeepTheirPartitions) {
  auto a = cooperative_sticky_assign(
      {{"a", sub({"t"}, {{"t", 0}, {"t", 2}}, 1)}, {"b", sub({"t"}, {{"t", 1}, {"t", 3}}, 1)}}, {{"t", 4}});
  EXPECT_EQ(a["a"], (std::vector<TopicPartition>{{"t", 0}, {"t", 2}}));
  EXPECT_EQ(a["b"], (std::vector<TopicPartition>{{"t", 1}, {"t", 3}}));
}

TEST(CooperativeSticky, NewMemberGetsRevokedPartitionsOnlyNextGeneration) {
  // a owns all 4; c joins. First round: a keeps 2, the 2 moving are withheld.
  auto first = cooperative_sticky_assign(
      {{"a", sub({"t"}, {{"t", 0}, {"t", 1}, {"t", 2}, {"t", 3}}, 1)}, {"c", sub({"t"})}}, {{"t", 4}});
  EXPECT_EQ(first["a"].size(), 2u);
  EXPECT_TRUE(first["c"].empty());
  // Second round: a now owns 2, c owns none: c gets the other 2.
  auto second = cooperative_sticky_assign({{"a", sub({"t"}, first["a"], 2)}, {"c", sub({"t"}, {}, 2)}}, {{"t", 4}});
  EXPECT_EQ(second["a"], first["a"]);
  EXPECT_EQ(second["c"].size(), 2u);
}

}  // namespace
}  // namespace millrace::client
