#include "operator/rebalance/on_scale.h"

#include <gtest/gtest.h>

namespace millrace::op::rebalance {
namespace {

using V = std::vector<int32_t>;

TEST(OnScale, FirstSightAdoptsTheBrokersWithoutARebalance) {
  auto d = decide_on_scale({.kept = {2, 0, 1}, .kept_ready = true, .balanced = std::nullopt});
  EXPECT_EQ(d.action, ScaleAction::kNone);
  EXPECT_EQ(d.balanced, (V{0, 1, 2}));
}

TEST(OnScale, NewBrokersAreAddedOnceEveryBrokerIsReady) {
  ScaleFacts f{.kept = {0, 1, 2, 3, 4}, .kept_ready = false, .balanced = V{0, 1, 2}};
  auto waiting = decide_on_scale(f);
  EXPECT_EQ(waiting.action, ScaleAction::kNone) << "a broker not Ready yet cannot take replicas";
  EXPECT_EQ(waiting.balanced, (V{0, 1, 2}));
  f.kept_ready = true;
  auto d = decide_on_scale(f);
  EXPECT_EQ(d.action, ScaleAction::kAddBrokers);
  EXPECT_EQ(d.brokers, (V{3, 4}));
  EXPECT_EQ(d.balanced, (V{0, 1, 2, 3, 4}));
  // Recorded: the next pass does nothing.
  f.balanced = d.balanced;
  EXPECT_EQ(decide_on_scale(f).action, ScaleAction::kNone);
}

TEST(OnScale, DepartingBrokersWithDataAreDrainedAndNothingIsAddedMeanwhile) {
  ScaleFacts f{.kept = {0, 1, 2, 5}, .departing = {4, 3}, .departing_hold_data = true, .kept_ready = true,
               .balanced = V{0, 1, 2, 3, 4}};
  auto d = decide_on_scale(f);
  EXPECT_EQ(d.action, ScaleAction::kRemoveBrokers);
  EXPECT_EQ(d.brokers, (V{3, 4}));
  EXPECT_EQ(d.balanced, (V{0, 1, 2, 3, 4})) << "5 waits until the others have left";
  f.departing_hold_data = false;
  EXPECT_EQ(decide_on_scale(f).action, ScaleAction::kNone) << "empty: the StatefulSet just shrinks";
}

TEST(OnScale, ABrokerThatLeftIsForgottenAndBalancedInAgainWhenItReturns) {
  auto gone = decide_on_scale({.kept = {0, 1, 2}, .kept_ready = true, .balanced = V{0, 1, 2, 3, 4}});
  EXPECT_EQ(gone.action, ScaleAction::kNone);
  EXPECT_EQ(gone.balanced, (V{0, 1, 2}));
  auto back = decide_on_scale({.kept = {0, 1, 2, 3}, .kept_ready = true, .balanced = gone.balanced});
  EXPECT_EQ(back.action, ScaleAction::kAddBrokers);
  EXPECT_EQ(back.brokers, (V{3}));
}

TEST(OnScale, NamesAreOnePerGenerationAndKind) {
  EXPECT_EQ(scale_rebalance_name("demo", 7, ScaleAction::kAddBrokers), "demo-g7-add");
  EXPECT_EQ(scale_rebalance_name("demo", 7, ScaleAction::kRemoveBrokers), "demo-g7-remove");
}

}  // namespace
}  // namespace millrace::op::rebalance
