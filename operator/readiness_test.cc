#include "operator/readiness.h"

#include <gtest/gtest.h>

namespace millrace::op {
namespace {

using namespace std::chrono_literals;
using Clock = ApiReachability::Clock;

class ReadinessTest : public ::testing::Test {
 protected:
  ApiReachability reach{15s};
  Clock::time_point t0 = Clock::now();
};

TEST_F(ReadinessTest, NotReadyBeforeTheApiServerAnswers) {
  auto v = reach.verdict(t0, "standby", false);
  EXPECT_FALSE(v.ready);
  EXPECT_EQ(v.detail, "API server not reached yet");
}

TEST_F(ReadinessTest, NotReadyYetCarriesTheTransportError) {
  reach.failed(t0, "connection refused");
  auto v = reach.verdict(t0, "standby", false);
  EXPECT_FALSE(v.ready);
  EXPECT_EQ(v.detail, "API server not reached yet: connection refused");
}

TEST_F(ReadinessTest, StandbyIsReadyWithoutLeadershipOrSyncedCaches) {
  reach.answered(t0);
  auto v = reach.verdict(t0 + 1s, "standby", false);
  EXPECT_TRUE(v.ready);
  EXPECT_EQ(v.detail, "ok: standby");
}

TEST_F(ReadinessTest, LeaderIsReadyWhileItsCachesSync) {
  reach.answered(t0);
  EXPECT_EQ(reach.verdict(t0, "leader", false).detail, "ok: leader, caches syncing");
  EXPECT_TRUE(reach.verdict(t0, "leader", false).ready);
  EXPECT_EQ(reach.verdict(t0, "leader", true).detail, "ok: leader, caches synced");
}

TEST_F(ReadinessTest, ReadyUpToTheWindowEdge) {
  reach.answered(t0);
  EXPECT_TRUE(reach.verdict(t0 + 15s, "leader", true).ready);
}

TEST_F(ReadinessTest, NotReadyOnceTheApiServerIsSilentLongerThanTheWindow) {
  reach.answered(t0);
  reach.failed(t0 + 10s, "timed out");
  auto v = reach.verdict(t0 + 15s + 1ms, "leader", true);
  EXPECT_FALSE(v.ready);
  EXPECT_EQ(v.detail, "API server last answered 15001 ms ago: timed out");
}

TEST_F(ReadinessTest, ANewAnswerMakesItReadyAgain) {
  reach.answered(t0);
  EXPECT_FALSE(reach.verdict(t0 + 20s, "standby", false).ready);
  reach.answered(t0 + 20s);
  EXPECT_TRUE(reach.verdict(t0 + 21s, "standby", false).ready);
}

TEST_F(ReadinessTest, AnOlderAnswerDoesNotMoveTheLastAnswerBack) {
  reach.answered(t0 + 20s);
  reach.answered(t0);  // a slow ping that started earlier, recorded late
  EXPECT_TRUE(reach.verdict(t0 + 30s, "standby", false).ready);
}

}  // namespace
}  // namespace millrace::op
