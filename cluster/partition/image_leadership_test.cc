// apply_image_leadership: the partitions served here take their leadership
// facts from the published image, and the leadership checks answer from them.
#include "cluster/partition/image_leadership.h"

#include <gtest/gtest.h>

#include "storage/test_util.h"

namespace millrace::cluster {
namespace {

using storage::testing::TempDir;

constexpr int32_t kSelf = 1;

class ImageLeadershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::LogManagerOptions o;
    o.log_dirs = {dir_.path()};
    o.start_housekeeping = false;
    auto m = storage::LogManager::open(o);
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    logs_ = std::move(m).value();
    partitions_ = std::make_unique<PartitionManager>(*logs_, kSelf);
    ASSERT_TRUE(logs_->create({"t", 0}).ok());
    ASSERT_TRUE(logs_->create({"t", 1}).ok());
  }
  void TearDown() override {
    partitions_.reset();
    (void)logs_->shutdown();
  }
  static MetadataImage image(uint64_t version, std::vector<PartitionImage> parts) {
    TopicImage t;
    t.name = "t";
    t.partitions = std::move(parts);
    return MetadataImage(version, "c", kSelf, {BrokerImage{kSelf, "h", 9092, std::nullopt, false}}, {t});
  }

  TempDir dir_;
  std::unique_ptr<storage::LogManager> logs_;
  std::unique_ptr<PartitionManager> partitions_;
};

TEST_F(ImageLeadershipTest, ServedPartitionsTakeTheirFactsFromTheImage) {
  // Partition 0 led by another node at epoch 5; partition 1 by this node at 3;
  // partition 2 is in the image but has no replica here.
  auto img = image(1, {PartitionImage{0, 2, 5, {1, 2}, {2, 1}}, PartitionImage{1, kSelf, 3, {1, 2}, {1}},
                       PartitionImage{2, 2, 0, {2}, {2}}});
  EXPECT_EQ(apply_image_leadership(img, *partitions_), 2);
  auto p0 = partitions_->get({"t", 0});
  auto p1 = partitions_->get({"t", 1});
  EXPECT_EQ(p0->leadership(), (LeadershipFacts{2, LeaderEpoch(5), {1, 2}, {2, 1}}));
  EXPECT_EQ(p0->check_leader(kSelf), proto::ErrorCode::kNotLeaderOrFollower);
  EXPECT_EQ(p1->check_leader(kSelf, 3), proto::ErrorCode::kNone);
  EXPECT_EQ(p1->check_leader(kSelf, 2), proto::ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(p1->check_leader(kSelf, 4), proto::ErrorCode::kUnknownLeaderEpoch);
  EXPECT_EQ(partitions_->get({"t", 2}), nullptr);
  // The same image again changes nothing; a newer one moves leadership back.
  EXPECT_EQ(apply_image_leadership(img, *partitions_), 0);
  apply_image_leadership(image(2, {PartitionImage{0, kSelf, 6, {1, 2}, {1, 2}}}), *partitions_);
  EXPECT_EQ(p0->check_leader(kSelf, 6), proto::ErrorCode::kNone);
  EXPECT_EQ(p1->leadership().leader_epoch, LeaderEpoch(3));  // not named: kept
}

}  // namespace
}  // namespace millrace::cluster
