#include "operator/config_diff.h"

#include <gtest/gtest.h>

namespace millrace::op {
namespace {

using K = ConfigOp::Kind;

TEST(ConfigDiff, EqualConfigsNeedNoOps) {
  EXPECT_TRUE(diff_topic_config({{"retention.ms", "1000"}}, {{"retention.ms", "1000"}}).empty());
  EXPECT_TRUE(diff_topic_config({}, {}).empty());
}

TEST(ConfigDiff, NewKeyIsSet) {
  auto ops = diff_topic_config({{"cleanup.policy", "compact"}}, {});
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0], (ConfigOp{K::kSet, "cleanup.policy", "compact"}));
}

TEST(ConfigDiff, ChangedValueIsSet) {
  auto ops = diff_topic_config({{"retention.ms", "2000"}}, {{"retention.ms", "1000"}});
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0], (ConfigOp{K::kSet, "retention.ms", "2000"}));
}

TEST(ConfigDiff, KeyRemovedFromSpecIsDeletedBackToDefault) {
  auto ops = diff_topic_config({}, {{"segment.bytes", "1048576"}});
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0], (ConfigOp{K::kDelete, "segment.bytes", ""}));
}

TEST(ConfigDiff, MixedChangesComeSortedByKey) {
  auto ops = diff_topic_config({{"a", "1"}, {"c", "3"}, {"d", "4"}}, {{"b", "2"}, {"c", "3"}, {"d", "5"}, {"e", "6"}});
  std::vector<ConfigOp> want = {{K::kSet, "a", "1"}, {K::kDelete, "b", ""}, {K::kSet, "d", "4"}, {K::kDelete, "e", ""}};
  EXPECT_EQ(ops, want);
}

}  // namespace
}  // namespace millrace::op
