#include "operator/rolling/roll.h"

#include <gtest/gtest.h>

namespace millrace::op::rolling {
namespace {

PartitionState part(std::vector<int32_t> replicas, std::vector<int32_t> isr, int32_t p = 0) {
  return {"t", p, std::move(replicas), std::move(isr), 2};
}

std::vector<RollMember> three(bool outdated = true) {
  return {{1, "c-0", outdated, true}, {2, "c-1", outdated, true}, {3, "c-2", outdated, true}};
}

const QuorumState kQuorum{{1, 2, 3}, {1, 2, 3}, 2};
const std::vector<PartitionState> kInSync{part({1, 2, 3}, {1, 2, 3}), part({2, 3, 1}, {2, 3, 1}, 1)};

TEST(Roll, NothingOutdatedIsIdle) {
  auto s = next_roll_step(three(false), -1, kInSync, kQuorum);
  EXPECT_EQ(s.action, RollAction::kIdle);
  EXPECT_TRUE(s.pending.empty());
}

TEST(Roll, RestartsOneBrokerAtATimeTheActiveControllerLast) {
  auto s = next_roll_step(three(), -1, kInSync, kQuorum);
  ASSERT_EQ(s.action, RollAction::kRestart);
  EXPECT_EQ(s.broker, 1);
  EXPECT_EQ(s.pending, (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(s.message, "restarting broker 1 (pod c-0); then: 3,2");
}

TEST(Roll, WaitsWhileTheRestartedBrokerIsDownThenUntilItIsBack) {
  auto members = three();
  members[0].ready = false;  // broker 1's pod is being made again
  auto s = next_roll_step(members, 1, kInSync, kQuorum);
  EXPECT_EQ(s.action, RollAction::kWait);
  EXPECT_EQ(s.reason, "WaitingForBroker");
  EXPECT_EQ(s.pending, (std::vector<int32_t>{3, 2}));
  // Its new pod is Ready on the new template, but it is not in an ISR yet.
  members[0] = {1, "c-0", false, true};
  std::vector<PartitionState> lagging{part({1, 2, 3}, {2, 3}), part({2, 3, 1}, {2, 3, 1}, 1)};
  s = next_roll_step(members, 1, lagging, kQuorum);
  EXPECT_EQ(s.action, RollAction::kWait);
  EXPECT_NE(s.message.find("t-0: broker 1 is not in its ISR [2,3] yet"), std::string::npos) << s.message;
  // Nor caught up with the controller quorum.
  s = next_roll_step(members, 1, kInSync, QuorumState{{1, 2, 3}, {2, 3}, 2});
  EXPECT_EQ(s.action, RollAction::kWait);
  // Back: settled, and only then the next one.
  s = next_roll_step(members, 1, kInSync, kQuorum);
  EXPECT_EQ(s.action, RollAction::kSettled);
  EXPECT_EQ(s.broker, 1);
  s = next_roll_step(members, -1, kInSync, kQuorum);
  ASSERT_EQ(s.action, RollAction::kRestart);
  EXPECT_EQ(s.broker, 3);
}

TEST(Roll, NeverRestartsWhileAnotherBrokerIsDown) {
  auto members = three();
  members[2].outdated = false;
  members[2].ready = false;  // broker 3 is down for its own reasons
  auto s = next_roll_step(members, -1, kInSync, kQuorum);
  EXPECT_EQ(s.action, RollAction::kWait);
  EXPECT_EQ(s.message, "broker 3 (pod c-2) is not Ready; to restart: 1,2");
}

TEST(Roll, TheGateHoldsABrokerWhosePartitionsWouldStopTakingWrites) {
  std::vector<PartitionState> at_min{part({1, 2, 3}, {1, 2})};  // acks=all needs both
  auto members = three();
  members[2].outdated = false;
  auto s = next_roll_step(members, -1, at_min, kQuorum);
  EXPECT_EQ(s.action, RollAction::kWait);
  EXPECT_EQ(s.reason, "Blocked");
  EXPECT_NE(s.message.find("restart of broker 1 waits: t-0: ISR [1,2]"), std::string::npos) << s.message;
}

TEST(Roll, ARestartedBrokerThatLeftTheClusterSettles) {
  auto s = next_roll_step({{1, "c-0", false, true}}, 5, kInSync, kQuorum);
  EXPECT_EQ(s.action, RollAction::kSettled);
  EXPECT_EQ(s.broker, 5);
}

}  // namespace
}  // namespace millrace::op::rolling
