#include "operator/conditions.h"

#include <gtest/gtest.h>

namespace millrace::op {
namespace {

TEST(Conditions, NewConditionGetsNowAsTransitionTime) {
  auto c = set_condition(nullptr, {"Ready", "True", "BrokersReady", "1/1", 2}, "T1");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]["lastTransitionTime"], "T1");
  EXPECT_EQ(c[0]["observedGeneration"], 2);
}

TEST(Conditions, SameStatusKeepsTransitionTimeFlipResetsIt) {
  auto c = set_condition(nullptr, {"Ready", "False", "BrokersNotReady", "0/1", 1}, "T1");
  c = set_condition(c, {"Ready", "False", "BrokersNotReady", "0/3", 1}, "T2");
  EXPECT_EQ(c[0]["lastTransitionTime"], "T1");
  EXPECT_EQ(c[0]["message"], "0/3");
  c = set_condition(c, {"Ready", "True", "BrokersReady", "3/3", 1}, "T3");
  EXPECT_EQ(c[0]["lastTransitionTime"], "T3");
  EXPECT_EQ(c.size(), 1u);
}

TEST(Conditions, OtherTypesAreKept) {
  auto c = set_condition(nullptr, {"Conflict", "True", "OlderTopicOwnsName", "x", 1}, "T1");
  c = set_condition(c, {"Ready", "True", "Ready", "", 1}, "T2");
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(find_condition(c, "Conflict")["reason"], "OlderTopicOwnsName");
  EXPECT_TRUE(find_condition(c, "Missing").is_null());
}

TEST(Conditions, RemoveDropsOnlyThatType) {
  auto c = set_condition(nullptr, {"Ready", "True", "BrokersReady", "1/1", 1}, "T1");
  c = set_condition(c, {"ServiceMonitor", "False", "CRDNotInstalled", "m", 1}, "T1");
  c = remove_condition(c, "ServiceMonitor");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]["type"], "Ready");
  EXPECT_EQ(remove_condition(c, "Missing"), c);
  EXPECT_EQ(remove_condition(nullptr, "Ready"), json::array());
}

TEST(Conditions, StatusEqualIgnoresOnlyTransitionTimes) {
  auto a = json{{"readyBrokers", 1}, {"conditions", set_condition(nullptr, {"Ready", "True", "R", "m", 1}, "T1")}};
  auto b = json{{"readyBrokers", 1}, {"conditions", set_condition(nullptr, {"Ready", "True", "R", "m", 1}, "T9")}};
  EXPECT_TRUE(status_equal(a, b));
  b["readyBrokers"] = 2;
  EXPECT_FALSE(status_equal(a, b));
}

TEST(Conditions, StatusEqualTakesANullAsAbsentAsAMergePatchDoes) {
  auto stored = json{{"roll", {{"pending", {2}}}}};
  EXPECT_TRUE(status_equal(stored, json{{"roll", {{"pending", {2}}, {"restarting", nullptr}}}}));
  EXPECT_TRUE(status_equal(json::object(), json{{"roll", nullptr}}));
  EXPECT_FALSE(status_equal(stored, json{{"roll", {{"pending", {2}}, {"restarting", 1}}}}));
}

}  // namespace
}  // namespace millrace::op
