#include "cluster/controller/broker_control.h"

#include <gtest/gtest.h>

#include "cluster/controller/control_testing.h"

namespace millrace::cluster {
namespace {

using namespace records;

constexpr int64_t kSession = 6000;

TopicId incarnation(uint8_t n) {
  TopicId id{};
  id[15] = n;
  return id;
}

using testing::apply_all;

// Three brokers, registered and caught up (unfenced), topic "orders" with 3
// partitions of 3 replicas.
struct Cluster {
  MetadataState state;
  BrokerControl control{kSession};
  Cluster() {
    for (int i = 1; i <= 3; ++i) {
      auto r = control.register_broker(state, {i, incarnation(static_cast<uint8_t>(i)), {{"PLAINTEXT", "h", 9092, 0}}, {}},
                                       10 * i, 0);
      EXPECT_TRUE(r.ok()) << r.message;
      apply_all(state, r.records);
      EXPECT_TRUE(state.brokers().at(i).fenced) << "registered fenced";
      auto hb = control.heartbeat(state, {i, 10 * i, 50, false}, 50, 0);
      EXPECT_TRUE(hb.ok()) << hb.message;
      apply_all(state, hb.records);
      EXPECT_FALSE(state.brokers().at(i).fenced) << "caught up: unfenced";
    }
    TopicId id{};
    id[0] = 0x40;
    auto t = create_topic(state, {"orders", 3, 3, {}}, id);
    EXPECT_TRUE(t.ok()) << t.message;
    apply_all(state, t.records);
  }
  int32_t leader(int32_t p) { return state.topic("orders")->partitions.at(p).leader; }
};

TEST(BrokerControl, AFencedBrokerIsUnfencedOnlyOnceCaughtUp) {
  MetadataState s;
  BrokerControl c(kSession);
  apply_all(s, c.register_broker(s, {1, incarnation(1), {}, {}}, 10, 0).records);
  auto behind = c.heartbeat(s, {1, 10, 5, false}, 10, 100);
  EXPECT_TRUE(behind.ok());
  EXPECT_TRUE(behind.records.empty());
  apply_all(s, c.heartbeat(s, {1, 10, 10, false}, 10, 200).records);
  EXPECT_FALSE(s.brokers().at(1).fenced);
}

TEST(BrokerControl, AnExpiredSessionFencesTheBrokerButLeavesRaftGroupsToThemselves) {
  Cluster c;
  int32_t led_by_1 = -1;
  for (int p = 0; p < 3; ++p)
    if (c.leader(p) == 1) led_by_1 = p;
  ASSERT_GE(led_by_1, 0);
  const auto before = c.state.topic("orders")->partitions;
  // 2 and 3 keep beating; 1 goes silent.
  for (int64_t t = 1000; t <= 7000; t += 1000) {
    for (int b = 2; b <= 3; ++b) apply_all(c.state, c.control.heartbeat(c.state, {b, 10 * b, 50, false}, 50, t).records);
    apply_all(c.state, c.control.expire(c.state, t));
  }
  EXPECT_TRUE(c.state.brokers().at(1).fenced);
  EXPECT_FALSE(c.state.brokers().at(2).fenced);
  // Three replicas: a Raft group, whose own election moves the leader (and
  // whose new leader reports it); the controller writes no leader or ISR.
  EXPECT_EQ(c.state.topic("orders")->partitions, before);
  auto img = c.state.image(1, "c", 2, "PLAINTEXT");
  EXPECT_EQ(img.brokers().size(), 2u);
  EXPECT_EQ(img.partition("orders", led_by_1)->leader, -1) << "a fenced leader shows no leader";
  // Back and caught up: unfenced, and the image shows it leading again (the
  // state never stopped saying so), still with no record of the controller's.
  auto back = c.control.heartbeat(c.state, {1, 10, 50, false}, 50, 8000);
  ASSERT_EQ(back.records.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<UnfenceBrokerRecord>(back.records[0]));
  apply_all(c.state, back.records);
  EXPECT_EQ(c.state.topic("orders")->partitions.at(led_by_1).leader, 1);
  // (The image names it once its Raft group reported it: placement's first
  // replica at epoch 0 is no leader for clients, metadata_state.cc.)
  EXPECT_EQ(c.state.image(2, "c", 2, "PLAINTEXT").partition("orders", led_by_1)->leader, -1);
}

TEST(BrokerControl, TheLastInSyncReplicaKeepsItsPlaceButLeadsNothingWhileFenced) {
  MetadataState s;
  BrokerControl c(kSession);
  apply_all(s, c.register_broker(s, {1, incarnation(1), {}, {}}, 10, 0).records);
  apply_all(s, c.heartbeat(s, {1, 10, 10, false}, 10, 0).records);
  TopicId id{};
  apply_all(s, create_topic(s, {"solo", 1, 1, {}}, id).records);
  apply_all(s, c.expire(s, kSession + 1));
  const auto& p = s.topic("solo")->partitions.at(0);
  EXPECT_EQ(p.leader, -1);
  EXPECT_EQ(p.isr, (std::vector<int32_t>{1}));
}

TEST(BrokerControl, ControlledShutdownLeavesRaftGroupsLeadershipToTheBroker) {
  Cluster c;
  const auto before = c.state.topic("orders")->partitions;
  auto r = c.control.heartbeat(c.state, {2, 20, 50, true}, 50, 500);
  ASSERT_TRUE(r.ok()) << r.message;
  apply_all(c.state, r.records);
  EXPECT_TRUE(c.state.brokers().at(2).in_controlled_shutdown);
  // The broker hands its Raft leadership on itself; the new leaders report it.
  EXPECT_EQ(c.state.topic("orders")->partitions, before);
  EXPECT_TRUE(BrokerControl::can_shut_down(c.state, 2));
  // New topics avoid it too.
  TopicId id{};
  id[0] = 0x41;
  auto t = create_topic(c.state, {"later", 4, 2, {}}, id);
  ASSERT_TRUE(t.ok()) << t.message;
  for (size_t i = 1; i < t.records.size(); ++i) {
    const auto& reps = std::get<PartitionRecord>(t.records[i]).replicas;
    EXPECT_EQ(std::count(reps.begin(), reps.end(), 2), 0);
  }
}

TEST(BrokerControl, ADuplicateIncarnationIsRefusedWhileTheOldSessionLives) {
  Cluster c;
  auto dup = c.control.register_broker(c.state, {1, incarnation(99), {}, {}}, 500, 1000);
  EXPECT_EQ(dup.error, 101);
  auto same = c.control.register_broker(c.state, {1, incarnation(1), {}, {}}, 500, 1000);
  EXPECT_TRUE(same.ok()) << "the same process re-registering";
  auto later = c.control.register_broker(c.state, {1, incarnation(99), {}, {}}, 600, 1000 + kSession);
  EXPECT_TRUE(later.ok()) << "after the old session expired";
  EXPECT_EQ(c.control.heartbeat(c.state, {1, 999, 50, false}, 50, 2000).error, 77);
  EXPECT_EQ(c.control.heartbeat(c.state, {9, 1, 50, false}, 50, 2000).error, 102);
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

TEST(BrokerControl, ABrokerBackFromFencingLeadsThePartitionsOnlyItHeld) {
  MetadataState s;
  BrokerControl c(kSession);
  for (int i = 1; i <= 2; ++i) {
    apply_all(s, c.register_broker(s, {i, incarnation(static_cast<uint8_t>(i)), {}, {}}, 10 * i, 0).records);
    apply_all(s, c.heartbeat(s, {i, 10 * i, 50, false}, 50, 0).records);
  }
  TopicId id{};
  id[1] = 5;
  apply_all(s, create_topic(s, {"one-replica", 2, 1, {}}, id).records);
  int32_t on_1 = s.topic("one-replica")->partitions.at(0).leader == 1 ? 0 : 1;
  // 1 goes silent: fenced, its partition has no leader (its only replica).
  apply_all(s, c.heartbeat(s, {2, 20, 50, false}, 50, 7000).records);
  apply_all(s, c.expire(s, 7000));
  ASSERT_TRUE(s.brokers().at(1).fenced);
  EXPECT_EQ(s.topic("one-replica")->partitions.at(on_1).leader, -1);
  // It comes back caught up: unfenced, and it leads that partition again.
  apply_all(s, c.heartbeat(s, {1, 10, 60, false}, 10, 8000).records);
  EXPECT_FALSE(s.brokers().at(1).fenced);
  EXPECT_EQ(s.topic("one-replica")->partitions.at(on_1).leader, 1);
  EXPECT_EQ(s.topic("one-replica")->partitions.at(1 - on_1).leader, 2) << "the other partition is untouched";
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

TEST(BrokerControl, AControlledShutdownKeepsTheLeaderOfPartitionsWithNowhereToGo) {
  MetadataState s;
  BrokerControl c(kSession);
  for (int i = 1; i <= 2; ++i) {
    apply_all(s, c.register_broker(s, {i, incarnation(static_cast<uint8_t>(i)), {}, {}}, 10 * i, 0).records);
    apply_all(s, c.heartbeat(s, {i, 10 * i, 50, false}, 50, 0).records);
  }
  TopicId one{}, two{};
  one[1] = 1;
  two[1] = 2;
  apply_all(s, create_topic(s, {"rf1", 2, 1, {}}, one).records);
  apply_all(s, create_topic(s, {"rf2", 2, 2, {}}, two).records);
  const auto rf2 = s.topic("rf2")->partitions;
  EXPECT_TRUE(BrokerControl::can_shut_down(s, 1)) << "rf2 is two Raft groups: their leadership is the broker's to move";
  apply_all(s, c.heartbeat(s, {1, 10, 60, true}, 10, 100).records);
  EXPECT_EQ(s.topic("rf2")->partitions, rf2) << "the controller moved a Raft group's leader";
  for (const auto& [i, p] : s.topic("rf1")->partitions)
    if (p.replicas == std::vector<int32_t>{1}) {
      EXPECT_EQ(p.leader, 1) << "rf1/" << i << ": nowhere to go, it keeps serving until it is gone";
      EXPECT_EQ(p.isr, std::vector<int32_t>{1});
    }
  EXPECT_TRUE(BrokerControl::can_shut_down(s, 1));
  // Once gone (the session expires), those partitions have no leader.
  apply_all(s, c.heartbeat(s, {2, 20, 60, false}, 10, 7000).records);
  apply_all(s, c.expire(s, 7000));
  for (const auto& [i, p] : s.topic("rf1")->partitions)
    if (p.replicas == std::vector<int32_t>{1}) {
      EXPECT_EQ(p.leader, -1);
    }
}

}  // namespace
}  // namespace millrace::cluster
