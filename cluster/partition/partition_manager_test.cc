// PartitionManager: adopts the LogManager's logs lazily, keeps one Partition
// per log, notices a log removed or replaced (and wakes the old partition's
// waiters), and routes a flush's high-watermark move to the right partition.
#include "cluster/partition/partition_manager.h"

#include <gtest/gtest.h>

#include "cluster/partition/image_leadership.h"
#include "cluster/partition/served_partition.h"
#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

using storage::testing::TempDir;

constexpr int32_t kSelf = 7;

class PartitionManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::LogManagerOptions o;
    o.log_dirs = {dir_.path()};
    o.start_housekeeping = false;
    auto m = storage::LogManager::open(o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    logs_ = std::move(m).value();
    partitions_ = std::make_unique<PartitionManager>(*logs_, kSelf);
  }
  void TearDown() override {
    partitions_.reset();
    (void)logs_->shutdown();
  }

  TempDir dir_;
  std::unique_ptr<storage::LogManager> logs_;
  std::unique_ptr<PartitionManager> partitions_;
  const storage::TopicPartition tp_{"t", 0};
};

TEST_F(PartitionManagerTest, AdoptsALogLazilyOncePerLog) {
  EXPECT_EQ(partitions_->get(tp_), nullptr);
  auto log = logs_->create(tp_);  // what the topic registry does today
  ASSERT_TRUE(log.ok());
  auto p = partitions_->get(tp_);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->log(), log.value());
  EXPECT_EQ(p->tp(), tp_);
  EXPECT_EQ(p->leadership(), sole_leader(kSelf));
  EXPECT_EQ(p->check_leader(kSelf, 0), proto::ErrorCode::kNone);
  EXPECT_EQ(partitions_->get(tp_), p);  // the same partition (and waiters) every time
  EXPECT_EQ(partitions_->get({"t", 1}), nullptr);
}

TEST_F(PartitionManagerTest, ReplacedLogIsANewPartitionAndWakesTheOldOnesWaiters) {
  ASSERT_TRUE(logs_->create(tp_).ok());
  auto old = partitions_->get(tp_);
  old->set_leadership({kSelf, LeaderEpoch(2), {kSelf}, {kSelf}});
  auto v = old->hw_waiters().version();
  ASSERT_TRUE(logs_->remove(tp_).ok());  // topic deleted and re-created under its name
  auto log = logs_->create(tp_);
  ASSERT_TRUE(log.ok());
  auto now = partitions_->get(tp_);
  ASSERT_NE(now, nullptr);
  EXPECT_NE(now, old);
  EXPECT_EQ(now->log(), log.value());
  EXPECT_EQ(now->leadership(), sole_leader(kSelf));  // facts of the new partition
  EXPECT_GT(old->hw_waiters().version(), v);         // a parked fetch looks again
}

TEST_F(PartitionManagerTest, RemovedLogIsForgotten) {
  ASSERT_TRUE(partitions_->create(tp_).ok());
  auto old = partitions_->get(tp_);
  ASSERT_NE(old, nullptr);
  auto v = old->hw_waiters().version();
  ASSERT_TRUE(logs_->remove(tp_).ok());
  EXPECT_EQ(partitions_->get(tp_), nullptr);
  EXPECT_GT(old->hw_waiters().version(), v);
  ASSERT_TRUE(partitions_->create(tp_).ok());
  ASSERT_TRUE(partitions_->remove(tp_).ok());
  EXPECT_EQ(partitions_->get(tp_), nullptr);
  EXPECT_EQ(logs_->get(tp_), nullptr);
}

TEST_F(PartitionManagerTest, SyncWithLogsLetsADeletedLogGo) {
  ASSERT_TRUE(logs_->create(tp_).ok());
  ASSERT_TRUE(logs_->create({"t", 1}).ok());
  auto kept = partitions_->get({"t", 1});
  std::weak_ptr<Partition> deleted = partitions_->get(tp_);
  auto v = deleted.lock()->hw_waiters().version();
  auto held = deleted.lock();
  ASSERT_TRUE(logs_->remove(tp_).ok());  // the topic registry deletes; nobody asks for it again
  partitions_->sync_with_logs();
  EXPECT_GT(held->hw_waiters().version(), v);  // a parked fetch looks again
  held.reset();
  EXPECT_TRUE(deleted.expired());  // the manager no longer keeps the log (its files) alive
  EXPECT_EQ(partitions_->get({"t", 1}), kept);
}

