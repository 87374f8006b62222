#include "cluster/controller/topic_control.h"

#include <gtest/gtest.h>

#include <map>

#include "cluster/controller/control_testing.h"

namespace millrace::cluster {
namespace {

using namespace records;
using testing::id_of;

MetadataState cluster_of(int brokers, std::vector<int> fenced = {}) {
  MetadataState s;
  for (int i = 1; i <= brokers; ++i) {
    RegisterBrokerRecord r;
    r.broker_id = i;
    r.broker_epoch = 100 + i;
    r.rack = "rack-" + std::to_string(i % 3);
    r.fenced = std::find(fenced.begin(), fenced.end(), i) != fenced.end();
    EXPECT_EQ(s.apply(r), "");
  }
  return s;
}

void apply_all(MetadataState& s, const ControlResult& r) {
  ASSERT_TRUE(r.ok()) << r.message;
  for (const auto& rec : r.records) ASSERT_EQ(s.apply(rec), "") << record_type_name(record_type(rec));
}

TEST(TopicControl, CreateTopicRecordsPlaceEveryPartitionAndApplyCleanly) {
  auto s = cluster_of(3);
  NewTopic t{"orders", 6, 3, {{"retention.ms", "60000"}}};
  auto r = create_topic(s, t, id_of(1));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.records.size(), 1u + 6u + 1u);
  apply_all(s, r);
  const auto* topic = s.topic("orders");
  ASSERT_TRUE(topic);
  ASSERT_EQ(topic->partitions.size(), 6u);
  std::map<int32_t, int> leaders;
  for (const auto& [i, p] : topic->partitions) {
    EXPECT_EQ(p.replicas.size(), 3u);
    EXPECT_EQ(p.isr, p.replicas);
    EXPECT_EQ(p.leader, p.replicas.front());
    ++leaders[p.leader];
  }
  for (const auto& [b, n] : leaders) EXPECT_EQ(n, 2) << "broker " << b;
  EXPECT_EQ(s.config(kTopicResource, "orders", "retention.ms"), "60000");
  EXPECT_EQ(create_topic(cluster_of(3), t, id_of(1)).records, r.records);  // deterministic
}

TEST(TopicControl, RefusalsCarryKafkasCodesAndChangeNothing) {
  auto s = cluster_of(3, {3});
  apply_all(s, create_topic(s, {"orders", 1, 1, {}}, id_of(1)));
  auto code = [&](const ControlResult& r) { return r.records.empty() ? r.error : int16_t(-1); };
  EXPECT_EQ(code(create_topic(s, {"orders", 1, 1, {}}, id_of(2))), 36);
  EXPECT_EQ(code(create_topic(s, {"bad name!", 1, 1, {}}, id_of(2))), 17);
  EXPECT_EQ(code(create_topic(s, {"zero", 0, 1, {}}, id_of(2))), 37);
  auto rf = create_topic(s, {"wide", 1, 3, {}}, id_of(2));  // broker 3 is fenced: 2 live
  EXPECT_EQ(code(rf), 38);
  EXPECT_EQ(rf.message, "Replication factor: 3 larger than available brokers: 2.");
  EXPECT_EQ(code(delete_topic(s, "nope")), 3);
  EXPECT_EQ(code(create_partitions(s, "orders", 1)), 37);
  EXPECT_EQ(code(create_partitions(s, "nope", 4)), 3);
}

TEST(TopicControl, ADefaultReplicationFactorIsCappedByTheLiveBrokers) {
  auto s = cluster_of(3, {3});  // two live brokers
  NewTopic by_default{"defaulted", 2, 3, {}, /*cap_to_live=*/true};
  auto r = create_topic(s, by_default, id_of(1));
  apply_all(s, r);
  for (const auto& [_, p] : s.topic("defaulted")->partitions) EXPECT_EQ(p.replicas.size(), 2u);
  auto one = cluster_of(1);  // make run
  apply_all(one, create_topic(one, by_default, id_of(2)));
  EXPECT_EQ(one.topic("defaulted")->partitions.at(0).replicas.size(), 1u);
  NewTopic narrow{"narrow", 1, 1, {}, true};  // a default below the brokers stays as it is
  apply_all(s, create_topic(s, narrow, id_of(3)));
  EXPECT_EQ(s.topic("narrow")->partitions.at(0).replicas.size(), 1u);
}

TEST(TopicControl, AddedPartitionsContinueThePlacementAndDeletionRemovesAll) {
  auto s = cluster_of(4);
  apply_all(s, create_topic(s, {"orders", 4, 2, {{"cleanup.policy", "compact"}}}, id_of(1)));
  auto grown = create_partitions(s, "orders", 8);
  ASSERT_TRUE(grown.ok()) << grown.message;
  EXPECT_EQ(grown.records.size(), 4u);
  apply_all(s, grown);
  EXPECT_EQ(s.topic("orders")->partitions.size(), 8u);
  for (const auto& [i, p] : s.topic("orders")->partitions) EXPECT_EQ(p.replicas.size(), 2u) << i;
  apply_all(s, delete_topic(s, "orders"));
  EXPECT_FALSE(s.topic("orders"));
  EXPECT_TRUE(s.configs().empty());
}

TEST(TopicControl, NewReplicasGoToTheLeastLoadedBrokers) {
  auto s = cluster_of(3);
  apply_all(s, create_topic(s, {"a", 2, 1, {}}, id_of(1)));  // brokers 1 and 2 (by rack stripe) get one each
  auto r = create_topic(s, {"b", 1, 1, {}}, id_of(2));
  ASSERT_TRUE(r.ok());
  std::map<int32_t, int> load;
  for (const auto& [_, t] : s.topics())
    for (const auto& [__, p] : t.partitions) ++load[p.replicas[0]];
  const auto& placed = std::get<PartitionRecord>(r.records[1]).replicas;
  EXPECT_EQ(load[placed[0]], 0) << "the new replica went to a loaded broker";
}

TEST(TopicControl, TheOffsetsTopicCannotBeDeleted) {
  auto s = cluster_of(1);
  apply_all(s, create_topic(s, {"__consumer_offsets", 1, 1, {}}, id_of(9)));
  EXPECT_EQ(delete_topic(s, "__consumer_offsets").error, 29);
}

}  // namespace
}  // namespace millrace::cluster

