#include "cluster/controller/partition_leadership.h"

#include <gtest/gtest.h>

#include "cluster/controller/control_testing.h"

namespace millrace::cluster {
namespace {

using namespace records;
using testing::apply_all;
using testing::id_of;

// Brokers 1-3 registered (epochs 10, 20, 30) and unfenced; "orders" (id 1)
// with two partitions on all three, led by 1 at epoch 0; "single" (id 2) with
// one partition on broker 2 alone.
struct Cluster {
  MetadataState state;
  Cluster() {
    for (int32_t b = 1; b <= 3; ++b) {
      RegisterBrokerRecord r;
      r.broker_id = b;
      r.broker_epoch = 10 * b;
      r.fenced = false;
      apply_all(state, {r});
    }
    add_topic("orders", 1, {1, 2, 3}, 2);
    add_topic("single", 2, {2}, 1);
  }
  void add_topic(const std::string& name, uint8_t id, std::vector<int32_t> replicas, int32_t n) {
    TopicRecord t;
    t.name = name;
    t.topic_id.bytes = id_of(id);
    apply_all(state, {t});
    for (int32_t i = 0; i < n; ++i) {
      PartitionRecord p;
      p.topic_id.bytes = id_of(id);
      p.partition_id = i;
      p.replicas = replicas;
      p.isr = replicas;
      p.leader = replicas.front();
      apply_all(state, {p});
    }
  }
  const PartitionState& orders(int32_t i) const { return state.topic("orders")->partitions.at(i); }
};

PartitionLeadership leads(uint8_t topic, int32_t partition, int32_t leader, int32_t epoch, std::vector<int32_t> isr) {
  return {id_of(topic), partition, leader, epoch, std::move(isr)};
}

TEST(PartitionLeadership, ARaftLeadersReportIsWrittenWithItsTermAsTheEpoch) {
  Cluster c;
  auto r = report_leadership(c.state, {2, 20, {leads(1, 0, 2, 3, {2, 3}), leads(1, 1, 2, 4, {1, 2, 3})}});
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.records.size(), 2u);
  const auto& rec = std::get<PartitionLeaderRecord>(r.records[0]);
  EXPECT_EQ(rec.leader, 2);
  EXPECT_EQ(rec.leader_epoch, 3);
  EXPECT_EQ(rec.isr, (std::vector<int32_t>{2, 3}));
  apply_all(c.state, r.records);
  EXPECT_EQ(c.orders(0).leader, 2);
  EXPECT_EQ(c.orders(0).leader_epoch, 3);
  EXPECT_EQ(c.orders(1).leader_epoch, 4);
  EXPECT_EQ(c.state.image(1, "c", 1, "PLAINTEXT").partition("orders", 0)->leader_epoch, 3);
}

TEST(PartitionLeadership, AReportOfWhatTheStateAlreadySaysWritesNothing) {
  Cluster c;
  apply_all(c.state, report_leadership(c.state, {2, 20, {leads(1, 0, 2, 3, {2, 3})}}).records);
  auto again = report_leadership(c.state, {2, 20, {leads(1, 0, 2, 3, {2, 3})}});
  EXPECT_TRUE(again.ok());
  EXPECT_TRUE(again.records.empty());
  auto isr_grew = report_leadership(c.state, {2, 20, {leads(1, 0, 2, 3, {1, 2, 3})}});  // same term
  ASSERT_EQ(isr_grew.records.size(), 1u);
  apply_all(c.state, isr_grew.records);
  EXPECT_EQ(c.orders(0).isr, (std::vector<int32_t>{1, 2, 3}));
}

TEST(PartitionLeadership, AnOlderTermOrAnotherLeaderOfTheSameTermIsSkippedSilently) {
  Cluster c;
  apply_all(c.state, report_leadership(c.state, {3, 30, {leads(1, 0, 3, 5, {1, 2, 3})}}).records);
  const MetadataState before = c.state;
  auto older = report_leadership(c.state, {2, 20, {leads(1, 0, 2, 4, {2})}});
  EXPECT_TRUE(older.ok());
  EXPECT_TRUE(older.records.empty());
  auto same_term = report_leadership(c.state, {2, 20, {leads(1, 0, 2, 5, {2})}});
  EXPECT_TRUE(same_term.ok());
  EXPECT_TRUE(same_term.records.empty());
  EXPECT_EQ(c.state, before);
  auto newer = report_leadership(c.state, {2, 20, {leads(1, 0, 2, 6, {2, 3})}});
  EXPECT_EQ(newer.records.size(), 1u);
}

TEST(PartitionLeadership, OnlyTheLeaderReportsAndOnlyForReplicatedPartitions) {
  Cluster c;
  auto r = report_leadership(
      c.state, {2, 20,
                {leads(1, 0, 3, 7, {3}),           // names another leader
                 leads(2, 0, 2, 7, {2}),           // one replica: the controller places it
                 leads(1, 9, 2, 7, {2}),           // no such partition
                 leads(7, 0, 2, 7, {2}),           // no such topic
                 leads(1, 1, 2, 7, {2, 4}),        // ISR outside the replicas
                 leads(1, 1, 2, 7, {2, 1})}});     // the one that qualifies
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(std::get<PartitionLeaderRecord>(r.records[0]).partition_id, 1);
  EXPECT_NE(r.message.find("orders-0: names leader 3, not the reporter"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("single-0: has one replica"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("orders-9: unknown partition"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("in-sync replica 4 is not a replica"), std::string::npos) << r.message;
  apply_all(c.state, r.records);
}

TEST(PartitionLeadership, TheReporterMustBeRegisteredWithItsEpochAndNotFenced) {
  Cluster c;
  EXPECT_EQ(report_leadership(c.state, {9, 90, {leads(1, 0, 9, 1, {})}}).error, 102);
  EXPECT_EQ(report_leadership(c.state, {2, 19, {leads(1, 0, 2, 1, {2})}}).error, 77);
  FenceBrokerRecord f;
  f.id = 2;
  f.epoch = 20;
  apply_all(c.state, {f});
  auto fenced = report_leadership(c.state, {2, 20, {leads(1, 0, 2, 1, {2})}});
  EXPECT_EQ(fenced.error, 8);
  EXPECT_TRUE(fenced.records.empty());
}

TEST(PartitionLeadership, APartitionReportedTwiceIsJudgedAgainstItsFirstEntry) {
  Cluster c;
  auto r = report_leadership(c.state, {2, 20,
                                       {leads(1, 0, 2, 5, {2}), leads(1, 0, 2, 4, {2, 3}),  // older than the first
                                        leads(1, 0, 2, 5, {2}), leads(1, 0, 2, 5, {1, 2})}});
  ASSERT_EQ(r.records.size(), 2u);
  apply_all(c.state, r.records);  // each applies after the one before it
  EXPECT_EQ(c.orders(0).isr, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(c.orders(0).leader_epoch, 5);
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

// A move of orders-0 from {1,2,3} to {2,3,4} ends when the group's leader, one
// of the target, reports voters {2,3,4}: the same report's leadership first,
// then the record that ends the move.
TEST(PartitionLeadership, VotersThatAreTheTargetEndAReassignment) {
  Cluster c;
  RegisterBrokerRecord four;
  four.broker_id = 4;
  four.broker_epoch = 40;
  four.fenced = false;
  apply_all(c.state, {four});
  PartitionChangeRecord move;
  move.topic_id.bytes = id_of(1);
  move.partition_id = 0;
  move.replicas = std::vector<int32_t>{2, 3, 4, 1};
  move.adding_replicas = std::vector<int32_t>{4};
  move.removing_replicas = std::vector<int32_t>{1};
  apply_all(c.state, {move});
  auto with_voters = [](PartitionLeadership p, std::vector<int32_t> v) {
    p.voters = std::move(v);
    return p;
  };
  // Still joint / not yet the target: only leadership.
  auto r = report_leadership(c.state, {2, 20, {with_voters(leads(1, 0, 2, 5, {2, 3, 4}), {1, 2, 3, 4})}});
  ASSERT_EQ(r.records.size(), 1u);
  // The target: leadership, then the end of the move.
  r = report_leadership(c.state, {2, 20, {with_voters(leads(1, 0, 2, 5, {2, 3, 4}), {2, 3, 4})}});
  ASSERT_EQ(r.records.size(), 2u) << r.message;
  apply_all(c.state, r.records);
  EXPECT_EQ(c.orders(0).replicas, (std::vector<int32_t>{2, 3, 4}));
  EXPECT_TRUE(c.orders(0).adding.empty());
  EXPECT_TRUE(c.orders(0).removing.empty());
  EXPECT_EQ(c.orders(0).leader, 2);
  // A leader that is leaving reports the target's voters: no end yet.
  Cluster d;
  apply_all(d.state, {four});
  apply_all(d.state, {move});
  auto early = report_leadership(d.state, {1, 10, {with_voters(leads(1, 0, 1, 5, {1, 2, 3}), {2, 3, 4})}});
  ASSERT_EQ(early.records.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PartitionLeaderRecord>(early.records[0]));
}

}  // namespace
}  // namespace millrace::cluster
