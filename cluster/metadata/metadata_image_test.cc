#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cluster/metadata/local_image.h"
#include "cluster/metadata/metadata_cache.h"

namespace millrace::cluster {
namespace {

TopicId id_of(uint8_t b) {
  TopicId id{};
  id.fill(b);
  return id;
}

LocalNode node7() { return {.node_id = 7, .cluster_id = "c1", .host = "h", .port = 9, .rack = "r1"}; }

TEST(MetadataImage, LookupsByNameIdPartitionAndBroker) {
  auto img = build_local_image(3, node7(), {{"a", id_of(1), 2, false}, {"__consumer_offsets", id_of(2), 1, true}});
  EXPECT_EQ(img->version(), 3u);
  EXPECT_EQ(img->cluster_id(), "c1");
  ASSERT_NE(img->topic("a"), nullptr);
  EXPECT_EQ(img->topic("a")->partitions.size(), 2u);
  EXPECT_EQ(img->topic(id_of(2))->name, "__consumer_offsets");
  EXPECT_TRUE(img->topic(id_of(2))->internal);
  EXPECT_EQ(img->topic(id_of(9)), nullptr);
  EXPECT_EQ(img->topic("b"), nullptr);
  ASSERT_NE(img->partition("a", 1), nullptr);
  EXPECT_EQ(img->partition("a", 1)->index, 1);
  EXPECT_EQ(img->partition("a", 2), nullptr);
  EXPECT_EQ(img->partition("a", -1), nullptr);
  ASSERT_NE(img->broker(7), nullptr);
  EXPECT_EQ(img->broker(7)->rack, "r1");
  EXPECT_EQ(img->broker(1), nullptr);
}

// Who may take leadership (preferred leaders): a broker in controlled
// shutdown is still shown, but leads nothing new.
TEST(MetadataImage, LeaderCandidatesLeaveOutBrokersShuttingDown) {
  MetadataImage img(1, "c", 1,
                    {BrokerImage{1, "h", 9092, std::nullopt, false, false},
                     BrokerImage{2, "h", 9093, std::nullopt, false, true}},
                    {});
  EXPECT_NE(img.broker(2), nullptr);
  EXPECT_EQ(img.leader_candidates(), (std::set<int32_t>{1}));
}

// The one-node placement rule, in its one place: this node leads everything
// at epoch 0, replicas = ISR = {this node}, and is the controller.
TEST(LocalImage, OneNodePlacement) {
  auto img = build_local_image(1, node7(), {{"a", id_of(1), 3, false}});
  EXPECT_EQ(img->controller_id(), 7);
  ASSERT_EQ(img->brokers().size(), 1u);
  EXPECT_EQ(img->brokers()[0].host, "h");
  EXPECT_EQ(img->brokers()[0].port, 9);
  for (const auto& p : img->topic("a")->partitions) {
    EXPECT_EQ(p.leader, 7);
    EXPECT_EQ(p.leader_epoch, 0);
    EXPECT_EQ(p.replicas, std::vector<int32_t>{7});
    EXPECT_EQ(p.isr, std::vector<int32_t>{7});
  }
  LocalNode norack = node7();
  norack.rack.clear();
  EXPECT_FALSE(build_local_image(1, norack, {})->brokers()[0].rack.has_value());
}

TEST(MetadataCache, PublishesNewerImagesOnly) {
  MetadataCache cache;
  EXPECT_EQ(cache.current()->version(), 0u);
  EXPECT_EQ(cache.current()->topic("a"), nullptr);
  auto v2 = build_local_image(2, node7(), {{"a", id_of(1), 1, false}});
  EXPECT_TRUE(cache.publish(v2));
  auto snapshot = cache.current();
  EXPECT_FALSE(cache.publish(build_local_image(1, node7(), {})));  // older: ignored
  EXPECT_FALSE(cache.publish(build_local_image(2, node7(), {})));  // same version: ignored
  EXPECT_NE(cache.current()->topic("a"), nullptr);
  EXPECT_TRUE(cache.publish(build_local_image(3, node7(), {})));
  EXPECT_EQ(cache.current()->topic("a"), nullptr);
  EXPECT_NE(snapshot->topic("a"), nullptr);  // a reader's snapshot never changes under it
}

// Readers on several threads while a publisher moves versions forward: every
// snapshot is whole (its topic count matches its version) and versions never
// go back for a reader. Run under TSan by make tsan.
TEST(MetadataCache, ConcurrentReadersSeeWholeImagesInOrder) {
  MetadataCache cache;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r)
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!stop.load()) {
        auto img = cache.current();
        if (img->version() < last || img->topics().size() != img->version()) ++bad;
        last = img->version();
      }
    });
  std::vector<TopicSpec> topics;
  for (uint64_t v = 1; v <= 300; ++v) {
    topics.push_back({"t" + std::to_string(v), id_of(static_cast<uint8_t>(v)), 1, false});
    cache.publish(build_local_image(v, node7(), topics));
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(cache.current()->version(), 300u);
}

}  // namespace
}  // namespace millrace::cluster
