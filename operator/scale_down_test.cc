#include "operator/scale_down.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace millrace::op {
namespace {

struct Loads {
  std::map<int, BrokerLoad> by_ordinal;
  std::vector<int> asked;
  std::function<BrokerLoad(int)> fn() {
    return [this](int o) {
      asked.push_back(o);
      auto it = by_ordinal.find(o);
      return it == by_ordinal.end() ? BrokerLoad{o, "demo-" + std::to_string(o), 0, ""} : it->second;
    };
  }
};

TEST(PlanScaleDown, ScaleUpAsksNobody) {
  Loads l;
  auto p = plan_scale_down(1, 3, l.fn());
  EXPECT_EQ(p.replicas, 3);
  EXPECT_FALSE(p.blocker);
  EXPECT_TRUE(l.asked.empty());
}

TEST(PlanScaleDown, EmptyBrokersGo) {
  Loads l;
  auto p = plan_scale_down(3, 1, l.fn());
  EXPECT_EQ(p.replicas, 1);
  EXPECT_FALSE(p.blocker);
  EXPECT_EQ(l.asked, (std::vector<int>{2, 1}));
}

TEST(PlanScaleDown, HighestBrokerWithPartitionsHoldsAll) {
  Loads l;
  l.by_ordinal[1] = {1, "demo-1", 3, ""};
  auto p = plan_scale_down(2, 1, l.fn());
  EXPECT_EQ(p.replicas, 2);
  ASSERT_TRUE(p.blocker);
  EXPECT_EQ(p.blocker->broker_id, 1);
  EXPECT_EQ(p.blocker->partitions, 3);
}

TEST(PlanScaleDown, ShrinksDownToTheFirstBusyBroker) {
  Loads l;
  l.by_ordinal[1] = {1, "demo-1", 2, ""};
  auto p = plan_scale_down(4, 0, l.fn());
  EXPECT_EQ(p.replicas, 2);  // 3 and 2 were empty, 1 is not
  EXPECT_EQ(l.asked, (std::vector<int>{3, 2, 1}));
}

TEST(PlanScaleDown, UnreachableBrokerBlocks) {
  Loads l;
  l.by_ordinal[2] = {2, "demo-2", 0, "no ready pod"};
  auto p = plan_scale_down(3, 2, l.fn());
  EXPECT_EQ(p.replicas, 3);
  ASSERT_TRUE(p.blocker);
  auto msg = scale_down_message(*p.blocker, 3, 2);
  EXPECT_NE(msg.find("cannot tell"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no ready pod"), std::string::npos) << msg;
}

TEST(ScaleDownMessage, NamesBrokerPodAndCount) {
  auto msg = scale_down_message({1, "demo-1", 3, ""}, 2, 1);
  EXPECT_NE(msg.find("broker 1 (pod demo-1)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3 partition replicas"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at 2 brokers instead of 1"), std::string::npos) << msg;
}

}  // namespace
}  // namespace millrace::op