TEST_F(PartitionManagerTest, AdoptServesTheGivenLog) {
  auto log = logs_->create(tp_);
  ASSERT_TRUE(log.ok());
  auto p = partitions_->adopt(tp_, log.value());
  EXPECT_EQ(p->log(), log.value());
  EXPECT_EQ(partitions_->get(tp_), p);
}

TEST_F(PartitionManagerTest, HwMoveWakesOnlyThatPartition) {
  ASSERT_TRUE(partitions_->create(tp_).ok());
  ASSERT_TRUE(partitions_->create({"t", 1}).ok());
  auto p0 = partitions_->get(tp_);
  auto p1 = partitions_->get({"t", 1});
  auto v0 = p0->hw_waiters().version();
  auto v1 = p1->hw_waiters().version();
  partitions_->notify_hw_moved({"t", 1});
  partitions_->notify_hw_moved({"absent", 0});  // nobody holds it: nothing to do
  EXPECT_EQ(p0->hw_waiters().version(), v0);
  EXPECT_GT(p1->hw_waiters().version(), v1);
}

TEST_F(PartitionManagerTest, ServedPartitionAnswersUnknownAndOffline) {
  auto absent = served_partition(*partitions_, "t", 0);
  EXPECT_EQ(absent.partition, nullptr);
  EXPECT_EQ(absent.error_code, proto::code(proto::ErrorCode::kUnknownTopicOrPartition));
  ASSERT_TRUE(logs_->add_offline({"gone", 0}, storage::Status(storage::Errc::kStorageError, "lost")).ok());
  auto offline = served_partition(*partitions_, "gone", 0);
  EXPECT_EQ(offline.partition, nullptr);
  EXPECT_EQ(offline.error_code, proto::code(proto::ErrorCode::kKafkaStorageError));
  ASSERT_TRUE(partitions_->create(tp_).ok());
  auto ok = served_partition(*partitions_, "t", 0);
  ASSERT_NE(ok.partition, nullptr);
  EXPECT_EQ(ok.error_code, 0);
}

// apply_image_leadership (image_leadership.h): the partitions served here take
// their leadership facts from the published image, and the leadership checks
// answer from them.
TEST_F(PartitionManagerTest, ServedPartitionsTakeTheirLeadershipFromTheImage) {
  ASSERT_TRUE(logs_->create({"t", 0}).ok());
  ASSERT_TRUE(logs_->create({"t", 1}).ok());
  auto image = [](uint64_t version, std::vector<PartitionImage> parts) {
    TopicImage t;
    t.name = "t";
    t.partitions = std::move(parts);
    return MetadataImage(version, "c", kSelf, {BrokerImage{kSelf, "h", 9092, std::nullopt, false}}, {t});
  };
  // Partition 0 led by another node at epoch 5; partition 1 by this node at 3
  // (its only replica: one of several would be led through its Raft group,
  // partition_test.cc); partition 2 is in the image but has no replica here.
  auto img = image(1, {PartitionImage{0, 2, 5, {1, 2}, {2, 1}}, PartitionImage{1, kSelf, 3, {kSelf}, {kSelf}},
                       PartitionImage{2, 2, 0, {2}, {2}}});
  EXPECT_EQ(apply_image_leadership(img, *partitions_), 2);
  auto p0 = partitions_->get({"t", 0});
  auto p1 = partitions_->get({"t", 1});
  EXPECT_EQ(p0->image_facts(), (LeadershipFacts{2, LeaderEpoch(5), {1, 2}, {2, 1}}));
  EXPECT_EQ(p0->leadership().leader, -1);  // several replicas and no Raft group here: led by none of this broker's
  EXPECT_EQ(p0->check_leader(kSelf), proto::ErrorCode::kNotLeaderOrFollower);
  EXPECT_EQ(p1->check_leader(kSelf, 3), proto::ErrorCode::kNone);
  EXPECT_EQ(p1->check_leader(kSelf, 2), proto::ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(p1->check_leader(kSelf, 4), proto::ErrorCode::kUnknownLeaderEpoch);
  EXPECT_EQ(partitions_->get({"t", 2}), nullptr);
  // The same image again changes nothing; a newer one moves leadership back.
  EXPECT_EQ(apply_image_leadership(img, *partitions_), 0);
  apply_image_leadership(image(2, {PartitionImage{0, kSelf, 6, {kSelf}, {kSelf}}}), *partitions_);
  EXPECT_EQ(p0->check_leader(kSelf, 6), proto::ErrorCode::kNone);
  EXPECT_EQ(p1->leadership().leader_epoch, LeaderEpoch(3));  // not named: kept
}

}  // namespace
}  // namespace millrace::cluster
