#include "cluster/metadata/state/metadata_state.h"

#include <gtest/gtest.h>

#include <random>

namespace millrace::cluster {
namespace {

using namespace records;

proto::Uuid uuid(uint8_t n) {
  proto::Uuid u;
  u.bytes.fill(0);
  u.bytes[15] = n;
  u.bytes[0] = 0x40;
  return u;
}

RegisterBrokerRecord broker(int32_t id, int64_t epoch, bool fenced = false) {
  RegisterBrokerRecord r;
  r.broker_id = id;
  r.broker_epoch = epoch;
  r.incarnation_id = uuid(static_cast<uint8_t>(100 + id));
  RegisterBrokerRecord::BrokerEndpoint e;
  e.name = "PLAINTEXT";
  e.host = "10.0.0." + std::to_string(id);
  e.port = 9092;
  r.end_points.push_back(e);
  r.rack = "rack-" + std::to_string(id % 2);
  r.fenced = fenced;
  return r;
}

RegisterControllerRecord controller(int32_t id, uint16_t port, int endpoints = 1) {
  RegisterControllerRecord r;
  r.controller_id = id;
  r.incarnation_id = uuid(static_cast<uint8_t>(200 + id));
  for (int i = 0; i < endpoints; ++i) {
    RegisterControllerRecord::ControllerEndpoint e;
    e.name = "CONTROLLER";
    e.host = "10.0.1." + std::to_string(id);
    e.port = port;
    r.end_points.push_back(e);
  }
  return r;
}

TopicRecord topic(const std::string& name, uint8_t id) {
  TopicRecord t;
  t.name = name;
  t.topic_id = uuid(id);
  return t;
}

PartitionRecord partition(uint8_t topic_id, int32_t index, std::vector<int32_t> replicas, int32_t leader) {
  PartitionRecord p;
  p.topic_id = uuid(topic_id);
  p.partition_id = index;
  p.replicas = replicas;
  p.isr = replicas;
  p.leader = leader;
  p.leader_epoch = 0;
  p.partition_epoch = 0;
  return p;
}

PartitionLeaderRecord raft_leader(uint8_t topic_id, int32_t index, int32_t leader, int32_t epoch,
                                  std::vector<int32_t> isr) {
  PartitionLeaderRecord r;
  r.topic_id = uuid(topic_id);
  r.partition_id = index;
  r.leader = leader;
  r.leader_epoch = epoch;
  r.isr = std::move(isr);
  return r;
}

void apply_ok(MetadataState& s, const AnyRecord& r) { ASSERT_EQ(s.apply(r), "") << record_type_name(record_type(r)); }

TEST(MetadataState, BrokersTopicsAndPartitionsBecomeTheImage) {
  MetadataState s;
  apply_ok(s, broker(1, 10));
  apply_ok(s, broker(2, 11));
  apply_ok(s, topic("orders", 1));
  apply_ok(s, partition(1, 0, {1, 2}, 1));
  apply_ok(s, partition(1, 1, {2, 1}, 2));
  // Two replicas: a Raft group, led in the image only once its leader
  // reported (epoch = term, from 1); placement's first replica is not a leader.
  EXPECT_EQ(s.image(6, "c1", 1, "PLAINTEXT").topic("orders")->partitions[1].leader, -1);
  apply_ok(s, raft_leader(1, 1, 2, 1, {2, 1}));
  auto img = s.image(7, "c1", 1, "PLAINTEXT");
  EXPECT_EQ(img.version(), 7u);
  ASSERT_EQ(img.brokers().size(), 2u);
  EXPECT_EQ(img.brokers()[1].host, "10.0.0.2");
  EXPECT_EQ(img.brokers()[1].rack, "rack-0");
  const auto* t = img.topic("orders");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->partitions.size(), 2u);
  EXPECT_EQ(t->partitions[1].leader, 2);
  EXPECT_EQ(t->partitions[1].replicas, (std::vector<int32_t>{2, 1}));
  EXPECT_EQ(img.topic(uuid(1).bytes), t);
}

TEST(MetadataState, AFencedBrokerIsNotHandedToClientsAndLeadsNothing) {
  MetadataState s;
  apply_ok(s, broker(1, 10));
  apply_ok(s, broker(2, 11));
  apply_ok(s, topic("orders", 1));
  apply_ok(s, partition(1, 0, {2, 1}, 2));
  apply_ok(s, raft_leader(1, 0, 2, 1, {2, 1}));
  FenceBrokerRecord f;
  f.id = 2;
  f.epoch = 11;
  apply_ok(s, f);
  auto img = s.image(1, "c", 1, "PLAINTEXT");
  ASSERT_EQ(img.brokers().size(), 1u);
  EXPECT_EQ(img.brokers()[0].id, 1);
  EXPECT_EQ(img.partition("orders", 0)->leader, -1);
  UnfenceBrokerRecord u;
  u.id = 2;
  u.epoch = 11;
  apply_ok(s, u);
  EXPECT_EQ(s.image(2, "c", 1, "PLAINTEXT").partition("orders", 0)->leader, 2);
  BrokerRegistrationChangeRecord c;
  c.broker_id = 2;
  c.broker_epoch = 11;
  c.fenced = 1;
  c.in_controlled_shutdown = 1;
  apply_ok(s, c);
  EXPECT_TRUE(s.brokers().at(2).fenced);
  EXPECT_TRUE(s.brokers().at(2).in_controlled_shutdown);
}

// Controlled shutdown reaches the image: the broker is still shown, but is no
// leader candidate (preferred leaders never hand it leadership).
TEST(MetadataState, ABrokerInControlledShutdownIsShownButNoLeaderCandidate) {
  MetadataState s;
  apply_ok(s, broker(1, 10));
  apply_ok(s, broker(2, 11));
  BrokerRegistrationChangeRecord c;
  c.broker_id = 2;
  c.broker_epoch = 11;
  c.in_controlled_shutdown = 1;
  apply_ok(s, c);
  auto img = s.image(1, "c", 1, "PLAINTEXT");
  ASSERT_NE(img.broker(2), nullptr);
  EXPECT_TRUE(img.broker(2)->in_controlled_shutdown);
  EXPECT_EQ(img.leader_candidates(), (std::set<int32_t>{1}));
}

TEST(MetadataState, PartitionChangesFollowKafkasRules) {
  MetadataState s;
  apply_ok(s, topic("orders", 1));
  apply_ok(s, partition(1, 0, {1, 2, 3}, 1));
  PartitionChangeRecord isr_only;
  isr_only.topic_id = uuid(1);
  isr_only.partition_id = 0;
  isr_only.isr = std::vector<int32_t>{1, 2};
  apply_ok(s, isr_only);  // leader -2: unchanged
  auto p = s.topic("orders")->partitions.at(0);
  EXPECT_EQ(p.leader, 1);
  EXPECT_EQ(p.leader_epoch, 0);
  EXPECT_EQ(p.partition_epoch, 1);
  EXPECT_EQ(p.replicas, (std::vector<int32_t>{1, 2, 3}));  // null: unchanged
  PartitionChangeRecord leader;
  leader.topic_id = uuid(1);
  leader.partition_id = 0;
  leader.leader = 2;
  apply_ok(s, leader);
  p = s.topic("orders")->partitions.at(0);
  EXPECT_EQ(p.leader, 2);
  EXPECT_EQ(p.leader_epoch, 1);
  EXPECT_EQ(p.partition_epoch, 2);
  leader.leader = -1;
  apply_ok(s, leader);
  EXPECT_EQ(s.topic("orders")->partitions.at(0).leader, -1);
  EXPECT_EQ(s.topic("orders")->partitions.at(0).leader_epoch, 2);
}

TEST(MetadataState, ARaftLeaderSetsLeaderEpochAndIsrAndBumpsThePartitionEpoch) {
  MetadataState s;
  apply_ok(s, broker(1, 10));
  apply_ok(s, broker(2, 11));
  apply_ok(s, broker(3, 12));
  apply_ok(s, topic("orders", 1));
  apply_ok(s, partition(1, 0, {1, 2, 3}, 1));
  apply_ok(s, raft_leader(1, 0, 2, 7, {2, 3}));  // the term, not epoch + 1
  auto p = s.topic("orders")->partitions.at(0);
  EXPECT_EQ(p.leader, 2);
  EXPECT_EQ(p.leader_epoch, 7);
  EXPECT_EQ(p.isr, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(p.partition_epoch, 1);
  EXPECT_EQ(p.replicas, (std::vector<int32_t>{1, 2, 3}));
  apply_ok(s, raft_leader(1, 0, 2, 7, {1, 2, 3}));  // same term, the ISR grew back
  p = s.topic("orders")->partitions.at(0);
  EXPECT_EQ(p.isr, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(p.leader_epoch, 7);
  EXPECT_EQ(p.partition_epoch, 2);
  auto img = s.image(1, "c", 1, "PLAINTEXT");
  EXPECT_EQ(img.partition("orders", 0)->leader, 2);
  EXPECT_EQ(img.partition("orders", 0)->leader_epoch, 7);
  FenceBrokerRecord f;  // a fenced leader shows no leader, whoever elected it
  f.id = 2;
  f.epoch = 11;
  apply_ok(s, f);
  img = s.image(2, "c", 1, "PLAINTEXT");
  EXPECT_EQ(img.partition("orders", 0)->leader, -1);
  EXPECT_EQ(img.partition("orders", 0)->leader_epoch, 7);
}

TEST(MetadataState, ARaftLeaderOfAnOlderTermOrAnotherLeaderOfTheSameTermIsRefused) {
  MetadataState s;
  apply_ok(s, topic("orders", 1));
  apply_ok(s, partition(1, 0, {1, 2, 3}, 1));
  apply_ok(s, raft_leader(1, 0, 3, 5, {1, 2, 3}));
  const MetadataState before = s;
  auto err = [&](const AnyRecord& r) {
    auto e = s.apply(r);
    EXPECT_EQ(s, before) << e;
    return e;
  };
  EXPECT_NE(err(raft_leader(1, 0, 2, 4, {2})).find("leader epoch 4 is below the partition's 5"), std::string::npos);
  EXPECT_NE(err(raft_leader(1, 0, 2, 5, {2})).find("leader epoch 5 is led by 3, not 2"), std::string::npos);
  EXPECT_NE(err(raft_leader(1, 0, 3, 6, {3, 4})).find("in-sync replica 4 is not a replica"), std::string::npos);
  EXPECT_NE(err(raft_leader(1, 0, 4, 6, {3})).find("leader 4 is not a replica"), std::string::npos);
  EXPECT_NE(err(raft_leader(1, 0, -1, 6, {3})).find("leader -1"), std::string::npos);
  EXPECT_NE(err(raft_leader(1, 1, 3, 6, {3})).find("unknown partition"), std::string::npos);
  EXPECT_NE(err(raft_leader(9, 0, 3, 6, {3})).find("topic id"), std::string::npos);
  // No leader at an epoch names none: the Raft leader of that term may take it.
  PartitionChangeRecord none;
  none.topic_id = uuid(1);
  none.partition_id = 0;
  none.leader = -1;
  apply_ok(s, none);
  ASSERT_EQ(s.topic("orders")->partitions.at(0).leader_epoch, 6);
  apply_ok(s, raft_leader(1, 0, 2, 6, {2}));
  EXPECT_EQ(s.topic("orders")->partitions.at(0).leader, 2);
}

TEST(MetadataState, ARaftLeadersEpochSurvivesTheSnapshot) {
  MetadataState s;
  apply_ok(s, topic("orders", 1));
  apply_ok(s, partition(1, 0, {1, 2, 3}, 1));
  apply_ok(s, raft_leader(1, 0, 3, 12, {3, 1}));
  MetadataState replayed;
  for (const auto& r : s.snapshot()) apply_ok(replayed, decode_record(encode_record(r)).value.record);
  EXPECT_EQ(replayed, s);
  EXPECT_EQ(replayed.topic("orders")->partitions.at(0).leader_epoch, 12);
  EXPECT_EQ(replayed.topic("orders")->partitions.at(0).isr, (std::vector<int32_t>{3, 1}));
}

TEST(MetadataState, ARecordThatDoesNotFitChangesNothingAndSaysWhy) {
  MetadataState s;
  apply_ok(s, broker(1, 10));
  apply_ok(s, topic("orders", 1));
  apply_ok(s, partition(1, 0, {1}, 1));
  const MetadataState before = s;
  auto err = [&](const AnyRecord& r) {
    auto e = s.apply(r);
    EXPECT_EQ(s, before) << e;
    return e;
  };
  EXPECT_NE(err(partition(9, 0, {1}, 1)).find("unknown"), std::string::npos);
  EXPECT_NE(err(partition(1, 0, {1}, 1)).find("exists"), std::string::npos);
  EXPECT_NE(err(partition(1, 1, {1}, 5)).find("leader 5 is not a replica"), std::string::npos);
  EXPECT_NE(err(partition(1, 1, {}, -1)).find("no replicas"), std::string::npos);
  EXPECT_NE(err(partition(1, 1, {1, 1}, 1)).find("twice"), std::string::npos);
  EXPECT_NE(err(topic("orders", 2)).find("topic orders exists"), std::string::npos);
  EXPECT_NE(err(topic("other", 1)).find("topic id"), std::string::npos);
  PartitionChangeRecord bad_leader;
  bad_leader.topic_id = uuid(1);
  bad_leader.partition_id = 0;
  bad_leader.leader = 7;
  EXPECT_NE(err(bad_leader).find("leader 7 is not a replica"), std::string::npos);
  bad_leader.partition_id = 3;
  EXPECT_NE(err(bad_leader).find("unknown partition"), std::string::npos);
  PartitionChangeRecord bad_move;  // adding and removing name replicas, never both, never all
  bad_move.topic_id = uuid(1);
  bad_move.partition_id = 0;
  bad_move.adding_replicas = std::vector<int32_t>{2};
  EXPECT_NE(err(bad_move).find("adding replica 2 is not a replica"), std::string::npos);
  bad_move.adding_replicas.reset();
  bad_move.removing_replicas = std::vector<int32_t>{1};
  EXPECT_NE(err(bad_move).find("every replica removing"), std::string::npos);
  bad_move.adding_replicas = std::vector<int32_t>{1};
  EXPECT_NE(err(bad_move).find("both adding and removing"), std::string::npos);
  UnregisterBrokerRecord stale;
  stale.broker_id = 1;
  stale.broker_epoch = 9;
  EXPECT_NE(err(stale).find("epoch 9 is not its registered 10"), std::string::npos);
  EXPECT_NE(err(broker(1, 10)).find("not above"), std::string::npos);  // re-registration needs a newer epoch
  ProducerIdsRecord ids;
  ids.next_producer_id = 1000;
  apply_ok(s, ids);
  const MetadataState with_ids = s;
  ids.next_producer_id = 500;
  EXPECT_NE(s.apply(ids).find("does not move past 1000"), std::string::npos);
  EXPECT_EQ(s, with_ids);
  ConfigRecord c;
  c.resource_type = kTopicResource;
  c.resource_name = "nope";
  c.name = "retention.ms";
  c.value = "1";
  EXPECT_NE(s.apply(c).find("topic nope unknown"), std::string::npos);
}

TEST(MetadataState, ConfigsAreSetDeletedAndGoWithTheirTopic) {
  MetadataState s;
  apply_ok(s, topic("orders", 1));
  ConfigRecord c;
  c.resource_type = kTopicResource;
  c.resource_name = "orders";
  c.name = "retention.ms";
  c.value = "60000";
  apply_ok(s, c);
  EXPECT_EQ(s.config(kTopicResource, "orders", "retention.ms"), "60000");
  c.value = std::nullopt;
  apply_ok(s, c);
  EXPECT_FALSE(s.config(kTopicResource, "orders", "retention.ms"));
  c.value = "1";
  apply_ok(s, c);
  RemoveTopicRecord rm;
  rm.topic_id = uuid(1);
  apply_ok(s, rm);
  EXPECT_FALSE(s.topic("orders"));
  EXPECT_TRUE(s.configs().empty());
  apply_ok(s, topic("orders", 2));  // the name is free again, under a new id
  EXPECT_FALSE(s.config(kTopicResource, "orders", "retention.ms"));
}

TEST(MetadataState, AControllerRegistrationNamesItsDirectoryAndEndpointsAndAMoveReplacesIt) {
  MetadataState s;
  apply_ok(s, controller(3, 9093));
  ASSERT_EQ(s.controllers().count(3), 1u);
  EXPECT_EQ(s.controllers().at(3).directory_id, uuid(203).bytes);
  EXPECT_EQ(s.controllers().at(3).endpoints.at(0).port, 9093);
  apply_ok(s, controller(3, 9094));  // the voter moved
  EXPECT_EQ(s.controllers().at(3).endpoints.at(0).port, 9094);
  EXPECT_NE(s.apply(controller(4, 9093, 0)), "");  // unreachable: refused, nothing changed
  EXPECT_NE(s.apply(controller(-1, 9093)), "");
  EXPECT_EQ(s.controllers().size(), 1u);
  EXPECT_TRUE(s.brokers().empty());  // a controller is not a broker
}

// A seeded history of records (valid and not): whatever applied, the snapshot
// - framed, decoded and replayed into a fresh state - gives an equal state.
std::vector<AnyRecord> history(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  auto pick = [&](int k) { return static_cast<int32_t>(rng() % static_cast<uint32_t>(k)); };
  std::vector<AnyRecord> out;
  std::map<int32_t, int64_t> epochs;
  for (int i = 0; i < n; ++i) {
    int32_t b = pick(5);
    switch (pick(11)) {
      case 0: out.emplace_back(broker(b, ++epochs[b] * 10, pick(2) == 0)); break;
      case 10: {
        std::vector<int32_t> isr = {pick(5)};
        if (pick(2)) isr.push_back((isr[0] + 1) % 5);
        out.emplace_back(raft_leader(static_cast<uint8_t>(pick(6)), pick(3), isr[0], pick(6), isr));
        break;
      }
      case 9: out.emplace_back(controller(b, static_cast<uint16_t>(9093 + pick(2)), pick(4) ? 1 : 0)); break;
      case 1: {
        FenceBrokerRecord f;
        f.id = b;
        f.epoch = epochs[b] * 10;
        out.emplace_back(f);
        break;
      }
      case 2: out.emplace_back(topic("t" + std::to_string(pick(4)), static_cast<uint8_t>(pick(6)))); break;
      case 3: {
        std::vector<int32_t> r = {pick(5)};
        if (pick(2)) r.push_back((r[0] + 1) % 5);
        out.emplace_back(partition(static_cast<uint8_t>(pick(6)), pick(3), r, r[0]));
        break;
      }
      case 4: {
        PartitionChangeRecord c;
        c.topic_id = uuid(static_cast<uint8_t>(pick(6)));
        c.partition_id = pick(3);
        c.leader = pick(3) == 0 ? -2 : pick(6) - 1;
        if (pick(2)) c.isr = std::vector<int32_t>{pick(5)};
        out.emplace_back(c);
        break;
      }
      case 5: {
        ConfigRecord c;
        c.resource_type = pick(2) ? kTopicResource : kBrokerResource;
        c.resource_name = c.resource_type == kTopicResource ? "t" + std::to_string(pick(4)) : std::to_string(b);
        c.name = pick(2) ? "retention.ms" : "cleanup.policy";
        if (pick(3)) c.value = std::to_string(pick(1000));
        else c.value = std::nullopt;
        out.emplace_back(c);
        break;
      }
      case 6: {
        RemoveTopicRecord rm;
        rm.topic_id = uuid(static_cast<uint8_t>(pick(6)));
        out.emplace_back(rm);
        break;
      }
      case 7: {
        ProducerIdsRecord p;
        p.broker_id = b;
        p.next_producer_id = (i + 1) * 1000 - pick(2000);
        out.emplace_back(p);
        break;
      }
      default: {
        FeatureLevelRecord f;
        f.name = pick(2) ? "metadata.version" : "kraft.version";
        f.feature_level = static_cast<int16_t>(pick(3));
        out.emplace_back(f);
      }
    }
  }
  return out;
}

TEST(MetadataState, SnapshotReplayedThroughItsFramesGivesTheSameState) {
  int applied_total = 0;
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    MetadataState s, twin;
    for (const auto& r : history(seed, 80)) {
      auto e = s.apply(r);
      EXPECT_EQ(twin.apply(r), e);  // same log, same outcome, on every node
      if (e.empty()) ++applied_total;
    }
    EXPECT_EQ(s, twin);
    MetadataState replayed;
    for (const auto& r : s.snapshot()) {
      auto framed = decode_record(encode_record(r));
      ASSERT_TRUE(framed.ok()) << framed.error;
      ASSERT_EQ(replayed.apply(framed.value.record), "") << "seed " << seed;
    }
    EXPECT_EQ(replayed, s) << "seed " << seed;
    EXPECT_EQ(replayed.snapshot().size(), s.snapshot().size());
  }
  EXPECT_GT(applied_total, 200 * 20);  // the histories are not mostly rejected
}

}  // namespace
}  // namespace millrace::cluster