namespace millrace::cluster {
namespace {

TEST(TopicControl, AlterConfigsWritesOnlyWhatChanges) {
  MetadataState s;
  RegisterBrokerRecord b;
  b.broker_id = 1;
  b.broker_epoch = 1;
  b.fenced = false;
  ASSERT_EQ(s.apply(b), "");
  TopicId id{};
  id[15] = 7;
  auto t = create_topic(s, {"orders", 1, 1, {{"retention.ms", "1000"}, {"cleanup.policy", "delete"}}}, id);
  for (const auto& r : t.records) ASSERT_EQ(s.apply(r), "");
  // Merge: one key changed, one deleted, one unchanged: two records.
  auto merged = alter_topic_configs(s, "orders", {{"retention.ms", "2000"}, {"cleanup.policy", std::nullopt},
                                                   {"segment.ms", std::nullopt}}, false);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged.records.size(), 2u);
  for (const auto& r : merged.records) ASSERT_EQ(s.apply(r), "");
  EXPECT_EQ(s.config(kTopicResource, "orders", "retention.ms"), "2000");
  EXPECT_FALSE(s.config(kTopicResource, "orders", "cleanup.policy"));
  // Replace: keys not named go.
  auto replaced = alter_topic_configs(s, "orders", {{"segment.ms", "60000"}}, true);
  for (const auto& r : replaced.records) ASSERT_EQ(s.apply(r), "");
  EXPECT_FALSE(s.config(kTopicResource, "orders", "retention.ms"));
  EXPECT_EQ(s.config(kTopicResource, "orders", "segment.ms"), "60000");
  EXPECT_EQ(alter_topic_configs(s, "nope", {}, false).error, 3);
}

TEST(TopicControl, AdoptedTopicsKeepTheirIdsOnTheNode) {
  MetadataState s;
  TopicId id{};
  id[3] = 9;
  for (const auto& r : adopt_topic("old", id, 3, 1, {{"retention.ms", "5"}})) ASSERT_EQ(s.apply(r), "");
  ASSERT_TRUE(s.topic("old"));
  EXPECT_EQ(s.topic("old")->id, id);
  EXPECT_EQ(s.topic("old")->partitions.size(), 3u);
  EXPECT_EQ(s.topic("old")->partitions.at(2).leader, 1);
  EXPECT_EQ(s.config(kTopicResource, "old", "retention.ms"), "5");
}

}  // namespace
}  // namespace millrace::cluster
